//! The git worktree of a run isolated in one (docs/workflows.md,
//! "Isolation"): where it is, its branch, the commit it started from, and
//! whether it is still there.

use std::path::PathBuf;

use rusqlite::{params, OptionalExtension};

use crate::store::now_ms;
use crate::{RunId, Store, StoreError, UnknownName};

/// Where a run's worktree stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorktreeState {
    /// The run is to be isolated; its worktree is not made yet.
    Pending,
    /// The worktree is on disk.
    Active,
    /// Its patch was applied to the user's working tree; the worktree is
    /// gone (or goes at the next start).
    Applied,
    /// It was dropped; the worktree is gone (or goes at the next start).
    Discarded,
}

impl WorktreeState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorktreeState::Pending => "pending",
            WorktreeState::Active => "active",
            WorktreeState::Applied => "applied",
            WorktreeState::Discarded => "discarded",
        }
    }

    /// Whether the worktree should no longer exist.
    pub fn is_finished(self) -> bool {
        matches!(self, WorktreeState::Applied | WorktreeState::Discarded)
    }
}

impl std::str::FromStr for WorktreeState {
    type Err = UnknownName;
    fn from_str(text: &str) -> Result<Self, UnknownName> {
        [
            WorktreeState::Pending,
            WorktreeState::Active,
            WorktreeState::Applied,
            WorktreeState::Discarded,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| UnknownName {
            what: "worktree state",
            text: text.to_owned(),
        })
    }
}

/// A run's worktree as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    pub run: RunId,
    /// The worktree's directory (under the state directory).
    pub path: PathBuf,
    /// Its branch, `agentls/<run id>`.
    pub branch: String,
    /// The commit it started from (HEAD plus the user's uncommitted
    /// changes); `None` while pending.
    pub base: Option<String>,
    pub state: WorktreeState,
}

impl Store {
    /// Records that `run` is isolated in a worktree at `path` on `branch`
    /// (state pending).
    pub fn add_worktree(
        &self,
        run: &RunId,
        path: &std::path::Path,
        branch: &str,
    ) -> Result<(), StoreError> {
        self.lock()
            .conn
            .prepare_cached(
                "INSERT INTO worktrees (run_id, path, branch, state, updated_at) \
                 VALUES (?1, ?2, ?3, 'pending', ?4)",
            )?
            .execute(params![
                run.as_str(),
                path.to_string_lossy(),
                branch,
                now_ms()
            ])?;
        Ok(())
    }

    /// The worktree is on disk, started from `base`.
    pub fn worktree_created(&self, run: &RunId, base: &str) -> Result<(), StoreError> {
        self.lock()
            .conn
            .prepare_cached(
                "UPDATE worktrees SET base = ?2, state = 'active', updated_at = ?3 \
                 WHERE run_id = ?1",
            )?
            .execute(params![run.as_str(), base, now_ms()])?;
        Ok(())
    }

    /// Sets the worktree's state (applied, discarded).
    pub fn set_worktree_state(&self, run: &RunId, state: WorktreeState) -> Result<(), StoreError> {
        self.lock()
            .conn
            .prepare_cached("UPDATE worktrees SET state = ?2, updated_at = ?3 WHERE run_id = ?1")?
            .execute(params![run.as_str(), state.as_str(), now_ms()])?;
        Ok(())
    }

    /// The run's worktree, `None` for a run that is not isolated in one.
    pub fn worktree(&self, run: &RunId) -> Result<Option<Worktree>, StoreError> {
        let guard = self.lock();
        let mut stmt = guard.conn.prepare_cached(
            "SELECT run_id, path, branch, base, state FROM worktrees WHERE run_id = ?1",
        )?;
        Ok(stmt.query_row([run.as_str()], read).optional()?)
    }

    /// Every recorded worktree (for the start-up sweep).
    pub fn worktrees(&self) -> Result<Vec<Worktree>, StoreError> {
        let guard = self.lock();
        let mut stmt = guard
            .conn
            .prepare_cached("SELECT run_id, path, branch, base, state FROM worktrees")?;
        let rows = stmt.query_map([], read)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Worktree> {
    let state: String = row.get(4)?;
    Ok(Worktree {
        run: row.get(0)?,
        path: PathBuf::from(row.get::<_, String>(1)?),
        branch: row.get(2)?,
        base: row.get(3)?,
        state: state.parse().map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(err))
        })?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewRun, NewStep, WorkflowSource};

    fn a_run(store: &Store) -> RunId {
        store
            .create_run(&NewRun {
                workflow_name: "w".into(),
                workflow_source: WorkflowSource::User,
                workflow_path: None,
                workflow_content: String::new(),
                content_hash: String::new(),
                params: serde_json::json!({}),
                inputs: serde_json::json!({}),
                steps: vec![NewStep::new("a", "run")],
                owner: None,
            })
            .unwrap()
    }

    #[test]
    fn a_worktree_goes_from_pending_to_active_to_discarded() {
        let store = Store::open_in_memory().unwrap();
        let run = a_run(&store);
        assert_eq!(store.worktree(&run).unwrap(), None);
        store
            .add_worktree(&run, std::path::Path::new("/s/worktrees/r"), "agentls/r")
            .unwrap();
        let pending = store.worktree(&run).unwrap().unwrap();
        assert_eq!(
            (pending.state, pending.base),
            (WorktreeState::Pending, None)
        );
        store.worktree_created(&run, "abc").unwrap();
        store
            .set_worktree_state(&run, WorktreeState::Discarded)
            .unwrap();
        let all = store.worktrees().unwrap();
        assert_eq!(
            all,
            [Worktree {
                run,
                path: "/s/worktrees/r".into(),
                branch: "agentls/r".into(),
                base: Some("abc".into()),
                state: WorktreeState::Discarded,
            }]
        );
        assert!(all[0].state.is_finished());
    }
}

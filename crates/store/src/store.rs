//! `Store`: one SQLite database per workspace holding runs, steps and trust
//! approvals. Opening configures durability (WAL, synchronous=FULL: a
//! transaction is on disk when `commit` returns, so the engine may announce a
//! transition right after) and applies migrations. The store is synchronous;
//! async callers use `spawn_blocking` or a dedicated thread.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use crate::id::{normalise_prefix, IdGen};
use crate::sql::{self, idx_sql};
use crate::{
    schema, NewRun, RunId, RunRecord, RunStatus, RunSummary, StepResult, StepStatus, StoreError,
    WriteTx,
};

/// How long a write waits for another process (say `agentls run` next to the
/// server) to release the database before failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many candidates an ambiguous prefix error lists.
const MAX_CANDIDATES: usize = 10;

/// The checkpoint store of one workspace. Cheap to clone; clones share one
/// connection, so writes from several threads are serialised here rather
/// than contending inside SQLite.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
}

pub(crate) struct Inner {
    pub(crate) conn: Connection,
    ids: IdGen,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// Whether a commit waits until it is on disk (`synchronous=FULL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Survives power loss once `write` returns.
    Durable,
    /// Survives a crash of the process; the next durable commit syncs it.
    Relaxed,
}

impl Store {
    /// Opens (creating if needed) the database file at `path`. The directory
    /// must exist. Sets WAL, synchronous=FULL, foreign keys and a busy
    /// timeout, then migrates the schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        let mode = enable_wal(&conn).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open_err(rusqlite::Error::InvalidParameterName(format!(
                "the file system refused write-ahead logging (journal_mode stayed {mode})"
            ))));
        }
        schema::migrate(&mut conn)?;
        Ok(Store::from_connection(conn))
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: ":memory:".into(),
            source,
        };
        let mut conn = Connection::open_in_memory().map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        schema::migrate(&mut conn)?;
        Ok(Store::from_connection(conn))
    }

    fn from_connection(conn: Connection) -> Store {
        Store {
            inner: Arc::new(Mutex::new(Inner {
                conn,
                ids: IdGen::default(),
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written
        // transaction behind (dropping it rolls back), so the connection is
        // still sound after poisoning.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one write transaction and commits it (one fsync) if `f`
    /// returns `Ok`; any error rolls everything back. Use it to commit a
    /// step's result and the run's next status together.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write_with(Durability::Durable, f)
    }

    /// Like [`Store::write`], choosing whether the commit waits for the disk.
    /// [`Durability::Relaxed`] suits changes that a crash may lose without
    /// harm (a step marked `running` that reverts to `pending`): the commit
    /// is visible to every reader and survives a process crash, and the next
    /// durable commit syncs it too (WAL frames are synced in order).
    pub fn write_with<T>(
        &self,
        durability: Durability,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.lock();
        if durability == Durability::Relaxed {
            guard.conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        let result = Self::transact(&mut guard, f);
        if durability == Durability::Relaxed {
            guard.conn.pragma_update(None, "synchronous", "FULL")?;
        }
        result
    }

    fn transact<T>(
        guard: &mut MutexGuard<'_, Inner>,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Inner { conn, ids } = &mut **guard;
        // IMMEDIATE takes the write lock up front: a deferred transaction that
        // read first could not wait for another process's writer (SQLite
        // returns BUSY at once when a read snapshot must become a write).
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut write = WriteTx {
            tx,
            ids,
            now: now_ms(),
        };
        let value = f(&mut write)?;
        write.tx.commit()?;
        Ok(value)
    }

    /// Runs found `running` (or `queued`) at start-up become `interrupted`
    /// and their `running` steps `pending` again. Call once when opening a
    /// workspace, before starting any run. Returns the runs it changed.
    pub fn recover_interrupted(&self) -> Result<Vec<RunId>, StoreError> {
        self.write(|tx| tx.recover_interrupted(&mut |_, _| true))
    }

    /// Like [`Store::recover_interrupted`], for the runs `orphaned` says no
    /// live process is driving.
    pub fn recover_orphaned(
        &self,
        mut orphaned: impl FnMut(&RunId, Option<&str>) -> bool,
    ) -> Result<Vec<RunId>, StoreError> {
        self.write(|tx| tx.recover_interrupted(&mut orphaned))
    }

    /// Creates a `queued` run with `pending` steps in one transaction.
    pub fn create_run(&self, new: &NewRun) -> Result<RunId, StoreError> {
        self.write(|tx| tx.create_run(new))
    }

    /// Moves the run to `status` (refused unless `RunStatus::can_become`).
    pub fn set_run_status(
        &self,
        run: &RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(|tx| tx.set_run_status(run, status, error))
    }

    /// Starts an attempt of step `idx` (see `WriteTx::start_step`).
    pub fn start_step(&self, run: &RunId, idx: usize) -> Result<(), StoreError> {
        // A crash loses nothing by forgetting that a step started: recovery
        // turns a `running` step back into `pending` anyway.
        self.write_with(Durability::Relaxed, |tx| tx.start_step(run, idx))
    }

    /// Records step `idx`'s result (see `WriteTx::finish_step`).
    pub fn finish_step(
        &self,
        run: &RunId,
        idx: usize,
        result: &StepResult,
    ) -> Result<(), StoreError> {
        self.write(|tx| tx.finish_step(run, idx, result))
    }

    /// Moves step `idx` to `status` (see `WriteTx::set_step_status`).
    pub fn set_step_status(
        &self,
        run: &RunId,
        idx: usize,
        status: StepStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(|tx| tx.set_step_status(run, idx, status, error))
    }

    /// Records step `idx`'s result and, if given, the run's next status and
    /// error, in one transaction: both are committed or neither.
    pub fn commit_step(
        &self,
        run: &RunId,
        idx: usize,
        result: &StepResult,
        next_run_status: Option<(RunStatus, Option<&str>)>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.finish_step(run, idx, result)?;
            if let Some((status, error)) = next_run_status {
                tx.set_run_status(run, status, error)?;
            }
            Ok(())
        })
    }

    /// The run with its steps (without output texts).
    pub fn run(&self, run: &RunId) -> Result<RunRecord, StoreError> {
        let mut guard = self.lock();
        // One read transaction, so the run and its steps are one snapshot
        // even if another process writes in between.
        let tx = guard.conn.transaction()?;
        let mut record = tx
            .prepare_cached(&format!(
                "SELECT {} FROM runs WHERE id = ?1",
                sql::RUN_COLUMNS
            ))?
            .query_row([run], sql::run_record)
            .optional()?
            .ok_or_else(|| StoreError::UnknownRun(run.to_string()))?;
        record.steps = tx
            .prepare_cached(&format!(
                "SELECT {} FROM steps WHERE run_id = ?1 ORDER BY idx",
                sql::STEP_COLUMNS
            ))?
            .query_map([run], sql::step_record)?
            .collect::<Result<_, _>>()?;
        Ok(record)
    }

    /// The `limit` most recent runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        let guard = self.lock();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let runs = guard
            .conn
            .prepare_cached(&format!(
                "{} ORDER BY r.id DESC LIMIT ?1",
                sql::SUMMARY_SELECT
            ))?
            .query_map([limit], sql::run_summary)?
            .collect::<Result<_, _>>()?;
        Ok(runs)
    }

    /// Runs that are not finished (neither completed nor cancelled), oldest
    /// first: the ones running, waiting or paused for the user.
    pub fn unfinished_runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        let guard = self.lock();
        let runs = guard
            .conn
            .prepare_cached(&format!(
                "{} WHERE r.status NOT IN ('completed', 'cancelled') ORDER BY r.id",
                sql::SUMMARY_SELECT
            ))?
            .query_map([], sql::run_summary)?
            .collect::<Result<_, _>>()?;
        Ok(runs)
    }

    /// The run whose id starts with `prefix` (case-insensitive). Errors when
    /// no run or several runs match.
    pub fn resolve_run(&self, prefix: &str) -> Result<RunId, StoreError> {
        let prefix = normalise_prefix(prefix)?;
        let guard = self.lock();
        // Every id character sorts below '{', so this range is the prefix
        // match, and it uses the primary key index.
        let limit = i64::try_from(MAX_CANDIDATES + 1).unwrap_or(i64::MAX);
        let matches: Vec<RunId> = guard
            .conn
            .prepare_cached(
                "SELECT id FROM runs WHERE id >= ?1 AND id < ?1 || '{' ORDER BY id LIMIT ?2",
            )?
            .query_map(params![prefix, limit], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        match matches.as_slice() {
            [] => Err(StoreError::UnknownRun(prefix)),
            [only] => Ok(only.clone()),
            several => {
                let mut candidates: Vec<String> = several
                    .iter()
                    .take(MAX_CANDIDATES)
                    .map(|id| id.to_string())
                    .collect();
                if several.len() > MAX_CANDIDATES {
                    candidates.push("...".into());
                }
                Err(StoreError::AmbiguousRun { prefix, candidates })
            }
        }
    }

    /// The full stored output text of the step with workflow id `step_id`.
    pub fn step_output(&self, run: &RunId, step_id: &str) -> Result<String, StoreError> {
        self.output_where(run, "step_id = ?2", &step_id, || format!("`{step_id}`"))
    }

    /// The full stored output text of step `idx`.
    pub fn step_output_at(&self, run: &RunId, idx: usize) -> Result<String, StoreError> {
        self.output_where(run, "idx = ?2", &idx_sql(idx), || format!("#{idx}"))
    }

    fn output_where(
        &self,
        run: &RunId,
        condition: &str,
        step: &dyn rusqlite::ToSql,
        describe_step: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        let guard = self.lock();
        let output = guard
            .conn
            .prepare_cached(&format!(
                "SELECT output FROM steps WHERE run_id = ?1 AND {condition}"
            ))?
            .query_row(params![run, step], |row| row.get(0))
            .optional()?;
        if let Some(output) = output {
            return Ok(output);
        }
        let run_exists: bool = guard
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)")?
            .query_row([run], |row| row.get(0))?;
        Err(if run_exists {
            StoreError::UnknownStep {
                run: run.clone(),
                step: describe_step(),
            }
        } else {
            StoreError::UnknownRun(run.to_string())
        })
    }

    /// Whether the user approved workflow or config content with this hash.
    pub fn is_trusted(&self, content_hash: &str) -> Result<bool, StoreError> {
        let guard = self.lock();
        let trusted = guard
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM trust WHERE content_hash = ?1)")?
            .query_row([content_hash], |row| row.get(0))?;
        Ok(trusted)
    }

    /// Remembers that the user approved the content with this hash (found at
    /// `path`). Approving again refreshes the path and time.
    pub fn trust(&self, content_hash: &str, path: &Path) -> Result<(), StoreError> {
        let guard = self.lock();
        guard
            .conn
            .prepare_cached(
                "INSERT INTO trust (content_hash, path, approved_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (content_hash) DO UPDATE \
                 SET path = excluded.path, approved_at = excluded.approved_at",
            )?
            .execute(params![content_hash, path.to_string_lossy(), now_ms()])?;
        Ok(())
    }

    /// Runs SQLite's `PRAGMA integrity_check`; returns the problems found
    /// (empty when the file is sound). For `agentls doctor`.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let guard = self.lock();
        let lines: Vec<String> = guard
            .conn
            .prepare("PRAGMA integrity_check")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines.into_iter().filter(|line| line != "ok").collect())
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // FULL in WAL mode syncs the log on every commit: a committed step
    // survives power loss, which is what lets the engine announce it.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// Switches the file to WAL (a no-op when it already is). The switch needs an
/// exclusive lock and SQLite does not run the busy handler for it, so when
/// several processes open a fresh file at once the losers retry here.
fn enable_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Err(rusqlite::Error::SqliteFailure(err, _))
                if matches!(
                    err.code,
                    ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
                ) && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pragma(store: &Store, name: &str) -> i64 {
        store
            .lock()
            .conn
            .pragma_query_value(None, name, |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_relaxed_write_leaves_later_commits_durable_even_when_it_fails() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("agentls.db")).unwrap();
        store.write_with(Durability::Relaxed, |_| Ok(())).unwrap();
        assert_eq!(pragma(&store, "synchronous"), 2, "back to FULL");
        let failed = store.write_with(Durability::Relaxed, |_| -> Result<(), StoreError> {
            Err(StoreError::UnknownRun("x".into()))
        });
        assert!(failed.is_err());
        assert_eq!(
            pragma(&store, "synchronous"),
            2,
            "back to FULL after an error"
        );
    }

    #[test]
    fn open_makes_commits_durable_and_enforces_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("agentls.db")).unwrap();
        assert_eq!(pragma(&store, "synchronous"), 2, "synchronous=FULL");
        assert_eq!(pragma(&store, "foreign_keys"), 1);
        assert!(pragma(&store, "busy_timeout") >= 1000);
        let mode: String = store
            .lock()
            .conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn store_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<Store>();
    }

    #[test]
    fn a_panic_inside_a_write_rolls_back_and_leaves_the_store_usable() {
        let store = Store::open_in_memory().unwrap();
        let panicking = store.clone();
        let outcome = std::thread::spawn(move || {
            panicking.write(|tx| -> Result<(), StoreError> {
                tx.create_run(&NewRun {
                    workflow_name: "w".into(),
                    workflow_source: crate::WorkflowSource::Builtin,
                    workflow_path: None,
                    workflow_content: String::new(),
                    content_hash: "h".into(),
                    params: serde_json::Value::Null,
                    inputs: serde_json::Value::Null,
                    steps: vec![crate::NewStep::new("a", "run")],
                    owner: None,
                })?;
                panic!("engine bug while holding the store");
            })
        })
        .join();
        assert!(outcome.is_err(), "the write panicked");
        // The mutex is poisoned; the store recovers it and the run is gone.
        assert!(store.runs(1).unwrap().is_empty());
        assert!(store.integrity_check().unwrap().is_empty());
    }
}

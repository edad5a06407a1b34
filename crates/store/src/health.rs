//! [`Health`]: what a store file holds and whether SQLite finds it sound,
//! read without changing it, for `agentls doctor`.

use crate::{RunId, RunStatus, Store, StoreError, SCHEMA_VERSION};

/// The state of an open store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `PRAGMA user_version`: the schema version of the file.
    pub schema_version: u32,
    /// What [`Store::integrity_check`] found; empty when the file is sound.
    pub problems: Vec<String>,
    /// How many runs the store holds.
    pub runs: u64,
    /// The runs that are not finished (neither completed nor cancelled),
    /// oldest first, with the process that drives them (see
    /// [`crate::WriteTx::set_owner`]).
    pub unfinished: Vec<(RunId, RunStatus, Option<String>)>,
}

impl Health {
    /// Whether the file is sound and of the schema this build writes.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.schema_version == SCHEMA_VERSION
    }
}

impl Store {
    /// Checks the whole file (`PRAGMA integrity_check`, which reads every
    /// page) and reports its schema version, its run count and who drives
    /// its unfinished runs. Writes nothing.
    pub fn health(&self) -> Result<Health, StoreError> {
        let problems = self.integrity_check()?;
        let guard = self.lock();
        let conn = &guard.conn;
        let schema_version = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let runs: i64 = conn.query_row("SELECT count(*) FROM runs", [], |row| row.get(0))?;
        let unfinished = conn
            .prepare(
                "SELECT id, status, owner FROM runs \
                 WHERE status NOT IN ('completed', 'cancelled') ORDER BY id",
            )?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_, _>>()?;
        Ok(Health {
            schema_version,
            problems,
            runs: u64::try_from(runs).unwrap_or(0),
            unfinished,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_store_is_healthy_and_empty() {
        let store = Store::open_in_memory().unwrap();
        let health = store.health().unwrap();
        assert!(health.is_ok(), "{health:?}");
        assert_eq!(health.schema_version, SCHEMA_VERSION);
        assert_eq!(health.runs, 0);
        assert!(health.unfinished.is_empty());
    }
}

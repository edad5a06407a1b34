//! The database schema as an append-only list of migrations. The schema
//! version lives in `PRAGMA user_version`; each migration runs in its own
//! transaction together with the version bump, so a crash mid-upgrade leaves
//! the previous version intact. Never edit a shipped migration: add one.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// Migration `i` (from 0) brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE runs (
    id               TEXT PRIMARY KEY NOT NULL,
    workflow_name    TEXT NOT NULL,
    workflow_source  TEXT NOT NULL CHECK (workflow_source IN ('builtin', 'user', 'workspace')),
    workflow_path    TEXT,
    workflow_content TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    params           TEXT NOT NULL,
    inputs           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
        ('queued', 'running', 'waiting', 'failed', 'interrupted', 'cancelled', 'completed')),
    error            TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE steps (
    run_id           TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx              INTEGER NOT NULL,
    step_id          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
        ('pending', 'running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled')),
    attempt          INTEGER NOT NULL DEFAULT 0,
    exit_code        INTEGER,
    output           TEXT NOT NULL DEFAULT '',
    output_truncated INTEGER NOT NULL DEFAULT 0,
    outputs          TEXT,
    error            TEXT,
    started_at       INTEGER,
    finished_at      INTEGER,
    input_tokens     INTEGER,
    output_tokens    INTEGER,
    cached_tokens    INTEGER,
    provider         TEXT,
    model            TEXT,
    latency_ms       INTEGER,
    PRIMARY KEY (run_id, idx),
    UNIQUE (run_id, step_id)
);

CREATE TABLE trust (
    content_hash TEXT PRIMARY KEY NOT NULL,
    path         TEXT NOT NULL,
    approved_at  INTEGER NOT NULL
);
"#,
    // 2: which process drives a run, so start-up recovery leaves alone the
    // runs another live agentls process (an editor's server, a CLI) drives.
    r#"
ALTER TABLE runs ADD COLUMN owner TEXT;
"#,
    // 3: one row per model call (every attempt of every prompt step, each
    // provider of a fan-out, failures included), for `agentls stats`.
    r#"
CREATE TABLE model_calls (
    run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_idx       INTEGER NOT NULL,
    attempt        INTEGER NOT NULL,
    provider       TEXT NOT NULL,
    model          TEXT,
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    cached_tokens  INTEGER,
    latency_ms     INTEGER NOT NULL,
    first_chunk_ms INTEGER,
    error_type     TEXT,
    at             INTEGER NOT NULL
);
CREATE INDEX model_calls_by_time ON model_calls (at);
"#,
    // 4: agent steps. The conversation message by message (opaque JSON
    // here), each tool call with its status and result, and the approvals
    // a user gave "for the rest of this run". A resumed agent step reads
    // its conversation back from these; a completed call is never run again.
    r#"
CREATE TABLE agent_messages (
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_idx      INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    segment       INTEGER NOT NULL,
    message       TEXT NOT NULL,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    at            INTEGER NOT NULL,
    PRIMARY KEY (run_id, step_idx, seq)
);
CREATE TABLE tool_calls (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_idx    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    pos         INTEGER NOT NULL,
    call_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    input       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN
        ('waiting', 'approved', 'running', 'completed', 'rejected')),
    starts      INTEGER NOT NULL DEFAULT 0,
    result      TEXT,
    is_error    INTEGER NOT NULL DEFAULT 0,
    summary     TEXT,
    ask_kind    TEXT,
    ask_subject TEXT,
    started_at  INTEGER,
    finished_at INTEGER,
    PRIMARY KEY (run_id, step_idx, seq, pos)
);
CREATE TABLE agent_grants (
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (run_id, kind, subject)
);
"#,
    // 5: the git worktree a run isolated in (docs/workflows.md,
    // "Isolation"): a row from the start of a worktree run; `base` once
    // the worktree exists; the state says whether it is still on disk.
    r#"
CREATE TABLE worktrees (
    run_id     TEXT PRIMARY KEY NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    branch     TEXT NOT NULL,
    base       TEXT,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'active', 'applied', 'discarded')),
    updated_at INTEGER NOT NULL
);
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database up to `SCHEMA_VERSION`. Safe to call on every open
/// and from several processes at once: the version is re-read inside a
/// write transaction, so a migration another process applied is not re-run.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: u32 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        let Some(sql) = MIGRATIONS.get(current as usize) else {
            return Ok(());
        };
        let version = current + 1;
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .and_then(|()| tx.commit())
            .map_err(|source| StoreError::Migrate { version, source })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> u32 {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn), SCHEMA_VERSION);
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn), SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
        assert_eq!(version(&conn), SCHEMA_VERSION + 1);
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A table the first migration wants to create already exists.
        conn.execute_batch("CREATE TABLE trust (x INTEGER)")
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(err, StoreError::Migrate { version: 1, .. }),
            "{err}"
        );
        assert_eq!(version(&conn), 0);
        let runs_exists: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'runs'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert!(!runs_exists, "the half-applied migration was rolled back");
    }
}

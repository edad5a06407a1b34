//! The store on a real database file: durability settings, migrations on
//! reopen, crash recovery across processes' lifetimes, concurrent writers and
//! file integrity.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::thread;

use agentls_store::{RunId, RunStatus, StepResult, StepStatus, Store, StoreError, SCHEMA_VERSION};
use common::{new_run, three_step_run};
use rusqlite::Connection;

fn raw(path: &Path) -> Connection {
    Connection::open(path).expect("raw connection")
}

fn pragma_text(conn: &Connection, name: &str) -> String {
    conn.pragma_query_value(None, name, |row| row.get::<_, rusqlite::types::Value>(0))
        .map(|value| match value {
            rusqlite::types::Value::Text(text) => text,
            rusqlite::types::Value::Integer(n) => n.to_string(),
            other => format!("{other:?}"),
        })
        .expect("pragma")
}

#[test]
fn the_database_file_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agentls.db");
    let _store = Store::open(&path).unwrap();
    assert_eq!(pragma_text(&raw(&path), "journal_mode"), "wal");
}

#[test]
fn reopening_keeps_data_and_does_not_migrate_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agentls.db");
    let id = {
        let store = Store::open(&path).unwrap();
        store.trust("sha256:1", "a.toml".as_ref()).unwrap();
        three_step_run(&store)
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(
        pragma_text(&raw(&path), "user_version"),
        SCHEMA_VERSION.to_string()
    );
    assert_eq!(store.run(&id).unwrap().status, RunStatus::Queued);
    assert!(store.is_trusted("sha256:1").unwrap());
    drop(store);
    // A third open over the same file is just as uneventful.
    assert_eq!(Store::open(&path).unwrap().runs(10).unwrap().len(), 1);
}

#[test]
fn a_database_from_a_newer_agentls_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agentls.db");
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 5)
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
    assert!(err.to_string().contains("upgrade agentls"), "{err}");
}

#[test]
fn opening_in_a_missing_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("agentls.db");
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn a_run_left_running_by_a_crash_is_interrupted_on_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agentls.db");
    let id = {
        let store = Store::open(&path).unwrap();
        let id = three_step_run(&store);
        store
            .write(|tx| {
                tx.set_run_status(&id, RunStatus::Running, None)?;
                tx.start_step(&id, 0)
            })
            .unwrap();
        // The process "dies" here: the store is dropped without any cleanup.
        id
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.recover_interrupted().unwrap(),
        std::slice::from_ref(&id)
    );
    let run = store.run(&id).unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
    assert_eq!(run.steps[0].status, StepStatus::Pending);
}

/// Drives one run from creation to completion in two commits, as the engine
/// does for a one-step workflow.
fn complete_one_run(store: &Store) -> Result<RunId, StoreError> {
    let id = store.create_run(&new_run(&["only"]))?;
    store.write(|tx| {
        tx.set_run_status(&id, RunStatus::Running, None)?;
        tx.start_step(&id, 0)?;
        tx.finish_step(&id, 0, &StepResult::new(StepStatus::Completed, "ok"))?;
        tx.set_run_status(&id, RunStatus::Completed, None)
    })?;
    Ok(id)
}

fn hammer(stores: Vec<Store>, runs_per_thread: usize) -> Vec<RunId> {
    let handles: Vec<_> = stores
        .into_iter()
        .map(|store| {
            thread::spawn(move || {
                (0..runs_per_thread)
                    .map(|_| complete_one_run(&store))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|handle| {
            handle
                .join()
                .expect("thread panicked")
                .unwrap_or_else(|err| panic!("a write failed under contention: {err}"))
        })
        .collect()
}

fn assert_all_completed(store: &Store, ids: &[RunId], expected: usize) {
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), expected, "every run got its own id");
    let listed = store.runs(expected + 10).unwrap();
    assert_eq!(listed.len(), expected);
    assert!(listed.iter().all(|run| run.status == RunStatus::Completed));
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn clones_of_one_store_write_concurrently_without_busy_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agentls.db");
    let store = Store::open(&path).unwrap();
    let ids = hammer(vec![store.clone(); 8], 50);
    assert_all_completed(&store, &ids, 400);
}

#[test]
fn separate_connections_to_one_file_wait_for_each_other() {
    // Like the server and an `agentls run` in a shell sharing a workspace.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agentls.db");
    let first = Store::open(&path).unwrap();
    let stores: Vec<_> = (0..8).map(|_| Store::open(&path).unwrap()).collect();
    let ids = hammer(stores, 25);
    assert_all_completed(&first, &ids, 200);
}

#[test]
fn the_database_file_passes_sqlites_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agentls.db");
    {
        let store = Store::open(&path).unwrap();
        for _ in 0..20 {
            complete_one_run(&store).unwrap();
        }
        let id = three_step_run(&store);
        store.set_run_status(&id, RunStatus::Running, None).unwrap();
        store.start_step(&id, 0).unwrap();
        let big = "x".repeat(2 * 1024 * 1024);
        store
            .finish_step(&id, 0, &StepResult::new(StepStatus::Failed, big))
            .unwrap();
    }
    let conn = raw(&path);
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(result, "ok");
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
}

#[test]
fn several_processes_opening_a_fresh_file_at_once_all_succeed() {
    // The first open of a workspace may race (editor and CLI starting
    // together): switching to WAL and migrating must not fail for either.
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agentls.db");
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                thread::spawn(move || Store::open(&path).map(|store| complete_one_run(&store)))
            })
            .collect();
        for handle in handles {
            let opened = handle.join().expect("thread panicked");
            let store_result = opened.unwrap_or_else(|err| panic!("open failed: {err}"));
            store_result.unwrap_or_else(|err| panic!("write failed: {err}"));
        }
        assert_eq!(Store::open(&path).unwrap().runs(100).unwrap().len(), 8);
    }
}

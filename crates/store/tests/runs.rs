//! The run and step API against an in-memory store: creation, transitions,
//! atomic commits, recovery, history and prefix resolution.

mod common;

use agentls_store::{RunStatus, StepResult, StepStatus, Store, StoreError, Usage, WorkflowSource};
use common::{new_run, three_step_run};
use serde_json::json;

fn store() -> Store {
    Store::open_in_memory().expect("in-memory store")
}

#[test]
fn create_run_stores_a_queued_run_with_pending_steps_and_its_snapshot() {
    let store = store();
    let new = new_run(&["test", "fix"]);
    let id = store.create_run(&new).unwrap();
    let run = store.run(&id).unwrap();
    assert_eq!(run.id, id);
    assert_eq!(run.status, RunStatus::Queued);
    assert_eq!(run.workflow_name, "fix-tests");
    assert_eq!(run.workflow_source, WorkflowSource::Workspace);
    assert_eq!(run.workflow_path, new.workflow_path);
    assert_eq!(run.workflow_content, new.workflow_content);
    assert_eq!(run.content_hash, "sha256:abc");
    assert_eq!(run.params, json!({ "crate": "store" }));
    assert_eq!(run.inputs, new.inputs);
    assert_eq!(run.finished_at, None);
    assert_eq!(run.created_at, run.updated_at);
    let steps: Vec<_> = run
        .steps
        .iter()
        .map(|s| {
            (
                s.idx,
                s.step_id.as_str(),
                s.kind.as_str(),
                s.status,
                s.attempt,
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (0, "test", "run", StepStatus::Pending, 0),
            (1, "fix", "run", StepStatus::Pending, 0)
        ]
    );
}

#[test]
fn duplicate_step_ids_are_refused_and_nothing_is_created() {
    let store = store();
    let err = store.create_run(&new_run(&["a", "b", "a"])).unwrap_err();
    assert!(
        matches!(err, StoreError::DuplicateStep(ref id) if id == "a"),
        "{err}"
    );
    assert!(store.runs(10).unwrap().is_empty());
}

#[test]
fn a_step_attempt_records_its_result_and_usage() {
    let store = store();
    let id = three_step_run(&store);
    store.set_run_status(&id, RunStatus::Running, None).unwrap();
    store.start_step(&id, 0).unwrap();
    let running = store.run(&id).unwrap();
    assert_eq!(running.steps[0].status, StepStatus::Running);
    assert_eq!(running.steps[0].attempt, 1);
    assert!(running.steps[0].started_at.is_some());

    let result = StepResult {
        exit_code: Some(0),
        output_truncated: true,
        outputs: Some(json!({ "claude": "answer" })),
        usage: Usage {
            input_tokens: Some(120),
            output_tokens: Some(40),
            cached_tokens: Some(100),
            provider: Some("claude".into()),
            model: Some("claude-sonnet".into()),
            latency_ms: Some(850),
        },
        ..StepResult::new(StepStatus::Completed, "all 12 tests passed ✓")
    };
    store.finish_step(&id, 0, &result).unwrap();
    let step = store.run(&id).unwrap().steps[0].clone();
    assert_eq!(step.status, StepStatus::Completed);
    assert_eq!(step.exit_code, Some(0));
    assert_eq!(step.output_len, "all 12 tests passed ✓".len() as u64);
    assert!(step.output_truncated);
    assert_eq!(step.outputs, result.outputs);
    assert_eq!(step.usage, result.usage);
    assert!(step.finished_at.is_some());
    assert_eq!(
        store.step_output(&id, "test").unwrap(),
        "all 12 tests passed ✓"
    );
    assert_eq!(
        store.step_output_at(&id, 0).unwrap(),
        "all 12 tests passed ✓"
    );
}

#[test]
fn retry_counts_attempts_and_clears_the_failed_result() {
    let store = store();
    let id = three_step_run(&store);
    store.set_run_status(&id, RunStatus::Running, None).unwrap();
    store.start_step(&id, 0).unwrap();
    let failed = StepResult {
        exit_code: Some(101),
        error: Some("command exited with 101".into()),
        ..StepResult::new(StepStatus::Failed, "1 test failed")
    };
    store
        .commit_step(
            &id,
            0,
            &failed,
            Some((RunStatus::Failed, Some("step `test` failed"))),
        )
        .unwrap();
    let run = store.run(&id).unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.as_deref(), Some("step `test` failed"));
    assert_eq!(
        run.finished_at, None,
        "a failed run is paused, not finished"
    );

    store
        .write(|tx| {
            tx.set_run_status(&id, RunStatus::Running, None)?;
            tx.start_step(&id, 0)
        })
        .unwrap();
    let run = store.run(&id).unwrap();
    assert_eq!(run.error, None);
    let step = &run.steps[0];
    assert_eq!((step.status, step.attempt), (StepStatus::Running, 2));
    assert_eq!((step.exit_code, step.error.as_deref()), (None, None));
    assert_eq!((step.output_len, step.finished_at), (0, None));
}

#[test]
fn skip_and_override_leave_a_failed_step() {
    let store = store();
    let id = three_step_run(&store);
    store.set_run_status(&id, RunStatus::Running, None).unwrap();
    for idx in [0, 1] {
        store.start_step(&id, idx).unwrap();
        store
            .finish_step(&id, idx, &StepResult::new(StepStatus::Failed, "boom"))
            .unwrap();
    }
    store
        .set_step_status(&id, 0, StepStatus::Skipped, None)
        .unwrap();
    store
        .finish_step(
            &id,
            1,
            &StepResult::new(StepStatus::Completed, "hand-written diff"),
        )
        .unwrap();
    store
        .set_step_status(&id, 2, StepStatus::Skipped, Some("`when` was false"))
        .unwrap();
    let run = store.run(&id).unwrap();
    let statuses: Vec<_> = run.steps.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            StepStatus::Skipped,
            StepStatus::Completed,
            StepStatus::Skipped
        ]
    );
    assert_eq!(store.step_output(&id, "fix").unwrap(), "hand-written diff");
    assert_eq!(run.steps[2].error.as_deref(), Some("`when` was false"));
}

#[test]
fn terminal_run_status_sets_finished_at() {
    let store = store();
    let id = three_step_run(&store);
    store.set_run_status(&id, RunStatus::Running, None).unwrap();
    store
        .set_run_status(&id, RunStatus::Cancelled, Some("cancelled by the user"))
        .unwrap();
    let run = store.run(&id).unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert!(run.finished_at.is_some());
    assert_eq!(run.error.as_deref(), Some("cancelled by the user"));
}

#[test]
fn illegal_run_transition_is_refused_and_changes_nothing() {
    let store = store();
    let id = three_step_run(&store);
    store.set_run_status(&id, RunStatus::Running, None).unwrap();
    store
        .set_run_status(&id, RunStatus::Completed, None)
        .unwrap();
    let before = store.run(&id).unwrap();
    let err = store
        .set_run_status(&id, RunStatus::Running, None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::IllegalRunTransition {
                from: RunStatus::Completed,
                to: RunStatus::Running,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!("run {id} cannot go from completed to running")
    );
    assert_eq!(store.run(&id).unwrap(), before);
}

#[test]
fn illegal_step_transition_is_refused_and_changes_nothing() {
    let store = store();
    let id = three_step_run(&store);
    let before = store.run(&id).unwrap();
    let err = store
        .finish_step(&id, 1, &StepResult::new(StepStatus::Completed, "never ran"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("run {id}, step `fix`: cannot go from pending to completed")
    );
    assert_eq!(store.run(&id).unwrap(), before);
    assert_eq!(store.step_output(&id, "fix").unwrap(), "");
}

#[test]
fn a_failed_write_rolls_back_every_change_in_it() {
    let store = store();
    let id = three_step_run(&store);
    let before = store.run(&id).unwrap();
    let err = store
        .write(|tx| {
            tx.set_run_status(&id, RunStatus::Running, None)?;
            tx.start_step(&id, 0)?;
            // pending -> waiting is not a legal move.
            tx.set_step_status(&id, 1, StepStatus::Waiting, None)
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IllegalStepTransition { .. }),
        "{err}"
    );
    assert_eq!(store.run(&id).unwrap(), before);
}

#[test]
fn commit_step_writes_the_step_and_the_run_together() {
    let store = store();
    let id = store.create_run(&new_run(&["only"])).unwrap();
    store.set_run_status(&id, RunStatus::Running, None).unwrap();
    store.start_step(&id, 0).unwrap();
    store
        .commit_step(
            &id,
            0,
            &StepResult::new(StepStatus::Completed, "done"),
            Some((RunStatus::Completed, None)),
        )
        .unwrap();
    let run = store.run(&id).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.steps[0].status, StepStatus::Completed);

    // An illegal run status in the same commit keeps the step result out too.
    let id = store.create_run(&new_run(&["only"])).unwrap();
    store.set_run_status(&id, RunStatus::Running, None).unwrap();
    store.start_step(&id, 0).unwrap();
    let err = store
        .commit_step(
            &id,
            0,
            &StepResult::new(StepStatus::Completed, "done"),
            Some((RunStatus::Queued, None)),
        )
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IllegalRunTransition { .. }),
        "{err}"
    );
    assert_eq!(store.run(&id).unwrap().steps[0].status, StepStatus::Running);
}

#[test]
fn approve_steps_wait_and_cancel_clears_the_wait() {
    let store = store();
    let id = store.create_run(&new_run(&["approve"])).unwrap();
    store
        .write(|tx| {
            tx.set_run_status(&id, RunStatus::Running, None)?;
            tx.start_step(&id, 0)?;
            tx.set_step_status(&id, 0, StepStatus::Waiting, None)?;
            tx.set_run_status(&id, RunStatus::Waiting, None)
        })
        .unwrap();
    let waiting = store.run(&id).unwrap();
    assert_eq!(waiting.status, RunStatus::Waiting);
    assert_eq!(waiting.steps[0].finished_at, None);
    store
        .write(|tx| {
            tx.set_step_status(&id, 0, StepStatus::Cancelled, None)?;
            tx.set_run_status(&id, RunStatus::Cancelled, None)
        })
        .unwrap();
    let run = store.run(&id).unwrap();
    assert_eq!(
        (run.status, run.steps[0].status),
        (RunStatus::Cancelled, StepStatus::Cancelled)
    );
}

#[test]
fn recovery_turns_a_step_waiting_inside_a_running_run_back_into_pending() {
    // An ACP agent's question waits inside the drive: the run stays
    // `running` while its step is `waiting`. A crash ends the question
    // with the drive; the step runs again on resume.
    let store = store();
    let run = store.create_run(&new_run(&["agent"])).unwrap();
    store
        .write(|tx| {
            tx.set_run_status(&run, RunStatus::Running, None)?;
            tx.start_step(&run, 0)?;
            tx.set_step_status(&run, 0, StepStatus::Waiting, Some("run `cargo test`"))
        })
        .unwrap();

    assert_eq!(
        store.recover_interrupted().unwrap(),
        std::slice::from_ref(&run)
    );
    let record = store.run(&run).unwrap();
    assert_eq!(
        (record.status, record.steps[0].status),
        (RunStatus::Interrupted, StepStatus::Pending)
    );
}

#[test]
fn recover_interrupted_marks_running_runs_and_resets_their_running_steps() {
    let store = store();
    let running = three_step_run(&store);
    store
        .write(|tx| {
            tx.set_run_status(&running, RunStatus::Running, None)?;
            tx.start_step(&running, 0)?;
            tx.finish_step(&running, 0, &StepResult::new(StepStatus::Completed, "ok"))?;
            tx.start_step(&running, 1)
        })
        .unwrap();
    let queued = three_step_run(&store);
    let waiting = store.create_run(&new_run(&["approve"])).unwrap();
    store
        .write(|tx| {
            tx.set_run_status(&waiting, RunStatus::Running, None)?;
            tx.start_step(&waiting, 0)?;
            tx.set_step_status(&waiting, 0, StepStatus::Waiting, None)?;
            tx.set_run_status(&waiting, RunStatus::Waiting, None)
        })
        .unwrap();
    let waiting_before = store.run(&waiting).unwrap();

    let recovered = store.recover_interrupted().unwrap();
    assert_eq!(recovered, [running.clone(), queued.clone()]);

    let run = store.run(&running).unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
    assert!(run.error.is_some_and(|e| e.contains("resume")));
    let steps: Vec<_> = run.steps.iter().map(|s| (s.status, s.attempt)).collect();
    assert_eq!(
        steps,
        [
            (StepStatus::Completed, 1),
            (StepStatus::Pending, 1),
            (StepStatus::Pending, 0)
        ]
    );
    assert_eq!(run.steps[1].started_at, None);
    assert_eq!(store.run(&queued).unwrap().status, RunStatus::Interrupted);
    assert_eq!(
        store.run(&waiting).unwrap(),
        waiting_before,
        "approval survives"
    );

    assert!(store.recover_interrupted().unwrap().is_empty());
    // Resume: the interrupted step runs again as attempt 2.
    store
        .write(|tx| {
            tx.set_run_status(&running, RunStatus::Running, None)?;
            tx.start_step(&running, 1)
        })
        .unwrap();
    assert_eq!(store.run(&running).unwrap().steps[1].attempt, 2);
}

#[test]
fn runs_lists_newest_first_with_progress_and_respects_the_limit() {
    let store = store();
    let ids: Vec<_> = (0..5).map(|_| three_step_run(&store)).collect();
    store
        .set_run_status(&ids[4], RunStatus::Running, None)
        .unwrap();
    store.start_step(&ids[4], 0).unwrap();
    store
        .finish_step(&ids[4], 0, &StepResult::new(StepStatus::Completed, ""))
        .unwrap();
    store
        .set_step_status(&ids[4], 1, StepStatus::Skipped, None)
        .unwrap();

    let listed = store.runs(3).unwrap();
    let listed_ids: Vec<_> = listed.iter().map(|r| r.id.clone()).collect();
    assert_eq!(listed_ids, [ids[4].clone(), ids[3].clone(), ids[2].clone()]);
    assert_eq!((listed[0].steps_total, listed[0].steps_done), (3, 2));
    assert_eq!(listed[0].status, RunStatus::Running);
    assert_eq!((listed[1].steps_total, listed[1].steps_done), (3, 0));
    assert_eq!(store.runs(100).unwrap().len(), 5);
}

#[test]
fn unfinished_runs_leaves_out_completed_and_cancelled() {
    let store = store();
    let done = three_step_run(&store);
    let paused = three_step_run(&store);
    let queued = three_step_run(&store);
    store
        .set_run_status(&done, RunStatus::Running, None)
        .unwrap();
    store
        .set_run_status(&done, RunStatus::Completed, None)
        .unwrap();
    store
        .set_run_status(&paused, RunStatus::Running, None)
        .unwrap();
    store
        .set_run_status(&paused, RunStatus::Failed, None)
        .unwrap();
    let ids: Vec<_> = store
        .unfinished_runs()
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, [paused, queued]);
}

#[test]
fn resolve_run_accepts_unique_prefixes_in_any_case() {
    let store = store();
    let ids: Vec<_> = (0..3).map(|_| three_step_run(&store)).collect();
    for id in &ids {
        // The shortest prefix no other id shares.
        let unique = (1..=id.as_str().len())
            .map(|n| &id.as_str()[..n])
            .find(|p| {
                ids.iter()
                    .filter(|other| other.as_str().starts_with(p))
                    .count()
                    == 1
            })
            .unwrap();
        assert_eq!(&store.resolve_run(unique).unwrap(), id);
        assert_eq!(&store.resolve_run(&unique.to_uppercase()).unwrap(), id);
        assert_eq!(&store.resolve_run(id.as_str()).unwrap(), id);
    }
}

#[test]
fn resolve_run_reports_ambiguous_prefixes_with_candidates() {
    let store = store();
    let ids: Vec<_> = (0..3).map(|_| three_step_run(&store)).collect();
    // Runs created moments apart share the leading time digits.
    let shared = &ids[0].as_str()[..1];
    match store.resolve_run(shared) {
        Err(StoreError::AmbiguousRun { prefix, candidates }) => {
            assert_eq!(prefix, shared);
            let expected: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
            assert_eq!(candidates, expected);
        }
        other => panic!("expected an ambiguity error, got {other:?}"),
    }

    for _ in 0..10 {
        three_step_run(&store);
    }
    match store.resolve_run(shared) {
        Err(StoreError::AmbiguousRun { candidates, .. }) => {
            assert_eq!(candidates.len(), 11);
            assert_eq!(candidates.last().map(String::as_str), Some("..."));
        }
        other => panic!("expected an ambiguity error, got {other:?}"),
    }
}

#[test]
fn resolve_run_reports_unknown_and_malformed_ids() {
    let store = store();
    three_step_run(&store);
    let err = store.resolve_run("zzzz").unwrap_err();
    assert!(
        matches!(err, StoreError::UnknownRun(ref p) if p == "zzzz"),
        "{err}"
    );
    for bad in ["", "run-1", "0123456789abc", "oops"] {
        let err = store.resolve_run(bad).unwrap_err();
        assert!(matches!(err, StoreError::InvalidRunId(_)), "{bad:?}: {err}");
    }
}

#[test]
fn unknown_runs_and_steps_are_named_in_errors() {
    let store = store();
    let id = three_step_run(&store);
    let missing = agentls_store::RunId::parse("000000000000").unwrap();
    assert!(matches!(
        store.run(&missing),
        Err(StoreError::UnknownRun(_))
    ));
    assert!(matches!(
        store.set_run_status(&missing, RunStatus::Running, None),
        Err(StoreError::UnknownRun(_))
    ));
    assert!(matches!(
        store.start_step(&missing, 0),
        Err(StoreError::UnknownRun(_))
    ));
    assert!(matches!(
        store.step_output(&missing, "test"),
        Err(StoreError::UnknownRun(_))
    ));
    let err = store.start_step(&id, 7).unwrap_err();
    assert_eq!(err.to_string(), format!("run {id} has no step #7"));
    let err = store.step_output(&id, "deploy").unwrap_err();
    assert_eq!(err.to_string(), format!("run {id} has no step `deploy`"));
}

#[test]
fn trust_is_remembered_by_content_hash() {
    let store = store();
    assert!(!store.is_trusted("sha256:1").unwrap());
    store
        .trust("sha256:1", ".agentls/workflows/a.toml".as_ref())
        .unwrap();
    assert!(store.is_trusted("sha256:1").unwrap());
    assert!(
        !store.is_trusted("sha256:2").unwrap(),
        "other content stays untrusted"
    );
    store
        .trust("sha256:1", ".agentls/workflows/renamed.toml".as_ref())
        .unwrap();
    assert!(store.is_trusted("sha256:1").unwrap());
}

#[test]
fn recovery_leaves_alone_runs_whose_owner_is_alive() {
    let store = store();
    let mut mine = new_run(&["a"]);
    mine.owner = Some("live-process".into());
    let live = store.create_run(&mine).unwrap();
    let mut theirs = new_run(&["a"]);
    theirs.owner = Some("dead-process".into());
    let dead = store.create_run(&theirs).unwrap();
    let moved = store.create_run(&new_run(&["a"])).unwrap();
    store
        .write(|tx| tx.set_owner(&moved, "live-process"))
        .unwrap();

    let recovered = store
        .recover_orphaned(|_, owner| owner != Some("live-process"))
        .unwrap();
    assert_eq!(recovered, std::slice::from_ref(&dead));
    assert_eq!(store.run(&live).unwrap().status, RunStatus::Queued);
    assert_eq!(store.run(&moved).unwrap().status, RunStatus::Queued);
    assert_eq!(store.run(&dead).unwrap().status, RunStatus::Interrupted);
}

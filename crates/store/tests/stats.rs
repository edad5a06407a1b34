//! Model calls recorded with step results, and the usage statistics read
//! back from them per provider and model.

mod common;

use agentls_store::{ModelCall, ModelStats, RunStatus, StepResult, StepStatus, Store};
use common::three_step_run;

fn call(provider: &str, model: &str, tokens: (u64, u64), latency_ms: u64) -> ModelCall {
    ModelCall {
        provider: provider.into(),
        model: Some(model.into()),
        input_tokens: Some(tokens.0),
        output_tokens: Some(tokens.1),
        cached_tokens: None,
        latency_ms,
        first_chunk_ms: Some(latency_ms / 2),
        error_type: None,
    }
}

fn failed(provider: &str, model: &str, error: &str) -> ModelCall {
    ModelCall {
        provider: provider.into(),
        model: Some(model.into()),
        latency_ms: 9_999,
        error_type: Some(error.into()),
        ..ModelCall::default()
    }
}

/// Runs step `idx` once with `calls` and the given final status.
fn attempt(
    store: &Store,
    run: &agentls_store::RunId,
    idx: usize,
    status: StepStatus,
    calls: Vec<ModelCall>,
) {
    store.start_step(run, idx).unwrap();
    let result = StepResult {
        model_calls: calls,
        ..StepResult::new(status, "")
    };
    store.finish_step(run, idx, &result).unwrap();
}

#[test]
fn stats_group_calls_by_provider_and_model_across_attempts() {
    let store = Store::open_in_memory().unwrap();
    let run = three_step_run(&store);
    store
        .set_run_status(&run, RunStatus::Running, None)
        .unwrap();
    // A failed attempt (one call failed), then a retry that answered, then
    // a fan-out step over two providers.
    attempt(
        &store,
        &run,
        0,
        StepStatus::Failed,
        vec![failed("claude", "sonnet", "http_529")],
    );
    attempt(
        &store,
        &run,
        0,
        StepStatus::Completed,
        vec![call("claude", "sonnet", (100, 10), 400)],
    );
    attempt(
        &store,
        &run,
        1,
        StepStatus::Completed,
        vec![
            call("claude", "sonnet", (50, 5), 200),
            call("gpt", "gpt-4.1", (7, 3), 900),
        ],
    );

    let stats = store.model_stats(None).unwrap();

    assert_eq!(
        stats,
        vec![
            ModelStats {
                provider: "claude".into(),
                model: Some("sonnet".into()),
                calls: 3,
                errors: 1,
                input_tokens: 150,
                output_tokens: 15,
                cached_tokens: 0,
                // Latency counts the calls that answered: 200 and 400.
                p50_ms: Some(200),
                p95_ms: Some(400),
            },
            ModelStats {
                provider: "gpt".into(),
                model: Some("gpt-4.1".into()),
                calls: 1,
                errors: 0,
                input_tokens: 7,
                output_tokens: 3,
                cached_tokens: 0,
                p50_ms: Some(900),
                p95_ms: Some(900),
            },
        ]
    );
}

#[test]
fn stats_since_leave_out_older_calls() {
    let store = Store::open_in_memory().unwrap();
    let run = three_step_run(&store);
    store
        .set_run_status(&run, RunStatus::Running, None)
        .unwrap();
    attempt(
        &store,
        &run,
        0,
        StepStatus::Completed,
        vec![call("claude", "sonnet", (1, 1), 10)],
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;

    assert_eq!(store.model_stats(Some(now - 60_000)).unwrap().len(), 1);
    assert!(store.model_stats(Some(now + 60_000)).unwrap().is_empty());
}

#[test]
fn a_run_without_model_calls_has_no_stats() {
    let store = Store::open_in_memory().unwrap();
    let run = three_step_run(&store);
    store
        .set_run_status(&run, RunStatus::Running, None)
        .unwrap();
    attempt(&store, &run, 0, StepStatus::Completed, Vec::new());
    assert!(store.model_stats(None).unwrap().is_empty());
}

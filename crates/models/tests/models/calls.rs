//! Every provider call a step makes is recorded in the store, answered or
//! failed, with the usage its server reported: what `agentls stats` reads.

use agentls_engine::RunStatus;
use agentls_provider::testing::{json_response, FakeServer};
use agentls_store::ModelStats;

use crate::support::*;

fn row<'a>(stats: &'a [ModelStats], provider: &str) -> &'a ModelStats {
    stats
        .iter()
        .find(|s| s.provider == provider)
        .unwrap_or_else(|| panic!("no {provider} row in {stats:#?}"))
}

#[tokio::test]
async fn each_call_of_a_fan_out_is_recorded_with_its_usage_or_its_failure() {
    let claude = FakeServer::start(vec![Vendor::Anthropic.answer(&["A."])]).await;
    let gpt = FakeServer::start(vec![json_response(
        401,
        &[],
        r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}"#,
    )])
    .await;
    let f = Fixture::new(
        providers(vec![
            ("claude", Vendor::Anthropic.config(&claude)),
            ("gpt", Vendor::Openai.config(&gpt)),
        ]),
        Env::keys(),
    );

    let (_, record) = f.run(&ask(&["claude", "gpt"], "all")).await;
    assert_eq!(record.status, RunStatus::Completed, "{record:?}");

    let stats = f.engine.store().model_stats(None).expect("stats");
    assert_eq!(stats.len(), 2, "{stats:#?}");
    let (input, output, cached, model) = Vendor::Anthropic.usage();
    let answered = row(&stats, "claude");
    assert_eq!(
        (
            answered.model.as_deref(),
            answered.calls,
            answered.errors,
            answered.input_tokens,
            answered.output_tokens,
            answered.cached_tokens
        ),
        (Some(model), 1, 0, input, output, cached)
    );
    assert!(answered.p50_ms.is_some());
    let failed = row(&stats, "gpt");
    // A call that got no answer is filed under the model it asked for.
    assert_eq!(
        (
            failed.model.as_deref(),
            failed.calls,
            failed.errors,
            failed.input_tokens
        ),
        (Some("gpt-4.1"), 1, 1, 0)
    );
    assert_eq!(failed.p50_ms, None, "latency counts answered calls only");
}

#[tokio::test]
async fn a_failed_step_keeps_the_calls_of_every_attempt() {
    let gone = || json_response(400, &[], r#"{"error":{"message":"model not found"}}"#);
    let server = FakeServer::start(vec![gone(), gone()]).await;
    let f = Fixture::new(
        providers(vec![("claude", Vendor::Anthropic.config(&server))]),
        Env::keys(),
    );

    let (_, record) = f
        .run("[[steps]]\nid = \"ask\"\nprompt = \"hi\"\nprovider = \"claude\"\nretries = 1\n")
        .await;

    assert_eq!(record.status, RunStatus::Failed);
    assert_eq!(server.requests().len(), 2);
    let stats = f.engine.store().model_stats(None).expect("stats");
    let claude = row(&stats, "claude");
    assert_eq!((claude.calls, claude.errors), (2, 2), "{stats:#?}");
}

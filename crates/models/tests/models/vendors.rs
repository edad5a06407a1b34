//! Each vendor's stream becomes the step's output byte for byte, with the
//! usage the server reported.

use agentls_engine::{RunStatus, StepStatus};
use agentls_provider::testing::FakeServer;

use crate::support::*;

/// Deltas that would show any re-encoding: accents, quotes, an emoji split
/// from its neighbour, a tab, an escaped backslash, CRLF.
const DELTAS: &[&str] = &[
    "Hé",
    "llo \"wörld\"\n",
    "🦀",
    "\ttab ",
    "\\n is not a newline",
    "\r\nend",
];

async fn answer_is_stored_byte_for_byte(vendor: Vendor) {
    let server = FakeServer::start(vec![vendor.answer(DELTAS)]).await;
    let f = Fixture::new(providers(vec![("p", vendor.config(&server))]), Env::keys());

    let (run, record) = f.run(&ask(&["p"], "first")).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    let expected = DELTAS.concat();
    assert_eq!(f.output(&run, "ask").as_bytes(), expected.as_bytes());
    assert_eq!(f.events.live(&run, "ask"), expected, "live output");
    let step = step(&record, "ask");
    assert_eq!(step.status, StepStatus::Completed);
    assert_eq!(
        step.outputs,
        Some(serde_json::json!({ "p": expected })),
        "outputs.p"
    );
    let (input, output, cached, model) = vendor.usage();
    let usage = &step.usage;
    assert_eq!(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_tokens,
            usage.provider.as_deref(),
            usage.model.as_deref()
        ),
        (
            Some(input),
            Some(output),
            Some(cached),
            Some("p"),
            Some(model)
        )
    );
    assert!(usage.latency_ms.is_some());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn anthropic_answer_is_stored_byte_for_byte_with_its_usage() {
    answer_is_stored_byte_for_byte(Vendor::Anthropic).await;
}

#[tokio::test]
async fn openai_answer_is_stored_byte_for_byte_with_its_usage() {
    answer_is_stored_byte_for_byte(Vendor::Openai).await;
}

#[tokio::test]
async fn gemini_answer_is_stored_byte_for_byte_with_its_usage() {
    answer_is_stored_byte_for_byte(Vendor::Gemini).await;
}

#[tokio::test]
async fn a_step_without_provider_uses_the_default_provider() {
    let server = FakeServer::start(vec![Vendor::Openai.answer(&["ok"])]).await;
    let mut config = providers(vec![("local", Vendor::Openai.config(&server))]);
    config.default_provider = Some("local".into());
    let f = Fixture::new(config, Env::keys());

    let (run, record) = f.run("[[steps]]\nid = \"ask\"\nprompt = \"hi\"\n").await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.output(&run, "ask"), "ok");
    assert_eq!(
        step(&record, "ask").usage.provider.as_deref(),
        Some("local")
    );
}

//! Keys never leave (docs/architecture.md, invariant 7): after a run that used two keys,
//! neither value is in any file of the state directory (SQLite files and
//! transcripts included), nor in the environment of a `run` step's child.
//!
//! Its own test binary with a single test: it sets process environment
//! variables, which must not race with other tests spawning processes.

#[path = "models/support.rs"]
mod support;

use std::path::{Path, PathBuf};

use agentls_engine::{EngineOptions, RunStatus};
use agentls_models::SessionModels;
use agentls_provider::testing::FakeServer;

use support::*;

const CLAUDE_KEY: &str = "sk-test-SECRET-123";
/// A key in a variable of the user's choosing (`api_key_env`), which the
/// execution layer does not know as a secret by itself.
const LOCAL_KEY: &str = "sk-test-SECRET-456";

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable state dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn keys_reach_no_state_file_and_no_child_environment() {
    std::env::set_var("ANTHROPIC_API_KEY", CLAUDE_KEY);
    std::env::set_var("LOCAL_LLM_KEY", LOCAL_KEY);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let claude = FakeServer::start(vec![Vendor::Anthropic.answer(&["Done."])]).await;
    let local = FakeServer::start(vec![Vendor::Openai.answer(&["Also done."])]).await;
    let mut local_config = Vendor::Openai.config(&local);
    local_config.api_key_env = Some("LOCAL_LLM_KEY".into());
    let config = providers(vec![
        ("claude", Vendor::Anthropic.config(&claude)),
        ("local", local_config),
    ]);
    // What the server does when it opens a session's engine.
    let mut options = EngineOptions::default();
    let key_vars = SessionModels::from_process_env(config.clone(), "/").key_vars();
    assert!(
        key_vars.contains(&"LOCAL_LLM_KEY".to_string()),
        "{key_vars:?}"
    );
    options.secret_vars.extend(key_vars);
    let f = Fixture::with_options(options, |root| {
        SessionModels::from_process_env(config, root)
    });

    let (run, record) = f
        .run(
            r#"
[[steps]]
id = "a"
prompt = "first"
provider = "claude"
[[steps]]
id = "b"
prompt = "second"
provider = "local"
[[steps]]
id = "env"
run = "env"
"#,
        )
        .await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    // The keys were really used...
    assert_eq!(claude.requests()[0].header("x-api-key"), Some(CLAUDE_KEY));
    let bearer = format!("Bearer {LOCAL_KEY}");
    assert_eq!(
        local.requests()[0].header("authorization"),
        Some(bearer.as_str())
    );
    // ...and went nowhere else.
    let env = f.output(&run, "env");
    assert!(
        env.contains("PATH="),
        "the step printed its environment: {env}"
    );
    for key in [CLAUDE_KEY, LOCAL_KEY] {
        assert!(!env.contains(key), "a child saw a key");
    }
    let files = files_under(&f.state_dir());
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert!(names.iter().any(|n| n == "agentls.db"), "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with(".log")),
        "a transcript: {names:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).expect("readable state file");
        for key in [CLAUDE_KEY, LOCAL_KEY] {
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "{} holds a key",
                file.display()
            );
        }
    }
}

//! Agent steps through the real server, as an editor drives them: a fake
//! vendor server on 127.0.0.1 scripts a loop in each vendor's own streamed
//! tool-use format (read → run → edit → answer); the tools read the
//! editor's unsaved text, run a real command, and the edit comes back to
//! the editor as `workspace/applyEdit` with the document's version.

mod support;

use agentls_provider::testing::FakeServer;
use agentls_provider::testing::{Turn, Wire};
use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const WORKFLOW: &str = r#"
[[steps]]
id = "fix"
agent = "make answer() return 42"
provider = "m"
tools = ["read_file", "list_files", "search", "edit_file", "write_file", "run_command"]
allow = { run = ["./bump *"], edit = ["src/**"] }
"#;

/// The provider section for `wire` pointed at `server`.
fn provider(wire: Wire, server: &FakeServer) -> String {
    let base = server.base_url();
    let (kind, base_url, model) = match wire {
        Wire::Anthropic => ("anthropic", base, ""),
        Wire::Openai => ("openai", format!("{base}/v1"), "model = \"gpt-4.1\"\n"),
        Wire::Gemini => ("gemini", format!("{base}/v1beta"), ""),
    };
    format!(
        "[providers.m]\nkind = \"{kind}\"\nbase_url = \"{base_url}\"\n{model}\
         retry_base_delay = \"5ms\"\n"
    )
}

struct Loop {
    server: TestServer,
    vendor: FakeServer,
    _runtime: tokio::runtime::Runtime,
    folder: std::path::PathBuf,
    lib_uri: String,
}

fn start(wire: Wire, turns: Vec<Turn>) -> Loop {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let vendor = runtime.block_on(FakeServer::start(
        turns.iter().map(|turn| wire.response(turn)).collect(),
    ));
    let env = TestEnv::new();
    env.write("config/agentls/config.toml", &provider(wire, &vendor));
    env.user_workflow("fix", WORKFLOW);
    let folder = env.mkdir("ws");
    env.write("ws/src/lib.rs", "fn answer() -> u32 { 0 }\n");
    let bump = env.write("ws/bump", "#!/bin/sh\necho \"$1\" >> side-effects\n");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bump, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (var, key) = wire.key();
    let server = TestServer::spawn_in(env, ServerOptions::new().env(var, key));
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let lib_uri = file_uri(&folder.canonicalize().unwrap().join("src/lib.rs"));
    // Unsaved in the editor: the disk still says 0.
    server.did_open(&lib_uri, "rust", 7, "fn answer() -> u32 { 41 }\n");
    Loop {
        server,
        vendor,
        _runtime: runtime,
        folder,
        lib_uri,
    }
}

fn scripted_loop() -> Vec<Turn> {
    vec![
        Turn::text(&["Let me ", "look."]).call(
            "call_read",
            "read_file",
            &[r#"{"pa"#, r#"th": "src/"#, r#"lib.rs"}"#],
        ),
        Turn::default().call("call_run", "run_command", &[r#"{"command": "./bump ran"}"#]),
        Turn::default().call(
            "call_edit",
            "edit_file",
            &[
                r#"{"path": "src/lib.rs", "old_text": "41", "#,
                r#""new_text": "42"}"#,
            ],
        ),
        Turn::text(&["Fixed: ", "answer() returns 42."]),
    ]
}

/// Which of the loop's three tool results a request body carries.
fn tool_results(request: &Value) -> Vec<&'static str> {
    let text = request.to_string();
    [
        "     1\\tfn answer() -> u32 { 41 }",
        "exit status 0",
        "Edited src/lib.rs",
    ]
    .into_iter()
    .filter(|needle| text.contains(needle))
    .collect()
}

fn the_loop_completes_and_the_edit_lands_in_the_buffer(wire: Wire) {
    let l = start(wire, scripted_loop());
    let run = l.server.start_run(json!({"workflow": "fix"}));
    let edit = l
        .server
        .wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"],
        json!([{
            "textDocument": {"uri": l.lib_uri, "version": 7},
            "edits": [{
                // The minimal edit: 41 → 42 changes one character.
                "range": {"start": {"line": 0, "character": 22}, "end": {"line": 0, "character": 23}},
                "newText": "2"
            }],
        }]),
        "{wire:?}: the edit is made against the editor's unsaved text, with its version"
    );
    l.server.wait_state(&run, "completed");
    let output = l.server.output_text(&run);
    assert!(
        output.contains("Fixed: answer() returns 42."),
        "{wire:?}: {output}"
    );
    assert_eq!(
        std::fs::read_to_string(l.folder.join("side-effects")).unwrap(),
        "ran\n",
        "{wire:?}: the command ran once"
    );
    assert_eq!(
        std::fs::read_to_string(l.folder.join("src/lib.rs")).unwrap(),
        "fn answer() -> u32 { 0 }\n",
        "{wire:?}: the disk is the editor's to save"
    );
    // The model was sent the history in its own format each turn: the last
    // request carries every tool result.
    let requests: Vec<Value> = l.vendor.requests().iter().map(|r| r.json()).collect();
    assert_eq!(requests.len(), 4, "{wire:?}: four turns");
    assert_eq!(
        tool_results(&requests[3]),
        [
            "     1\\tfn answer() -> u32 { 41 }",
            "exit status 0",
            "Edited src/lib.rs"
        ],
        "{wire:?}: {}",
        requests[3]
    );
    // The live view said what each call did.
    let live: String = l
        .server
        .notifications("agent/output")
        .iter()
        .filter_map(|n| n["text"].as_str().map(str::to_owned))
        .collect();
    for line in [
        "▸ read src/lib.rs",
        "▸ run ./bump ran (exit 0",
        "▸ edit src/lib.rs +1 −1",
    ] {
        assert!(
            live.contains(line),
            "{wire:?}: `{line}` not in the live output:\n{live}"
        );
    }
    assert_eq!(l.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn anthropic_the_loop_completes_and_the_edit_lands_in_the_buffer() {
    the_loop_completes_and_the_edit_lands_in_the_buffer(Wire::Anthropic);
}

#[test]
fn openai_the_loop_completes_and_the_edit_lands_in_the_buffer() {
    the_loop_completes_and_the_edit_lands_in_the_buffer(Wire::Openai);
}

#[test]
fn gemini_the_loop_completes_and_the_edit_lands_in_the_buffer() {
    the_loop_completes_and_the_edit_lands_in_the_buffer(Wire::Gemini);
}

#[test]
fn a_command_outside_allow_asks_the_editor_and_runs_once_allowed() {
    let turns = [
        Turn::default().call("c1", "run_command", &[r#"{"command": "./bump asked"}"#]),
        Turn::text(&["done"]),
    ];
    let (server, _vendor, _runtime, folder) = asking(&turns);
    server.answer_with("window/showMessageRequest", json!({"title": "Allow once"}));
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let run = server.start_run(json!({"workflow": "ask"}));
    let asked = server.wait_server_request("window/showMessageRequest", |_| true);
    assert_eq!(
        asked.params["message"],
        "agentls: `ask` (step `a`) wants to run `./bump asked`"
    );
    let titles: Vec<&str> = asked.params["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert_eq!(titles, ["Allow once", "Allow for this run", "Deny"]);
    server.wait_state(&run, "completed");
    assert_eq!(
        std::fs::read_to_string(folder.join("side-effects")).unwrap(),
        "asked\n"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// A workspace with `./bump`, an OpenAI-format vendor playing `turns`, and
/// the user workflow `ask`: an agent that may only run commands, asking.
fn asking(
    turns: &[Turn],
) -> (
    TestServer,
    FakeServer,
    tokio::runtime::Runtime,
    std::path::PathBuf,
) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let vendor = runtime.block_on(FakeServer::start(
        turns
            .iter()
            .map(|turn| Wire::Openai.response(turn))
            .collect(),
    ));
    let env = TestEnv::new();
    env.write(
        "config/agentls/config.toml",
        &provider(Wire::Openai, &vendor),
    );
    env.user_workflow(
        "ask",
        "[[steps]]\nid = \"a\"\nagent = \"go\"\nprovider = \"m\"\ntools = [\"run_command\"]\n",
    );
    let folder = env.mkdir("ws");
    let bump = env.write("ws/bump", "#!/bin/sh\necho $$ >> pids\necho \"$1\" >> side-effects\nif [ \"$1\" = slow ]; then sleep 600; fi\n");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bump, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (var, key) = Wire::Openai.key();
    let server = TestServer::spawn_in(env, ServerOptions::new().env(var, key));
    (server, vendor, runtime, folder)
}

#[test]
fn a_rejection_with_a_reason_is_what_the_model_hears_and_it_answers_otherwise() {
    let turns = [
        Turn::default().call("c1", "run_command", &[r#"{"command": "./bump deploy"}"#]),
        Turn::text(&["Not deploying; ", "staging only."]),
    ];
    let (server, vendor, _runtime, folder) = asking(&turns);
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let run = server.start_run(json!({"workflow": "ask"}));
    let state = server.wait_state(&run, "waiting");
    let step = &state["steps"][0];
    assert_eq!(step["status"], "waiting");
    assert_eq!(step["error"], "run `./bump deploy`", "{state}");
    server
        .execute_command(
            "agent.reject",
            json!([{"runId": run, "reason": "not on a Friday"}]),
        )
        .expect("agent.reject");
    server.wait_state(&run, "completed");
    assert!(
        !folder.join("side-effects").exists(),
        "the rejected command never ran"
    );
    let second = vendor.requests()[1].json();
    let tool = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .cloned()
        .expect("a tool message");
    assert_eq!(tool["tool_call_id"], "c1");
    assert!(
        tool["content"]
            .as_str()
            .unwrap()
            .contains("The user rejected this tool call: not on a Friday"),
        "{tool}"
    );
    let output = server.output_text(&run);
    assert!(output.contains("Not deploying; staging only."), "{output}");
    let live: String = server
        .notifications("agent/output")
        .iter()
        .filter_map(|n| n["text"].as_str().map(str::to_owned))
        .collect();
    assert!(
        live.contains("▸ run ./bump deploy: rejected (not on a Friday)"),
        "the live view says what was refused:\n{live}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn cancel_during_a_long_command_kills_its_process_group_at_once() {
    let turns = [Turn::default().call("c1", "run_command", &[r#"{"command": "./bump slow"}"#])];
    let (server, _vendor, _runtime, folder) = asking(&turns);
    server.answer_with("window/showMessageRequest", json!({"title": "Allow once"}));
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let run = server.start_run(json!({"workflow": "ask"}));
    let pids = folder.join("pids");
    support::wait_until(
        "the command to start",
        std::time::Duration::from_secs(30),
        || {
            !std::fs::read_to_string(&pids)
                .unwrap_or_default()
                .is_empty()
        },
    );
    let shell: i32 = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let state = server
        .execute_command("agent.cancel", json!([{"runId": run}]))
        .expect("agent.cancel");
    assert_eq!(state["status"], "cancelled", "{state}");
    support::wait_until(
        "the command's shell to end within a second of the cancel",
        std::time::Duration::from_secs(1),
        || !support::process_running(shell),
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

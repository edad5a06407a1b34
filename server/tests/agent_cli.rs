//! Agent steps from the shell, with a fake vendor on 127.0.0.1: a loop
//! killed with SIGKILL at ten points, then `agentls resume` (every tool call
//! that had completed ran exactly once in all, side effects counted in a
//! file; the one in flight at most twice; the final state is the
//! uninterrupted run's; `PRAGMA integrity_check` passes), a stream cut in a
//! call's arguments, the questions on a terminal, refused paths, and the
//! turn budget with `retry`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use agentls_provider::testing::{sse_response, FakeServer, Step, Turn, Wire};
use serde_json::Value;
use support::TestEnv;

const WIRE: Wire = Wire::Anthropic;

const WORKFLOW: &str = r#"
[[steps]]
id = "fix"
agent = "make answer() return 42, then record it"
provider = "m"
tools = ["read_file", "edit_file", "run_command"]
allow = { run = ["./bump *"], edit = ["src/**"] }
"#;

/// `./bump X` appends X to `side-effects`; the first time a `hold-X` file
/// exists it removes it, says so in `holding` and sleeps (a command in
/// flight when agentls is killed).
const BUMP: &str = "#!/bin/sh\necho \"$1\" >> side-effects\nif [ -e \"hold-$1\" ]; then rm \"hold-$1\"; echo \"$1\" >> holding; sleep 600; fi\n";

fn turns() -> Vec<Turn> {
    vec![
        Turn::text(&["Looking."]).call("t1", "read_file", &[r#"{"path":"#, r#" "src/lib.rs"}"#]),
        Turn::default().call("t2", "run_command", &[r#"{"command": "./bump a"}"#]),
        Turn::text(&["Editing."]).call(
            "t3",
            "edit_file",
            &[
                r#"{"path": "src/lib.rs", "#,
                r#""old_text": "41", "new_text": "42"}"#,
            ],
        ),
        Turn::default().call("t4", "run_command", &[r#"{"command": "./bump b"}"#]),
        Turn::text(&["Done: ", "42."]),
    ]
}

/// Where the kill happens.
#[derive(Clone, Copy, Debug)]
enum Point {
    /// Turn `n` (1-based) was asked for; its answer never comes.
    Asked(usize),
    /// Turn `n` streamed part of its answer (the tool call's arguments
    /// half sent); the rest never comes.
    Streaming(usize),
    /// The command `./bump X` is running.
    Running(&'static str),
}

fn env_and_vendor(point: Point, runtime: &tokio::runtime::Runtime) -> (TestEnv, FakeServer) {
    let turns = turns();
    let mut scripts: Vec<Vec<Step>> = Vec::new();
    for (i, turn) in turns.iter().enumerate() {
        let n = i + 1;
        match point {
            Point::Asked(k) if k == n => scripts.push(vec![Step::Hang]),
            Point::Streaming(k) if k == n => {
                let events = WIRE.events(turn);
                let half: Vec<&str> = events[..events.len() / 2]
                    .iter()
                    .map(String::as_str)
                    .collect();
                let mut partial = sse_response(&[("request-id", "req_part")], &half);
                // Drop the end of the chunked body: the stream just stops.
                partial.pop();
                partial.push(Step::Hang);
                scripts.push(partial);
            }
            _ => {}
        }
        scripts.push(WIRE.response(turn));
    }
    let vendor = runtime.block_on(FakeServer::start(scripts));
    let env = workspace(&vendor);
    if let Point::Running(x) = point {
        env.write(&format!("hold-{x}"), "");
    }
    (env, vendor)
}

/// The workspace (it is the environment's root) with the workflow, the
/// provider pointed at `vendor`, `src/lib.rs` and `./bump`.
fn workspace(vendor: &FakeServer) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "config/agentls/config.toml",
        &format!(
            "[providers.m]\nkind = \"anthropic\"\nbase_url = \"{}\"\nretry_base_delay = \"5ms\"\n\
             first_byte_timeout = \"600s\"\nidle_timeout = \"600s\"\n",
            vendor.base_url()
        ),
    );
    env.write("config/agentls/workflows/fix.toml", WORKFLOW);
    env.write("src/lib.rs", "fn answer() -> u32 { 41 }\n");
    let bump = env.write("bump", BUMP);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bump, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env
}

fn agentls(env: &TestEnv) -> Command {
    let mut cmd = env.command();
    let (var, key) = WIRE.key();
    cmd.env(var, key);
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn store_path(env: &TestEnv) -> PathBuf {
    std::fs::read_dir(env.state_dir())
        .expect("state dir exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("agentls.db"))
        .find(|p| p.exists())
        .expect("a run store")
}

fn kill_then_resume(point: Point) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (env, vendor) = env_and_vendor(point, &runtime);
    let mut child = agentls(&env)
        .args(["run", "fix"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    match point {
        Point::Asked(n) | Point::Streaming(n) => {
            support::wait_until(&format!("{point:?}"), Duration::from_secs(30), || {
                vendor.requests().len() >= n
            })
        }
        Point::Running(x) => {
            support::wait_until(&format!("{point:?}"), Duration::from_secs(30), || {
                lines(&env.root().join("holding")).contains(&x.to_string())
            })
        }
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();

    let runs = agentls(&env).args(["runs", "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("runs --json");
    let id = runs[0]["id"].as_str().expect("the run exists").to_string();
    let resumed = agentls(&env).args(["resume", &id]).output().unwrap();
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{point:?}: {}",
        text(&resumed)
    );

    let show = agentls(&env)
        .args(["show", &id, "--json"])
        .output()
        .unwrap();
    let show: Value = serde_json::from_slice(&show.stdout).expect("show --json");
    assert_eq!(show["status"], "completed", "{point:?}: {show}");
    assert_eq!(
        std::fs::read_to_string(env.root().join("src/lib.rs")).unwrap(),
        "fn answer() -> u32 { 42 }\n",
        "{point:?}"
    );
    // Each command's side effect happened once; the one in flight at the
    // kill may have happened twice (it runs again at most once).
    let effects = lines(&env.root().join("side-effects"));
    for x in ["a", "b"] {
        let n = effects.iter().filter(|e| *e == x).count();
        let expected = match point {
            Point::Running(held) if held == x => 2,
            _ => 1,
        };
        assert_eq!(
            n, expected,
            "{point:?}: `./bump {x}` ran {n} times: {effects:?}"
        );
    }
    let store = agentls_store::Store::open(&store_path(&env)).unwrap();
    let problems = store.integrity_check().unwrap();
    assert!(
        problems.is_empty(),
        "{point:?}: integrity_check: {problems:?}"
    );
    let run = store.resolve_run(&id).unwrap();
    let calls = store.tool_calls(&run, 0).unwrap();
    let started: Vec<(String, u32)> = calls.iter().map(|c| (c.name.clone(), c.starts)).collect();
    assert_eq!(started.len(), 4, "{point:?}: {started:?}");
    // The conversation the model saw last is the uninterrupted one.
    let last = vendor
        .requests()
        .last()
        .map(|r| r.json())
        .unwrap_or_default();
    let said = last.to_string();
    for result in [
        "fn answer() -> u32 { 41 }",
        "exit status 0",
        "Edited src/lib.rs",
    ] {
        assert!(
            said.contains(result),
            "{point:?}: the last turn lacks {result}: {said}"
        );
    }
    drop(runtime);
}

#[test]
fn sigkill_at_ten_points_of_a_loop_then_resume_runs_every_completed_call_once() {
    let points = [
        Point::Asked(1),
        Point::Asked(2),
        Point::Asked(3),
        Point::Asked(4),
        Point::Asked(5),
        Point::Streaming(2),
        Point::Streaming(3),
        Point::Streaming(4),
        Point::Running("a"),
        Point::Running("b"),
    ];
    for point in points {
        kill_then_resume(point);
    }
}

#[test]
fn a_stream_cut_in_a_tool_calls_arguments_is_retried_and_the_partial_call_never_runs() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // A vendor whose second turn breaks off in the middle of the command's
    // arguments, then answers whole on the retry.
    let turns = turns();
    let mut scripts: Vec<Vec<Step>> = Vec::new();
    for (i, turn) in turns.iter().enumerate() {
        if i == 1 {
            let events = WIRE.events(turn);
            let cut = events
                .iter()
                .position(|e| e.contains("input_json_delta"))
                .expect("the call's arguments stream")
                + 1;
            let head: Vec<&str> = events[..cut].iter().map(String::as_str).collect();
            let mut partial = sse_response(&[("request-id", "req_cut")], &head);
            partial.pop();
            partial.push(Step::Drop);
            scripts.push(partial);
        }
        scripts.push(WIRE.response(turn));
    }
    let vendor = runtime.block_on(FakeServer::start(scripts));
    let env = workspace(&vendor);
    let out = agentls(&env)
        .args(["run", "fix", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(vendor.requests().len(), 6, "the cut turn was asked again");
    // The step's output is the answer; the transcript has every turn.
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["steps"][0]["output"], "Done: 42.");
    let transcript =
        std::fs::read_to_string(run["transcript"].as_str().unwrap()).unwrap_or_default();
    for line in [
        "Looking.",
        "▸ read src/lib.rs",
        "▸ run ./bump a (exit 0",
        "Editing.",
        "▸ edit src/lib.rs +1 −1",
        "▸ run ./bump b (exit 0",
        "Done: 42.",
    ] {
        assert!(
            transcript.contains(line),
            "`{line}` not in the transcript:\n{transcript}"
        );
    }
    assert_eq!(lines(&env.root().join("side-effects")), ["a", "b"]);
    let store = agentls_store::Store::open(&store_path(&env)).unwrap();
    let run = store.runs(1).unwrap()[0].id.clone();
    let commands: Vec<String> = store
        .tool_calls(&run, 0)
        .unwrap()
        .into_iter()
        .filter(|c| c.name == "run_command")
        .map(|c| c.input)
        .collect();
    assert_eq!(
        commands,
        [r#"{"command":"./bump a"}"#, r#"{"command":"./bump b"}"#],
        "no partial call was recorded"
    );
}

/// `agentls run` on a terminal asks before a command its `allow` rules do
/// not cover: `a` allows that command line for the rest of the run (it runs
/// again without asking), a reason refuses the next one and the model is
/// told it.
#[test]
fn on_a_terminal_the_cli_asks_and_always_covers_the_same_command() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let turns = [
        Turn::default().call("c1", "run_command", &[r#"{"command": "./bump x"}"#]),
        Turn::default().call("c2", "run_command", &[r#"{"command": "./bump x"}"#]),
        Turn::default().call("c3", "run_command", &[r#"{"command": "./bump y"}"#]),
        Turn::text(&["Ran x twice; y was refused."]),
    ];
    let vendor = runtime.block_on(FakeServer::start(
        turns.iter().map(|turn| WIRE.response(turn)).collect(),
    ));
    let env = workspace(&vendor);
    env.write(
        "config/agentls/workflows/ask.toml",
        "[[steps]]\nid = \"a\"\nagent = \"go\"\nprovider = \"m\"\ntools = [\"run_command\"]\n",
    );
    let mut command = agentls(&env);
    command.args(["run", "ask"]).current_dir(env.root());
    let mut terminal = support::OnTerminal::spawn(&command);
    // Answers each question as it appears: `a` to the first, a reason to
    // the second.
    let first = terminal.wait_for("Allow? [y = once, a = always in this run", 1);
    assert!(
        first.contains("Step `a` wants to run `./bump x`"),
        "{first}"
    );
    terminal.type_line("a");
    let second = terminal.wait_for("Allow? [y = once, a = always in this run", 2);
    assert!(second.contains("wants to run `./bump y`"), "{second}");
    terminal.type_line("not y, please");
    assert!(terminal.success());
    assert_eq!(lines(&env.root().join("side-effects")), ["x", "x"]);
    let last = vendor.requests()[3].json().to_string();
    assert!(
        last.contains("The user rejected this tool call: not y, please"),
        "{last}"
    );
}

#[test]
fn paths_outside_the_workspace_through_a_symlink_or_in_git_are_tool_errors_and_nothing_is_written()
{
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let turns = [
        Turn::default().call("c1", "read_file", &[r#"{"path": "../outside/secret"}"#]),
        Turn::default().call(
            "c2",
            "write_file",
            &[r#"{"path": "out/x", "content": "pwned"}"#],
        ),
        Turn::default().call(
            "c3",
            "edit_file",
            &[r#"{"path": ".git/config", "old_text": "bare", "new_text": "pwned"}"#],
        ),
        Turn::text(&["I could not touch any of them."]),
    ];
    let vendor = runtime.block_on(FakeServer::start(
        turns.iter().map(|turn| WIRE.response(turn)).collect(),
    ));
    let env = workspace(&vendor);
    env.write("outside/secret", "s3cret");
    std::os::unix::fs::symlink(env.root().join("outside"), env.root().join("out")).unwrap();
    env.write(".git/config", "[core]\n\tbare = false\n");
    env.write(
        "config/agentls/workflows/poke.toml",
        "[[steps]]\nid = \"a\"\nagent = \"poke\"\nprovider = \"m\"\n\
         tools = [\"read_file\", \"write_file\", \"edit_file\"]\nallow = { edit = [\"**\"] }\n",
    );
    // The workspace is a folder inside the environment's root: `outside`
    // is really outside it.
    let ws = env.root().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    std::os::unix::fs::symlink(env.root().join("outside"), ws.join("out")).unwrap();
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    std::fs::write(ws.join(".git/config"), "[core]\n\tbare = false\n").unwrap();
    let out = agentls(&env)
        .args(["run", "poke", "--workspace"])
        .arg(&ws)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let results = vendor.requests()[3].json().to_string();
    for refusal in [
        "outside the workspace",
        "goes through the symbolic link",
        "inside a .git directory",
    ] {
        assert!(results.contains(refusal), "`{refusal}` not told: {results}");
    }
    assert!(
        !results.contains("s3cret"),
        "the secret was read: {results}"
    );
    assert_eq!(
        std::fs::read_to_string(env.root().join("outside/secret")).unwrap(),
        "s3cret"
    );
    assert!(
        !env.root().join("outside/x").exists(),
        "written through the symlink"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join(".git/config")).unwrap(),
        "[core]\n\tbare = false\n"
    );
}

#[test]
fn max_turns_stops_a_model_that_never_answers_and_retry_goes_on_from_the_last_turn() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let looking = |n: usize| {
        Turn::default().call(
            &format!("c{n}"),
            "read_file",
            &[r#"{"path": "src/lib.rs"}"#],
        )
    };
    let mut scripts: Vec<Vec<Step>> = (1..=3).map(|n| WIRE.response(&looking(n))).collect();
    scripts.push(WIRE.response(&looking(4)));
    scripts.push(WIRE.response(&Turn::text(&["Found it."])));
    let vendor = runtime.block_on(FakeServer::start(scripts));
    let env = workspace(&vendor);
    env.write(
        "config/agentls/workflows/look.toml",
        "[[steps]]\nid = \"a\"\nagent = \"look\"\nprovider = \"m\"\nmax_turns = 3\n",
    );
    let out = agentls(&env).args(["run", "look"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(vendor.requests().len(), 3);
    let runs = agentls(&env).args(["runs", "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let id = runs[0]["id"].as_str().unwrap().to_string();
    let show = agentls(&env)
        .args(["show", &id, "--json"])
        .output()
        .unwrap();
    let show: Value = serde_json::from_slice(&show.stdout).unwrap();
    let error = show["steps"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("3 turns (`max_turns`)"), "{show}");
    let retried = agentls(&env).args(["retry", &id]).output().unwrap();
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried));
    // The retry went on: its first turn was sent the three turns before.
    let requests = vendor.requests();
    assert_eq!(requests.len(), 5);
    let fourth = requests[3].json();
    let sent = fourth["messages"].as_array().unwrap();
    let assistant = sent.iter().filter(|m| m["role"] == "assistant").count();
    assert_eq!(assistant, 3, "{fourth}");
    // Every turn is in the usage statistics.
    let stats = agentls(&env).args(["stats", "--json"]).output().unwrap();
    let stats: Value = serde_json::from_slice(&stats.stdout).expect("stats --json");
    assert_eq!(stats[0]["calls"], 5, "{stats}");
}

#[test]
fn a_token_budget_stops_the_loop_with_a_clear_error() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let looking = |n: usize| {
        Turn::default().call(
            &format!("c{n}"),
            "read_file",
            &[r#"{"path": "src/lib.rs"}"#],
        )
    };
    let vendor = runtime.block_on(FakeServer::start(
        (1..=5).map(|n| WIRE.response(&looking(n))).collect(),
    ));
    let env = workspace(&vendor);
    // Each scripted turn reports 472 input and 89 output tokens.
    env.write(
        "config/agentls/workflows/look.toml",
        "[[steps]]\nid = \"a\"\nagent = \"look\"\nprovider = \"m\"\ntoken_budget = 1000\n",
    );
    let out = agentls(&env)
        .args(["run", "look", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        vendor.requests().len(),
        2,
        "stopped after the turn that passed the budget"
    );
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = run["steps"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("used 1122 tokens, past its `token_budget` of 1000"),
        "{error}"
    );
}

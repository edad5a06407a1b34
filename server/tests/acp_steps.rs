//! ACP agent steps (`acp = "NAME"`) through the real binary, with a fake
//! ACP agent (tests/fixtures/fake_acp_agent.py, scripted per test): the
//! agent's file reads and writes go through agentls's guard and edit
//! path, its permission requests through the `allow` rules, hostile
//! output is answered or dropped without hurting the run, a crash fails
//! the step with the agent's stderr, cancel kills its process group, and a
//! workspace-defined agent does not start until approved. Its terminals
//! are the exec layer's, under `allow.run`; cancel kills them at once.
//! SIGKILL of agentls mid-turn, then `resume`: an agent that offers
//! `session/load` continues its session, one that does not runs the step
//! again from its prompt, and the transcript says which. In the editor:
//! the agent reads the unsaved buffer, its write comes back as
//! `workspace/applyEdit` with the buffer's version, and a flood of 10,000
//! updates reaches the editor coalesced and complete. What the `allow`
//! rules do not cover waits for a person while the agent waits: answered
//! from another agentls process (approved once, rejected once, "always"),
//! from the editor's `showMessageRequest`, on `agentls run`'s terminal, or
//! cancelled.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const WORKFLOW: &str = r#"
[[steps]]
id = "fix"
agent = "make answer() return 42"
acp = "fake"
allow = { run = ["cargo test", "echo *", "./long"], edit = ["src/**"] }
"#;

fn fake_agent() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake_acp_agent.py")
}

/// `[agents.fake]` running the fake agent with `script`. What it saw goes
/// to `agent/seen`: its own directory, writable in a sandbox.
fn agent_config(env: &TestEnv, script: &str) -> String {
    let script_path = env.write("script.json", script);
    let own = env.mkdir("agent");
    format!(
        "[agents.fake]\ncommand = [\"python3\", \"{}\"]\nenv = {{ FAKE_ACP_SCRIPT = \"{}\", \
         FAKE_ACP_SEEN = \"{}\" }}\nwrite = [\"{}\"]\n",
        fake_agent().display(),
        script_path.display(),
        own.join("seen").display(),
        own.display()
    )
}

/// `env` with the fake agent playing `script` in the workflow `fix`, and
/// `ws/src/lib.rs` answering 41.
fn scripted(env: &TestEnv, script: &Value) {
    env.write(
        "config/agentls/config.toml",
        &agent_config(env, &script.to_string()),
    );
    env.write("config/agentls/workflows/fix.toml", WORKFLOW);
    env.write("ws/src/lib.rs", "fn answer() -> u32 { 41 }\n");
}

/// `agentls run fix` in the background, as from a shell without a terminal.
fn run_in_background(env: &TestEnv) -> std::process::Child {
    agentls(env)
        .args(["run", "fix"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Ctrl-C of `agentls run` (it cancels the run it follows), and its end.
fn ctrl_c(child: std::process::Child) -> Output {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    child.wait_with_output().unwrap()
}

/// The process id written, a line, to `file` (waited for).
fn pid_in(file: &Path) -> i32 {
    support::wait_until(
        &format!("a pid in {}", file.display()),
        Duration::from_secs(30),
        || std::fs::read_to_string(file).is_ok_and(|s| s.ends_with('\n')),
    );
    std::fs::read_to_string(file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The run store of the environment's workspace.
fn open_store(env: &TestEnv) -> agentls_store::Store {
    let file = std::fs::read_dir(env.state_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("agentls.db"))
        .find(|p| p.exists())
        .expect("a run store");
    agentls_store::Store::open(&file).unwrap()
}

/// The workspace is a directory of its own (`ws`), so the test's files
/// (script, pid files, config) are outside it.
fn setup(script: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("config/agentls/config.toml", &agent_config(&env, script));
    env.write("config/agentls/workflows/fix.toml", WORKFLOW);
    env.write("ws/src/lib.rs", "fn answer() -> u32 { 41 }\n");
    env.mkdir("ws/.git");
    env.write("ws/.git/config", "[core]\n");
    env
}

fn ws(env: &TestEnv) -> PathBuf {
    env.root().join("ws")
}

fn agentls(env: &TestEnv) -> Command {
    let mut cmd = env.command();
    cmd.current_dir(ws(env));
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

fn show(env: &TestEnv) -> Value {
    let runs = agentls(env).args(["runs", "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("runs --json");
    let id = runs[0]["id"].as_str().expect("a run").to_string();
    let out = agentls(env).args(["show", &id, "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).expect("show --json")
}

fn seen(env: &TestEnv) -> Vec<Value> {
    std::fs::read_to_string(env.root().join("agent/seen"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a seen line"))
        .collect()
}

#[test]
fn acp_agent_reads_writes_and_asks_through_agentls() {
    let env = TestEnv::new();
    let root = ws(&env);
    let script = serde_json::json!([
        {"say": "Looking.\n"},
        {"think": "the answer is 41"},
        {"read": root.join("src/lib.rs")},
        {"read": "/etc/passwd"},
        {"read": root.join(".git/config")},
        {"tool_call": ["t1", "Edit src/lib.rs", "edit"]},
        {"write": [root.join("src/lib.rs"), "fn answer() -> u32 { 42 }\n"]},
        {"write": [root.join(".git/hooks/pre-commit"), "#!/bin/sh\n"]},
        {"permission": {"title": "Run cargo test", "kind": "execute", "rawInput": {"command": "cargo test"}}},
        {"permission": {"title": "Edit /etc/hosts", "kind": "edit", "locations": [{"path": "/etc/hosts"}]}},
        {"garbage": "this is not JSON {"},
        {"request": "x/unknown"},
        {"say": "Done: 42."}
    ]);
    scripted(&env, &script);
    env.write("ws/.git/config", "[core]\n");

    let out = agentls(&env)
        .args(["run", "fix"])
        .env("OPENAI_API_KEY", "sk-not-for-this-agent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "task: make answer() return 42",
        "[thinking] the answer is 41",
        &format!(
            "read {}: fn answer() -> u32 {{ 41 }}",
            root.join("src/lib.rs").display()
        ),
        "read /etc/passwd: error /etc/passwd is outside the workspace",
        "is inside a .git directory",
        "▸ Edit src/lib.rs: completed",
        &format!("write {}: ok", root.join("src/lib.rs").display()),
        "permission Run cargo test: yes",
        // Outside the workspace: refused without asking anyone.
        "⛔ refused: Edit /etc/hosts (/etc/hosts is outside the workspace",
        "permission Edit /etc/hosts: no",
        "x/unknown: error -32601",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{}",
            text(&out)
        );
    }
    assert_eq!(
        std::fs::read_to_string(root.join("src/lib.rs")).unwrap(),
        "fn answer() -> u32 { 42 }\n"
    );
    assert!(!root.join(".git/hooks/pre-commit").exists());

    let run = show(&env);
    assert_eq!(run["status"], "completed", "{run}");
    // The output is the agent's answer: its message chunks joined.
    let output = run["steps"][0]["output"].as_str().unwrap_or_default();
    assert!(
        output.starts_with("task: make answer() return 42\nLooking.\n"),
        "{output}"
    );
    assert!(output.ends_with("Done: 42."), "{output}");

    // The agent's tool call is a row of the store, as a native one is.
    let store = open_store(&env);
    let id = store.resolve_run(run["id"].as_str().unwrap()).unwrap();
    let calls: Vec<(String, String, String, bool)> = store
        .tool_calls(&id, 0)
        .unwrap()
        .into_iter()
        .map(|c| (c.call_id, c.name, c.status.as_str().to_string(), c.is_error))
        .collect();
    assert_eq!(
        calls,
        [(
            "t1".to_string(),
            "edit".to_string(),
            "completed".to_string(),
            false
        )]
    );

    let seen = seen(&env);
    assert_eq!(
        seen[0]["clientCapabilities"]["fs"],
        serde_json::json!({"readTextFile": true, "writeTextFile": true})
    );
    assert_eq!(seen[0]["clientCapabilities"]["terminal"], true);
    // Another vendor's key never reaches the agent.
    assert_eq!(seen[0]["env_key"], Value::Null);
    assert_eq!(
        seen[1]["cwd"],
        root.canonicalize().unwrap().display().to_string()
    );
}

#[test]
fn agent_that_crashes_mid_turn_fails_the_step_with_its_exit_status_and_stderr() {
    let env = setup(r#"[{"say": "starting\n"}, {"crash": 3}]"#);
    let out = agentls(&env).args(["run", "fix"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let run = show(&env);
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["steps"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("exited with code 3"), "{error}");
    assert!(error.contains("fake agent: crashing on purpose"), "{error}");
}

#[test]
fn cancel_kills_an_agent_that_ignores_session_cancel_with_its_process_group() {
    let env = TestEnv::new();
    let pidfile = env.root().join("sleeper.pid");
    let script = serde_json::json!([
        {"spawn_sleeper": pidfile},
        {"say": "working\n"},
        {"ignore_cancel": true}
    ]);
    scripted(&env, &script);
    let child = run_in_background(&env);
    let sleeper = pid_in(&pidfile);
    assert!(support::process_running(sleeper));
    let out = ctrl_c(child);
    assert!(
        !support::process_running(sleeper),
        "the agent's process group outlived the cancel"
    );
    let run = show(&env);
    assert_eq!(run["status"], "cancelled", "{run} {}", text(&out));
}

#[test]
fn agent_that_honours_session_cancel_ends_the_step_cancelled() {
    let env = TestEnv::new();
    let script = serde_json::json!([{"say": "waiting\n"}, {"wait_cancel": true}]);
    scripted(&env, &script);
    let child = run_in_background(&env);
    // The session exists once the agent says where it works.
    support::wait_until("the session", Duration::from_secs(30), || {
        seen(&env).len() >= 2
    });
    let started = Instant::now();
    let out = ctrl_c(child);
    let run = show(&env);
    assert_eq!(run["status"], "cancelled", "{run} {}", text(&out));
    // Ended by the agent's answer, not by the grace period's kill.
    assert!(
        started.elapsed() < agentls_acp::GRACE,
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn workspace_defined_agent_does_not_start_until_approved() {
    let env = TestEnv::new();
    let config = agent_config(&env, r#"[{"say": "hello from the workspace agent"}]"#);
    env.write("ws/.agentls/config.toml", &config);
    env.write("config/agentls/workflows/fix.toml", WORKFLOW);

    let out = agentls(&env).args(["run", "fix"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("start the ACP agent `fake` as `python3"),
        "{}",
        text(&out)
    );
    assert!(seen(&env).is_empty(), "the agent was started");
    let run = show(&env);
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["steps"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("no ACP agent `fake`"), "{error}");

    let out = agentls(&env)
        .args(["run", "fix", "--trust"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("hello from the workspace agent"));
}

#[test]
fn in_the_editor_the_agent_reads_the_unsaved_buffer_and_its_write_is_an_apply_edit() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/src/lib.rs", "fn answer() -> u32 { 0 }\n");
    let lib = folder.canonicalize().unwrap().join("src/lib.rs");
    let script = json!([
        {"read": lib},
        {"write": [lib, "fn answer() -> u32 { 42 }\n"]},
        {"flood": 10000},
        {"say": "\nDone."}
    ]);
    env.write(
        "config/agentls/config.toml",
        &agent_config(&env, &script.to_string()),
    );
    env.user_workflow("fix", WORKFLOW);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let lib_uri = file_uri(&lib);
    // Unsaved in the editor: the disk still says 0.
    server.did_open(&lib_uri, "rust", 7, "fn answer() -> u32 { 41 }\n");
    let run = server.start_run(json!({"workflow": "fix"}));
    let edit = server.wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"][0]["textDocument"],
        json!({"uri": lib_uri, "version": 7}),
        "the write is an edit of the editor's buffer, at its version"
    );
    server.wait_state(&run, "completed");
    let live = server.output_text(&run);
    assert!(
        live.contains(&format!(
            "read {}: fn answer() -> u32 {{ 41 }}",
            lib.display()
        )),
        "the agent read the unsaved text: {}",
        &live[..live.len().min(2000)]
    );
    assert!(live.contains(&format!("write {}: ok", lib.display())));
    let flood: String = (0..10000).map(|i| format!("x{i} ")).collect();
    assert!(live.contains(&flood), "the joined flood is complete");
    assert!(
        live.ends_with("Done.\n"),
        "{}",
        &live[live.len().saturating_sub(200)..]
    );
    let notifications = server
        .notifications("agent/output")
        .into_iter()
        .filter(|p| p["runId"] == run)
        .count();
    assert!(
        notifications < 1000,
        "10,000 updates reached the editor as {notifications} notifications: not coalesced"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("src/lib.rs")).unwrap(),
        "fn answer() -> u32 { 0 }\n",
        "the disk is the editor's to save"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn the_agents_terminal_runs_allowed_commands_through_the_exec_layer() {
    let env = setup(
        r#"[
        {"terminal": ["sh", ["-c", "echo hello-from-terminal"]]},
        {"terminal": ["echo", ["two", "words"]]}
    ]"#,
    );
    let out = agentls(&env).args(["run", "fix"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "▸ terminal `echo hello-from-terminal`",
        "terminal sh: exit 0: hello-from-terminal",
        "terminal echo: exit 0: two words",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{}",
            text(&out)
        );
    }
}

#[test]
fn cancel_during_a_long_terminal_command_kills_its_process_group_at_once() {
    let env = TestEnv::new();
    let pidfile = env.root().join("long.pid");
    env.write(
        "ws/long",
        &format!(
            "#!/bin/sh\necho $$ > {}\nexec sleep 600\n",
            pidfile.display()
        ),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let path = ws(&env).join("long");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.write(
        "config/agentls/config.toml",
        &agent_config(&env, r#"[{"terminal": ["./long", []]}, {"say": "after"}]"#),
    );
    env.write("config/agentls/workflows/fix.toml", WORKFLOW);
    let child = run_in_background(&env);
    let long = pid_in(&pidfile);
    assert!(support::process_running(long));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    // The command's group goes with the cancel, not with the agent's
    // grace period.
    support::wait_until("the long command's end", Duration::from_secs(1), || {
        !support::process_running(long)
    });
    let out = child.wait_with_output().unwrap();
    let run = show(&env);
    assert_eq!(run["status"], "cancelled", "{run} {}", text(&out));
}

/// The run's transcript file (`show --json` names it).
fn transcript(run: &Value) -> String {
    let path = run["transcript"].as_str().expect("a transcript path");
    std::fs::read_to_string(path).expect("the transcript")
}

fn killed_mid_turn_then_resumed(load: bool) -> (TestEnv, Value, Vec<Value>) {
    let env = TestEnv::new();
    let marker = env.root().join("hung");
    let script = json!([{"say": "started\n"}, {"once_hang": marker}, {"say": "finished"}]);
    let mut config = agent_config(&env, &script.to_string());
    if load {
        config = config.replace("env = { ", "env = { FAKE_ACP_LOAD = \"1\", ");
    }
    env.write("config/agentls/config.toml", &config);
    env.write("config/agentls/workflows/fix.toml", WORKFLOW);
    env.mkdir("ws");
    let mut child = run_in_background(&env);
    support::wait_until("the agent mid-turn", Duration::from_secs(30), || {
        marker.exists()
    });
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();

    let runs = agentls(&env).args(["runs", "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("runs --json");
    let id = runs[0]["id"].as_str().expect("the run").to_string();
    let resumed = agentls(&env).args(["resume", &id]).output().unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    let out = agentls(&env)
        .args(["show", &id, "--json"])
        .output()
        .unwrap();
    let run: Value = serde_json::from_slice(&out.stdout).expect("show --json");
    (env.clone(), run, seen(&env))
}

#[test]
fn after_a_sigkill_an_agent_with_load_session_continues_its_session() {
    let (_env, run, seen) = killed_mid_turn_then_resumed(true);
    assert_eq!(run["status"], "completed", "{run}");
    // Its session was created once, and loaded after the resume.
    let sessions = seen.iter().filter(|s| s.get("cwd").is_some()).count();
    assert_eq!(sessions, 1, "{seen:?}");
    let loads: Vec<&Value> = seen.iter().filter(|s| s.get("load").is_some()).collect();
    assert_eq!(loads.len(), 1, "{seen:?}");
    let transcript = transcript(&run);
    assert!(
        transcript.contains(&format!(
            "[continuing the agent's session {} (session/load)]",
            loads[0]["load"].as_str().unwrap()
        )),
        "{transcript}"
    );
    // The replayed history is not this turn's answer.
    assert!(
        !transcript.contains("an old message, replayed"),
        "{transcript}"
    );
    assert_eq!(
        run["steps"][0]["output"],
        "task: make answer() return 42\nstarted\nfinished"
    );
}

#[test]
fn after_a_sigkill_an_agent_without_load_session_runs_the_step_again_and_says_so() {
    let (_env, run, seen) = killed_mid_turn_then_resumed(false);
    assert_eq!(run["status"], "completed", "{run}");
    assert!(seen.iter().all(|s| s.get("load").is_none()), "{seen:?}");
    let sessions = seen.iter().filter(|s| s.get("cwd").is_some()).count();
    assert_eq!(sessions, 2, "a new session after the resume: {seen:?}");
    let transcript = transcript(&run);
    assert!(
        transcript
            .contains("(it does not offer session/load): the step runs again from its prompt]"),
        "{transcript}"
    );
}

#[test]
fn a_step_timeout_ends_the_agent_with_everything_it_started() {
    let env = TestEnv::new();
    let pidfile = env.root().join("sleeper.pid");
    let script = json!([{"spawn_sleeper": pidfile}, {"ignore_cancel": true}]);
    env.write(
        "config/agentls/config.toml",
        &agent_config(&env, &script.to_string()),
    );
    env.write(
        "config/agentls/workflows/fix.toml",
        &format!("{WORKFLOW}timeout = \"1s\"\n"),
    );
    env.mkdir("ws");
    let out = agentls(&env).args(["run", "fix"]).output().unwrap();
    let run = show(&env);
    assert_eq!(run["status"], "failed", "{run} {}", text(&out));
    let sleeper = pid_in(&pidfile);
    assert!(
        !support::process_running(sleeper),
        "the agent's child outlived the step"
    );
}

fn prompt_blocks(embed: bool) -> Vec<Value> {
    let env = TestEnv::new();
    let mut config = agent_config(&env, "[]");
    if embed {
        config = config.replace("env = { ", "env = { FAKE_ACP_EMBED = \"1\", ");
    }
    env.write("config/agentls/config.toml", &config);
    env.write("config/agentls/workflows/fix.toml", WORKFLOW);
    env.write("ws/src/lib.rs", "fn a() {}\nfn answer() -> u32 { 41 }\n");
    let out = agentls(&env)
        .args(["run", "fix", "--file", "src/lib.rs", "--range", "2:1-2:10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let seen = seen(&env);
    let prompt = seen.iter().find_map(|s| s.get("prompt")).expect("a prompt");
    prompt.as_array().unwrap().clone()
}

#[test]
fn the_current_file_and_the_selection_go_with_the_prompt_as_resources() {
    let blocks = prompt_blocks(true);
    assert_eq!(blocks[0]["type"], "text");
    assert_eq!(blocks[0]["text"], "make answer() return 42");
    assert_eq!(blocks[1]["type"], "resource");
    let file = &blocks[1]["resource"];
    assert!(
        file["uri"].as_str().unwrap().ends_with("/ws/src/lib.rs"),
        "{file}"
    );
    assert_eq!(file["text"], "fn a() {}\nfn answer() -> u32 { 41 }\n");
    let selection = &blocks[2]["resource"];
    assert!(
        selection["uri"]
            .as_str()
            .unwrap()
            .ends_with("/ws/src/lib.rs#L2-L2"),
        "{selection}"
    );
    assert_eq!(selection["text"], "fn answer");

    // An agent without embedded context gets links.
    let blocks = prompt_blocks(false);
    assert_eq!(blocks[1]["type"], "resource_link");
    assert_eq!(blocks[1]["name"], "src/lib.rs");
    assert!(blocks[1].get("text").is_none());
}

#[test]
fn in_a_worktree_run_the_agent_works_in_the_runs_worktree_and_the_workspace_is_untouched() {
    let env = TestEnv::new();
    let root = ws(&env);
    let script = json!([
        {"read": "src/lib.rs"},
        {"write": ["src/lib.rs", "fn answer() -> u32 { 42 }\n"]},
        // The agent's own writes, past agentls (as Claude Code's own tools
        // do): its sandbox holds them to the worktree.
        {"disk_write": "notes.txt"},
        {"disk_write": root.join("src/lib.rs")},
        {"disk_write": env.root().join("elsewhere.txt")}
    ]);
    env.write(
        "config/agentls/config.toml",
        &agent_config(&env, &script.to_string()),
    );
    env.write(
        "config/agentls/workflows/fix.toml",
        &format!("isolation = \"worktree\"\n{WORKFLOW}"),
    );
    env.write("ws/src/lib.rs", "fn answer() -> u32 { 41 }\n");
    support::git(&root, &["init", "--quiet", "-b", "main"]);
    support::git(&root, &["add", "-A"]);
    support::git(&root, &["commit", "--quiet", "-m", "first"]);

    let out = agentls(&env).args(["run", "fix"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("fn answer() -> u32 { 41 }"),
        "{}",
        text(&out)
    );
    assert!(stdout.contains("src/lib.rs: ok"), "{}", text(&out));
    for expected in [
        "disk_write notes.txt: ok".to_string(),
        format!("disk_write {}: error 13", root.join("src/lib.rs").display()),
        format!(
            "disk_write {}: error 13",
            env.root().join("elsewhere.txt").display()
        ),
    ] {
        assert!(
            stdout.contains(&expected),
            "missing {expected:?} in\n{}",
            text(&out)
        );
    }
    assert!(!env.root().join("elsewhere.txt").exists());
    let cwd = seen(&env)[1]["cwd"].as_str().unwrap().to_string();
    assert_ne!(cwd, root.canonicalize().unwrap().display().to_string());
    assert_eq!(
        std::fs::read_to_string(root.join("src/lib.rs")).unwrap(),
        "fn answer() -> u32 { 41 }\n",
        "the workspace is untouched until the run is applied"
    );
    let run = show(&env);
    let id = run["id"].as_str().unwrap();
    let diff = agentls(&env).args(["diff", id]).output().unwrap();
    let patch = String::from_utf8_lossy(&diff.stdout);
    assert!(
        patch.contains("+fn answer() -> u32 { 42 }"),
        "{}",
        text(&diff)
    );
}

/// The run as `show --json` has it, once there is one.
fn try_show(env: &TestEnv) -> Option<Value> {
    let runs = agentls(env).args(["runs", "--json"]).output().ok()?;
    let runs: Value = serde_json::from_slice(&runs.stdout).ok()?;
    let id = runs[0]["id"].as_str()?.to_string();
    let out = agentls(env).args(["show", &id, "--json"]).output().ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

/// Waits until the step asks a person about `says` while its run goes on
/// (the agent process waits for the answer); returns the run's id.
fn wait_for_question(env: &TestEnv, says: &str) -> String {
    let mut id = String::new();
    support::wait_until(
        &format!("the question {says:?}"),
        Duration::from_secs(30),
        || {
            let Some(run) = try_show(env) else {
                return false;
            };
            let step = &run["steps"][0];
            let asked = run["status"] == "running"
                && step["status"] == "waiting"
                && step["error"].as_str().is_some_and(|e| e.contains(says));
            if asked {
                id = run["id"].as_str().unwrap_or_default().to_string();
            }
            asked
        },
    );
    id
}

#[test]
fn what_the_rules_do_not_cover_waits_for_a_person_approved_once_rejected_once() {
    let env = TestEnv::new();
    let root = ws(&env);
    let script = json!([
        {"permission": {"title": "Run rm -rf build", "kind": "execute", "rawInput": {"command": "rm -rf build"}}},
        // What the person allowed runs without a second question.
        {"terminal": ["rm", ["-rf", "build"]]},
        {"permission": {"title": "Run git push", "kind": "execute", "rawInput": {"command": "git push"}}},
        // A bare write outside `allow.edit` asks too; "always" covers the next.
        {"write": [root.join("README"), "hello\n"]},
        {"write": [root.join("README"), "hello again\n"]},
        {"say": "Done."}
    ]);
    scripted(&env, &script);
    env.write("ws/build/out.o", "object\n");
    let child = run_in_background(&env);

    // Each answer comes from another agentls process, through the store.
    let run = wait_for_question(&env, "run `rm -rf build`");
    assert!(root.join("build/out.o").exists(), "ran before the answer");
    let out = agentls(&env).args(["approve", &run]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("goes on in the agentls that drives it"),
        "{}",
        text(&out)
    );
    wait_for_question(&env, "run `git push`");
    let out = agentls(&env)
        .args(["reject", &run, "--reason", "not today"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    wait_for_question(&env, "write README");
    let out = agentls(&env)
        .args(["approve", &run, "--always"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in [
        &format!("⏸ waiting for approval: run `rm -rf build` (agentls approve {run}"),
        "▸ approved: Run rm -rf build",
        "permission Run rm -rf build: yes",
        "terminal rm: exit 0",
        "⛔ rejected: Run git push (The user rejected this tool call: not today)",
        "permission Run git push: no",
        "⏸ waiting for approval: write README:",
        "+hello",
        "▸ approved for the rest of the run: Write README",
        &format!("write {}: ok", root.join("README").display()),
        "Done.",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{}",
            text(&out)
        );
    }
    assert_eq!(
        stdout.matches("⏸ waiting for approval").count(),
        3,
        "asked once per question: {stdout}"
    );
    assert!(!root.join("build").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("README")).unwrap(),
        "hello again\n"
    );
    let record = show(&env);
    assert_eq!(record["status"], "completed", "{record}");

    let store = open_store(&env);
    let id = store.resolve_run(&run).unwrap();
    let calls: Vec<(String, String)> = store
        .tool_calls(&id, 0)
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.status.as_str().to_string()))
        .collect();
    assert_eq!(
        calls,
        [
            ("execute".to_string(), "completed".to_string()),
            ("execute".to_string(), "rejected".to_string()),
            ("edit".to_string(), "completed".to_string()),
        ],
        "one row per question"
    );
    assert!(store.is_granted(&id, "edit", "README").unwrap());
}

/// The editor asks each question with `showMessageRequest`: *Allow once*
/// answers the first, *Deny* the second. The third is dismissed: the run's
/// state (still `running`) offers approve and reject, and `agent.reject`
/// answers it.
#[test]
fn in_the_editor_the_agents_question_is_asked_allowed_once_then_denied() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/src/lib.rs", "fn answer() -> u32 { 0 }\n");
    let script = json!([
        {"permission": {"title": "Run cargo publish", "kind": "execute", "rawInput": {"command": "cargo publish"}}},
        {"permission": {"title": "Run git push", "kind": "execute", "rawInput": {"command": "git push"}}},
        {"permission": {"title": "Run make deploy", "kind": "execute", "rawInput": {"command": "make deploy"}}},
        {"say": "Done."}
    ]);
    env.write(
        "config/agentls/config.toml",
        &agent_config(&env, &script.to_string()),
    );
    env.user_workflow("fix", WORKFLOW);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.answer_in_turn(
        "window/showMessageRequest",
        vec![
            json!({"title": "Allow once"}),
            json!({"title": "Deny"}),
            Value::Null,
        ],
    );
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let run = server.start_run(json!({"workflow": "fix"}));
    for command in ["cargo publish", "git push"] {
        let asked = server.wait_server_request("window/showMessageRequest", |p| {
            p["message"].as_str().is_some_and(|m| m.contains(command))
        });
        assert_eq!(
            asked.params["message"],
            format!("agentls: `fix` (step `fix`) wants to run `{command}`")
        );
    }
    server.wait_server_request("window/showMessageRequest", |p| {
        p["message"]
            .as_str()
            .is_some_and(|m| m.contains("make deploy"))
    });
    let state = server.wait_notification("agent/state", "the question's actions", |p| {
        p["runId"] == run.as_str() && p["steps"][0]["status"] == "waiting"
    });
    assert_eq!(state["status"], "running", "{state}");
    assert_eq!(
        state["actions"],
        json!(["approve", "reject", "cancel"]),
        "{state}"
    );
    assert_eq!(
        state["steps"][0]["actions"],
        json!(["approve", "reject"]),
        "{state}"
    );
    server.command_ok("agent.reject", json!({"runId": run, "reason": "not now"}));
    server.wait_state(&run, "completed");
    let live = server.output_text(&run);
    for expected in [
        "permission Run cargo publish: yes",
        "⛔ rejected: Run git push (The user rejected this tool call: the user denied it in the editor)",
        "permission Run git push: no",
        "⛔ rejected: Run make deploy (The user rejected this tool call: not now)",
        "permission Run make deploy: no",
    ] {
        assert!(live.contains(expected), "missing {expected:?} in\n{live}");
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn cancel_while_the_agent_waits_for_a_person_ends_the_step_cancelled() {
    let env = setup(
        r#"[
        {"permission": {"title": "Run git push", "kind": "execute", "rawInput": {"command": "git push"}}},
        {"say": "after the answer"}
    ]"#,
    );
    let child = run_in_background(&env);
    wait_for_question(&env, "run `git push`");
    let out = ctrl_c(child);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // The pending question is answered `cancelled` (ACP's outcome for a
    // cancelled turn), and the agent hears it.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("permission Run git push: cancelled"),
        "{}",
        text(&out)
    );
    let run = show(&env);
    assert_eq!(
        (&run["status"], &run["steps"][0]["status"]),
        (&json!("cancelled"), &json!("cancelled")),
        "{run}"
    );
}

/// `agentls run` on a terminal asks the agent's question there while the
/// agent waits: `y` allows it once, a reason refuses the next.
#[test]
fn on_a_terminal_agentls_run_asks_the_agents_question() {
    let env = setup(
        r#"[
        {"permission": {"title": "Run cargo publish", "kind": "execute", "rawInput": {"command": "cargo publish"}}},
        {"permission": {"title": "Run git push", "kind": "execute", "rawInput": {"command": "git push"}}},
        {"say": "Done."}
    ]"#,
    );
    let mut command = agentls(&env);
    command.args(["run", "fix"]);
    let mut terminal = support::OnTerminal::spawn(&command);
    let question = "Allow? [y = once, a = always in this run";
    let first = terminal.wait_for(question, 1);
    assert!(
        first.contains("Step `fix` wants to run `cargo publish`"),
        "{first}"
    );
    terminal.type_line("y");
    let second = terminal.wait_for(question, 2);
    assert!(second.contains("wants to run `git push`"), "{second}");
    terminal.type_line("not from here");
    assert!(terminal.success());
    let run = show(&env);
    assert_eq!(run["status"], "completed", "{run}");
    let live = transcript(&run);
    for expected in [
        "permission Run cargo publish: yes",
        "⛔ rejected: Run git push (The user rejected this tool call: not from here)",
        "permission Run git push: no",
        "Done.",
    ] {
        assert!(live.contains(expected), "missing {expected:?} in\n{live}");
    }
}

/// claude-code-acp 0.16 asks with the call's id, title and input only: the
/// kind and files came in its `tool_call` before. agentls decides with
/// both, and a second `tool_call` for the same id renames it.
#[test]
fn a_permission_request_naming_a_reported_call_is_decided_with_what_was_reported() {
    let env = TestEnv::new();
    let root = ws(&env);
    let lib = root.join("src/lib.rs");
    let script = json!([
        {"report": {"toolCallId": "e1", "title": "Edit File", "kind": "edit"}},
        {"report": {"toolCallId": "e1", "title": "Edit src/lib.rs", "kind": "edit", "locations": [{"path": lib}]}},
        {"permission": {"toolCallId": "e1", "title": "Edit src/lib.rs", "rawInput": {"file_path": lib}}},
        {"say": "first"},
        {"tool_call": ["t2", "Run cargo test", "execute"]},
        {"say": "second"}
    ]);
    scripted(&env, &script);
    // Were the request not completed, it would wait for a person: the
    // timeout fails the test instead of hanging it.
    env.write(
        "config/agentls/workflows/fix.toml",
        &format!("{WORKFLOW}timeout = \"20s\"\n"),
    );
    let out = agentls(&env)
        .args(["run", "fix"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "▸ Edit File\n",
        "▸ Edit src/lib.rs\n",
        "▸ allowed: Edit src/lib.rs",
        "permission Edit src/lib.rs: yes",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{}",
            text(&out)
        );
    }
    let run = show(&env);
    // Messages with other work between them are paragraphs of the output.
    let output = run["steps"][0]["output"].as_str().unwrap_or_default();
    assert!(output.ends_with("first\n\nsecond"), "{output:?}");
}

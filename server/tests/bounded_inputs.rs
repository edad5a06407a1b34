//! Bounded by construction: files a repository, a workflow or a config names
//! (FIFOs, /dev/zero, huge files) and templates that loop for ever, through
//! the real binary. Each must fail soon with a message naming the file or the
//! step, never hang or grow without bound.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

/// Runs `cmd`, failing the test (and killing it) if it takes longer than
/// `limit`: a hang is exactly what these tests guard against.
fn run_within(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("agentls starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("agentls ran"),
        Err(_) => {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("agentls did not finish within {limit:?}");
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

fn dev_zero_at(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/dev/zero", path).unwrap();
}

/// A sparse file of `len` bytes: big on paper, nothing on disk.
fn sparse(path: &Path, len: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn agentls_run_refuses_a_config_file_that_is_a_fifo_or_dev_zero() {
    for (make, kind) in [
        (mkfifo as fn(&Path), "a FIFO"),
        (dev_zero_at, "a character device"),
    ] {
        let env = TestEnv::new();
        let config = env.root().join(".agentls/config.toml");
        make(&config);
        let out = run_within(env.command().args(["run", "demo"]), LIMIT);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(
            all.contains(&format!(
                "{}: cannot read: not a regular file ({kind})",
                config.display()
            )),
            "{all}"
        );
    }
}

#[test]
fn agentls_run_refuses_a_config_file_over_one_mib() {
    let env = TestEnv::new();
    let config = env.root().join(".agentls/config.toml");
    sparse(&config, 10 * 1024 * 1024 * 1024);
    let out = run_within(env.command().args(["run", "demo"]), LIMIT);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains(&format!(
            "{}: cannot read: larger than the 1 MiB limit",
            config.display()
        )),
        "{all}"
    );
}

#[test]
fn a_replay_cassette_that_is_a_fifo_or_dev_zero_fails_the_step_and_names_it() {
    for (make, kind) in [
        (mkfifo as fn(&Path), "a FIFO"),
        (dev_zero_at, "a character device"),
    ] {
        let env = TestEnv::new();
        let cassette = env.root().join("tapes/cassette.json");
        make(&cassette);
        support::write_file(
            &env.user_config_path(),
            &format!(
                "default_provider = \"tape\"\n[providers.tape]\nkind = \"replay\"\ncassette = \"{}\"\n",
                cassette.display()
            ),
        );
        env.user_workflow("ask", "[[steps]]\nid = \"ask\"\nprompt = \"hello\"\n");
        let out = run_within(env.command().args(["run", "ask"]), LIMIT);
        let all = text(&out);
        assert_ne!(out.status.code(), Some(0), "{all}");
        assert!(
            all.contains(&format!(
                "cassette {}: cannot read: not a regular file ({kind})",
                cassette.display()
            )),
            "{all}"
        );
    }
}

#[test]
fn workflow_files_that_are_fifos_or_huge_are_reported_not_read() {
    let env = TestEnv::new();
    let dir = env.xdg_config_home().join("agentls/workflows");
    mkfifo(&dir.join("pipe.toml"));
    sparse(&dir.join("big.toml"), 10 * 1024 * 1024 * 1024);
    env.user_workflow("fine", "[[steps]]\nid = \"a\"\nrun = \"true\"\n");
    let out = run_within(env.command().args(["check"]), LIMIT);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("pipe.toml:1:1: error: cannot read: not a regular file (a FIFO)"),
        "{all}"
    );
    assert!(
        all.contains("big.toml:1:1: error: cannot read: larger than the 1 MiB limit"),
        "{all}"
    );
    // The good one still runs.
    let out = run_within(env.command().args(["run", "fine"]), LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn nested_ranges_of_ten_to_the_fifth_fail_the_step_with_a_fuel_error() {
    let env = TestEnv::new();
    env.user_workflow(
        "spin",
        "[[steps]]\nid = \"spin\"\nrun = \"echo {% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\"\n",
    );
    let started = Instant::now();
    let out = run_within(env.command().args(["run", "spin"]), LIMIT);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("step `spin`: template of `run` ran out of fuel"),
        "{all}"
    );
    eprintln!("failed after {:?}", started.elapsed());
}

#[test]
fn an_edit_file_path_ending_in_a_slash_is_refused_and_writes_nothing() {
    let env = TestEnv::new();
    // Literal: refused when the file is checked.
    env.user_workflow(
        "literal",
        "[[steps]]\nid = \"w\"\nedit = { file = \"sub/\", text = \"x\" }\n",
    );
    let out = run_within(env.command().args(["check"]), LIMIT);
    let all = text(&out);
    assert!(
        all.contains("edit path `sub/` ends with `/`; name a file, not a directory"),
        "{all}"
    );
    // Rendered: refused when the step runs.
    env.user_workflow(
        "literal",
        "[[steps]]\nid = \"w\"\nedit = { file = \"{{ 'sub' }}/\", text = \"x\" }\n",
    );
    let out = run_within(env.command().args(["run", "literal"]), LIMIT);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("edit path `sub/` ends with `/`; name a file, not a directory"),
        "{all}"
    );
    assert!(!env.root().join("sub").exists(), "no file named sub");
}

/// A render that takes minutes within its fuel: a few instructions per
/// iteration, each one upper-casing a megabyte.
const HEAVY_RENDER: &str = r#"
title = "Heavy"
[[steps]]
id = "heavy"
run = '''echo {% set s = "x" * 1000000 %}{% for i in range(100000) %}{{ s | upper | length }}{% endfor %}'''
"#;

#[test]
fn agent_cancel_during_a_heavy_render_is_answered_at_once_and_the_run_ends_cancelled() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.user_workflow("heavy", HEAVY_RENDER);
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let run = server.start_run(json!({"workflow": "heavy", "uri": file_uri(&file)}));
    server.wait_notification("agent/state", "the step rendering", |p| {
        p["runId"] == run && p["steps"][0]["status"] == "running"
    });
    let asked = Instant::now();
    let state = server.command_ok("agent.cancel", json!({"runId": run}));
    let took = asked.elapsed();
    // agent.cancel answers with the state so far after 2 s when the run has
    // not stopped: "cancelled" here means the run stopped without waiting
    // for the render.
    assert_eq!(state["status"], "cancelled", "{state}");
    assert!(took < Duration::from_secs(1), "cancel took {took:?}");
    let state = server.wait_state(&run, "cancelled");
    assert_eq!(state["steps"][0]["status"], "cancelled");
    // The server answers other requests at once as well.
    server.command_ok("agent.status", json!({"runId": run}));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

//! Behaviour that depends on this process's environment. Setting variables
//! in a multi-threaded test binary is racy, so each test re-runs itself in
//! a child process with the variables set and checks that the child passed.

mod common;

use std::process::Command;

use agentls_exec::{strip_ansi, PtyMode, Termination};
use common::{capture, spec, BOTH_MODES};

const CHILD_MARKER: &str = "AGENTLS_EXEC_TEST_CHILD";

fn in_child() -> bool {
    std::env::var_os(CHILD_MARKER).is_some()
}

/// Re-runs test `name` alone in a child process with `vars` set.
fn rerun_in_child(name: &str, vars: &[(&str, &str)]) {
    let exe = std::env::current_exe().expect("test binary path");
    let output = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MARKER, "1")
        .envs(vars.iter().copied())
        .output()
        .expect("re-run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child run of {name} failed:\n{stdout}\n{stderr}"
    );
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn provider_keys_in_our_environment_do_not_reach_children() {
    if !in_child() {
        return rerun_in_child(
            "provider_keys_in_our_environment_do_not_reach_children",
            &[
                ("ANTHROPIC_API_KEY", "sk-ant-secret"),
                ("OPENAI_API_KEY", "sk-secret"),
            ],
        );
    }
    assert_eq!(
        std::env::var("ANTHROPIC_API_KEY").as_deref(),
        Ok("sk-ant-secret")
    );
    block_on(async {
        for mode in BOTH_MODES {
            let command =
                "printf '%s|%s' \"${ANTHROPIC_API_KEY-unset}\" \"${OPENAI_API_KEY-unset}\"";
            let (_, raw) = capture(spec(command, mode)).await;
            assert_eq!(strip_ansi(&raw), "unset|unset", "{mode:?}");

            let mut spec = spec(command, mode);
            spec.env.push(("OPENAI_API_KEY".into(), "given".into()));
            let (_, raw) = capture(spec).await;
            assert_eq!(strip_ansi(&raw), "unset|given", "{mode:?}");
        }
    });
}

#[test]
fn agentls_pty_off_forces_pipes() {
    if !in_child() {
        return rerun_in_child("agentls_pty_off_forces_pipes", &[("AGENTLS_PTY", "off")]);
    }
    block_on(async {
        let (outcome, _) = capture(spec("test -t 1", PtyMode::Auto)).await;
        assert!(!outcome.used_pty);
        assert_eq!(outcome.termination, Termination::Exited(1));
    });
}

#[test]
fn probe_finds_a_pty_here() {
    agentls_exec::probe_pty().expect("this machine can open a PTY");
}

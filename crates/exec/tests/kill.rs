//! Timeouts, cancellation and the end of a command leave no process of its
//! group behind, and a process that escaped the group cannot hang the run.

mod common;

use std::time::Duration;

use agentls_exec::{strip_ansi, PtyMode, Termination};
use common::{assert_gone, assert_mode, number_after, process_alive, spec, Running, BOTH_MODES};

/// A shell with a background grandchild (`bg`), and a nested shell whose
/// child is `sleep` (`inner`), all waiting.
const FAMILY: &str = "sleep 1000 & echo \"bg=$!\"; \
     sh -c 'echo \"inner=$$\"; exec sleep 1000' & \
     echo \"sh=$$\"; wait";

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    for mode in BOTH_MODES {
        let mut spec = spec(FAMILY, mode);
        spec.timeout = Some(Duration::from_millis(500));
        let (result, raw) = Running::start(spec).finish().await;
        let outcome = result.expect("command could not be run");
        assert_mode(&outcome, mode);
        assert_eq!(outcome.termination, Termination::TimedOut, "{mode:?}");
        assert_eq!(outcome.exit_code(), None);
        let text = strip_ansi(&raw);
        for key in ["bg=", "inner=", "sh="] {
            assert_gone(number_after(&text, key), key);
        }
    }
}

#[tokio::test]
async fn cancel_kills_the_whole_process_group() {
    for mode in BOTH_MODES {
        let mut running = Running::start(spec(FAMILY, mode));
        running.wait_for("inner=").await;
        running.wait_for("sh=").await;
        running.cancel.cancel();
        let (result, raw) = running.finish().await;
        let outcome = result.expect("command could not be run");
        assert_mode(&outcome, mode);
        assert_eq!(outcome.termination, Termination::Cancelled, "{mode:?}");
        let text = strip_ansi(&raw);
        for key in ["bg=", "inner=", "sh="] {
            assert_gone(number_after(&text, key), key);
        }
    }
}

#[tokio::test]
async fn children_ignoring_sigterm_are_killed_after_the_grace() {
    for mode in BOTH_MODES {
        // Ignored dispositions are inherited: the shell and sleep both shrug
        // off SIGTERM, only SIGKILL ends them.
        let mut spec = spec("trap '' TERM; sleep 1000 & echo \"bg=$!\"; wait", mode);
        spec.timeout = Some(Duration::from_millis(200));
        let (result, raw) = Running::start(spec).finish().await;
        let outcome = result.expect("command could not be run");
        assert_eq!(outcome.termination, Termination::TimedOut, "{mode:?}");
        assert_gone(number_after(&strip_ansi(&raw), "bg="), "bg");
    }
}

#[tokio::test]
async fn background_jobs_end_with_the_command() {
    for mode in BOTH_MODES {
        let (result, raw) = Running::start(spec("sleep 1000 & echo \"bg=$!\"", mode))
            .finish()
            .await;
        let outcome = result.expect("command could not be run");
        assert_mode(&outcome, mode);
        assert_eq!(outcome.termination, Termination::Exited(0), "{mode:?}");
        assert_gone(number_after(&strip_ansi(&raw), "bg="), "bg");
    }
}

#[tokio::test]
async fn a_process_that_left_the_group_does_not_hang_the_run() {
    for mode in BOTH_MODES {
        // setsid puts it out of reach; it keeps the terminal or pipe open.
        let command = "setsid sh -c 'echo \"escaped=$$\"; exec sleep 1000' & \
                       sleep 0.2; echo after";
        let (result, raw) = Running::start(spec(command, mode)).finish().await;
        let text = strip_ansi(&raw);
        let escaped = number_after(&text, "escaped=");
        let still_there = process_alive(escaped);
        // Clean up before asserting, so a failure leaves nothing behind.
        unsafe { libc::kill(escaped, libc::SIGKILL) };
        let outcome = result.expect("command could not be run");
        assert_mode(&outcome, mode);
        assert_eq!(outcome.termination, Termination::Exited(0), "{mode:?}");
        assert!(text.ends_with("after\n"), "{mode:?}: {text:?}");
        assert!(
            still_there,
            "{mode:?}: the escaped process should be out of reach"
        );
    }
}

#[tokio::test]
async fn dropping_the_run_kills_the_group() {
    for mode in BOTH_MODES {
        let mut running = Running::start(spec(FAMILY, mode));
        running.wait_for("inner=").await;
        running.wait_for("sh=").await;
        let text = running.text();
        running.abort().await;
        for key in ["bg=", "inner=", "sh="] {
            assert_gone(number_after(&text, key), key);
        }
    }
}

#[tokio::test]
async fn an_already_cancelled_token_stops_the_command_at_once() {
    let running = Running::start(spec("sleep 1000", PtyMode::Off));
    running.cancel.cancel();
    let (result, _) = running.finish().await;
    let outcome = result.expect("command could not be run");
    assert_eq!(outcome.termination, Termination::Cancelled);
    assert!(outcome.duration < Duration::from_secs(5));
    assert_gone(outcome.pid as i32, "sh");
}

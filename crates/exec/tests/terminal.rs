//! What a command sees under the pseudo-terminal, and when pipes are used
//! instead.

mod common;

use agentls_exec::{strip_ansi, PtyMode, TerminalSize, Termination};
use common::{assert_mode, capture, spec};

#[tokio::test]
async fn stdout_is_a_terminal_under_pty() {
    let (outcome, _) = capture(spec("test -t 1", PtyMode::Auto)).await;
    assert_mode(&outcome, PtyMode::Auto);
    assert_eq!(outcome.termination, Termination::Exited(0));
}

#[tokio::test]
async fn stdout_is_not_a_terminal_with_pipes() {
    let (outcome, _) = capture(spec("test -t 1", PtyMode::Off)).await;
    assert_mode(&outcome, PtyMode::Off);
    assert_eq!(outcome.termination, Termination::Exited(1));
}

#[tokio::test]
async fn term_is_set_under_pty() {
    let mut spec = spec("printf '%s' \"$TERM\"", PtyMode::Auto);
    spec.term = "vt220".to_string();
    let (outcome, raw) = capture(spec).await;
    assert_mode(&outcome, PtyMode::Auto);
    assert_eq!(strip_ansi(&raw), "vt220");
}

#[tokio::test]
async fn stty_size_reports_the_configured_size() {
    let mut spec = spec("stty size", PtyMode::Auto);
    spec.size = TerminalSize { cols: 77, rows: 33 };
    let (outcome, raw) = capture(spec).await;
    assert_mode(&outcome, PtyMode::Auto);
    assert_eq!(strip_ansi(&raw), "33 77\n");
}

#[tokio::test]
async fn default_size_is_120_by_40() {
    let (_, raw) = capture(spec("stty size", PtyMode::Auto)).await;
    assert_eq!(strip_ansi(&raw), "40 120\n");
}

#[tokio::test]
async fn a_prompt_under_pty_reads_end_of_input_instead_of_hanging() {
    let (outcome, raw) = capture(spec(
        "test -t 0 && echo tty; read answer; echo \"read=$?\"",
        PtyMode::Auto,
    ))
    .await;
    assert_mode(&outcome, PtyMode::Auto);
    assert_eq!(strip_ansi(&raw), "tty\nread=1\n");
}

#[tokio::test]
async fn the_shell_leads_its_own_session_and_group_in_both_modes() {
    // Session leader: the group can be signalled as a whole, and with pipes
    // the command has no controlling terminal to be stopped on (SIGTTIN).
    for mode in common::BOTH_MODES {
        let (outcome, raw) = capture(spec(
            "set -- $(cut -d' ' -f5,6 /proc/$$/stat); echo \"pid=$$ pgid=$1 sid=$2\"",
            mode,
        ))
        .await;
        assert_mode(&outcome, mode);
        let pid = outcome.pid;
        assert_eq!(
            strip_ansi(&raw),
            format!("pid={pid} pgid={pid} sid={pid}\n"),
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn stdin_input_uses_pipes_even_in_auto_mode() {
    let mut spec = spec("cat; test -t 1 || echo '|piped'", PtyMode::Auto);
    spec.stdin = Some(b"prompt text".to_vec());
    let (outcome, raw) = capture(spec).await;
    assert!(!outcome.used_pty);
    assert_eq!(raw, b"prompt text|piped\n");
}

#[tokio::test]
async fn large_stdin_is_fed_while_output_is_read() {
    // Both directions exceed the pipe buffers: a runner that wrote all of
    // stdin before reading output would deadlock here.
    let input: Vec<u8> = (0..2 * 1024 * 1024)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let mut spec = spec("cat", PtyMode::Auto);
    spec.stdin = Some(input.clone());
    let (outcome, raw) = capture(spec).await;
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert_eq!(raw.len(), input.len());
    assert!(raw == input, "stdin came back altered");
}

#[tokio::test]
async fn unread_stdin_does_not_hold_up_the_command() {
    let mut spec = spec("echo done", PtyMode::Off);
    spec.stdin = Some(vec![b'x'; 4 * 1024 * 1024]);
    let (outcome, raw) = capture(spec).await;
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert_eq!(raw, b"done\n");
}

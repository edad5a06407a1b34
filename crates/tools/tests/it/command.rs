//! The text of a command's result: status first, output capped with the
//! head and the tail kept.

use std::time::Duration;

use agentls_exec::Termination;
use agentls_tools::format_command_result;

#[test]
fn the_status_comes_first_then_the_output() {
    let text = format_command_result(
        Termination::Exited(101),
        Duration::from_millis(2140),
        "test a ... FAILED\n",
        1024,
    );
    assert_eq!(text, "exit status 101 after 2.1 s\ntest a ... FAILED\n");
    let text = format_command_result(Termination::Exited(0), Duration::ZERO, "", 1024);
    assert_eq!(text, "exit status 0 after 0.0 s\n(no output)");
    let text = format_command_result(Termination::TimedOut, Duration::from_secs(30), "", 1024);
    assert!(
        text.starts_with("timed out after 30.0 s; the command and its process group were killed")
    );
    let text = format_command_result(Termination::Signaled(9), Duration::from_secs(1), "x", 1024);
    assert!(text.starts_with("killed by signal 9 after 1.0 s\n"));
}

#[test]
fn a_long_output_keeps_its_head_and_tail_and_says_what_was_cut() {
    let output: String = (1..=1000).map(|n| format!("line {n:04}\n")).collect();
    let cap = 1024;
    let text = format_command_result(Termination::Exited(1), Duration::from_secs(1), &output, cap);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("exit status 1 after 1.0 s"));
    assert_eq!(lines.next(), Some("line 0001"));
    assert!(text.ends_with("line 1000\n"));
    let marker = text.lines().find(|line| line.starts_with("[…")).unwrap();
    // Whole lines only: 51 of 10 bytes fit in each half.
    let kept: usize = text
        .lines()
        .filter(|line| line.starts_with("line "))
        .count();
    let cut = output.len() - kept * 10;
    assert_eq!(
        marker,
        format!("[… {cut} bytes cut: the output is capped at 1 KiB for the model; the start and the end are shown …]")
    );
    assert!(kept * 10 <= cap && kept * 10 > cap - 20, "{kept}");
}

#[test]
fn cutting_never_splits_a_character() {
    let output = "é".repeat(5000);
    let text = format_command_result(Termination::Exited(0), Duration::ZERO, &output, 999);
    assert!(text.contains("bytes cut"));
    assert!(text.lines().nth(1).unwrap().chars().all(|c| c == 'é'));
}

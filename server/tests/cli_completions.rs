//! `agentls completions <shell>` and `agentls man`: generated from the same
//! grammar the parser uses, so every subcommand is in them.

use std::process::Command;

const SUBCOMMANDS: &[&str] = &[
    "serve",
    "run",
    "runs",
    "show",
    "resume",
    "retry",
    "skip",
    "override",
    "approve",
    "reject",
    "workflows",
    "check",
    "stats",
    "doctor",
    "completions",
    "man",
];

fn agentls(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_agentls"))
        .args(args)
        .output()
        .expect("agentls runs")
}

#[test]
fn completion_scripts_name_every_subcommand_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = agentls(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell}: no `{sub}` in the script");
        }
        // Options of a subcommand are completed too (fish writes `-l workspace`).
        assert!(script.contains("workspace"), "{shell}: no --workspace");
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error_that_lists_the_shells() {
    let out = agentls(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bash") && err.contains("zsh"), "{err}");
}

#[test]
fn the_man_page_is_troff_with_every_subcommand() {
    let out = agentls(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH agentls 1"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("agentls\\-{sub}(1)")),
            "no `{sub}` in the man page"
        );
    }
}

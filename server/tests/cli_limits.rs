//! Limits a user meets from the shell: `runs --limit` and the output cap on
//! `agentls override`.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::TestEnv;

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("agentls runs")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)))
}

#[test]
fn runs_limit_zero_lists_every_run() {
    let env = TestEnv::new();
    env.write(
        "config/agentls/workflows/hello.toml",
        "[[steps]]\nid = \"hi\"\nrun = \"echo hi\"\n",
    );
    for _ in 0..3 {
        let out = run(env.command().args(["run", "hello"]));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let all = run(env.command().args(["runs", "--limit", "0"]));
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    let listed = String::from_utf8_lossy(&all.stdout);
    assert!(!listed.contains("no runs yet"), "{listed}");
    assert_eq!(
        listed.lines().filter(|l| l.contains("hello")).count(),
        3,
        "{listed}"
    );
    let all = json(&run(env.command().args(["runs", "--limit", "0", "--json"])));
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{all}");
    let one = json(&run(env.command().args(["runs", "--limit", "1", "--json"])));
    assert_eq!(one.as_array().map(Vec::len), Some(1), "{one}");
}

#[test]
fn an_override_over_the_output_cap_is_kept_truncated_and_says_so() {
    const CAP: usize = 64 * 1024;
    let env = TestEnv::new();
    env.write(
        "config/agentls/config.toml",
        &format!("[store]\nmax_output_bytes = {CAP}\n"),
    );
    env.write(
        "config/agentls/workflows/fragile.toml",
        "[[steps]]\nid = \"check\"\nrun = \"exit 1\"\n[[steps]]\nid = \"use\"\nrun = \"true\"\n",
    );
    let failed = json(&run(env.command().args(["run", "fragile", "--json"])));
    assert_eq!(failed["status"], "failed");
    let id = failed["id"].as_str().unwrap().to_string();
    let given = format!("{}THE-END", "o".repeat(3 * CAP));
    env.write("big.txt", &given);

    let over = run(env.command().args([
        "override",
        &id,
        "--step",
        "check",
        "--output-file",
        "big.txt",
        "--json",
    ]));
    assert_eq!(over.status.code(), Some(0), "{}", text(&over));
    assert!(
        String::from_utf8_lossy(&over.stderr).contains(&format!(
            "step `check`: output overridden by the user; truncated: {} bytes given",
            given.len()
        )),
        "{}",
        text(&over)
    );
    let done = json(&over);
    let step = &done["steps"][0];
    assert_eq!(step["output_truncated"], true, "{step}");
    let note = step["error"].as_str().unwrap_or_default();
    assert!(
        note.contains(&format!(
            "truncated: {} bytes given, only the last {CAP} kept",
            given.len()
        )),
        "{note}"
    );
    let kept = step["output"].as_str().unwrap();
    assert!(kept.starts_with("[agentls: "), "a marker line first");
    assert!(kept.ends_with("oooTHE-END"), "the tail is kept");
    assert!(kept.len() < CAP + 100, "{} bytes stored", kept.len());

    let shown = run(env.command().args(["show", &id]));
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("only the last 65536 kept"),
        "{}",
        text(&shown)
    );
}

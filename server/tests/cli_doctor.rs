//! `agentls doctor`: a report a user can paste into a bug, that never leaks a secret.

mod support;

use std::process::Output;

use support::TestEnv;

const SECRET: &str = "sk-secret-value-123";

fn doctor(env: &TestEnv, extra_env: &[(&str, &str)]) -> (Output, String, String) {
    let mut cmd = env.command();
    cmd.arg("doctor");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("running agentls doctor");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

fn assert_success(output: &Output, stdout: &str, stderr: &str) {
    assert!(
        output.status.success(),
        "doctor exited with {:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
}

#[test]
fn doctor_on_a_fresh_environment_exits_zero_and_reports_version_and_state_dir() {
    let env = TestEnv::new();
    let (output, stdout, stderr) = doctor(&env, &[]);
    assert_success(&output, &stdout, &stderr);
    assert!(
        stdout.contains(env!("CARGO_PKG_VERSION")),
        "version missing:\n{stdout}"
    );
    let state_dir = env.state_dir();
    assert!(
        stdout.contains(state_dir.to_str().expect("utf-8 path")),
        "state dir {state_dir:?} missing:\n{stdout}"
    );
}

/// The report's lines that mention `needle`, with `needle` replaced by `as_`.
fn lines_mentioning(report: &str, needle: &str, as_: &str) -> Vec<String> {
    report
        .lines()
        .filter(|l| l.contains(needle))
        .map(|l| l.replace(needle, as_))
        .collect()
}

#[test]
fn doctor_names_a_set_provider_key_but_never_prints_its_value() {
    let unset_env = TestEnv::new();
    let (output, unset_stdout, stderr) = doctor(&unset_env, &[]);
    assert_success(&output, &unset_stdout, &stderr);

    let env = TestEnv::new();
    let (output, stdout, stderr) = doctor(&env, &[("ANTHROPIC_API_KEY", SECRET)]);
    assert_success(&output, &stdout, &stderr);
    let set_lines = lines_mentioning(&stdout, "ANTHROPIC_API_KEY", "KEY");
    assert!(!set_lines.is_empty(), "key name missing:\n{stdout}");
    // The report may list unset keys too; what it says about a set one must differ.
    assert_ne!(
        set_lines,
        lines_mentioning(&unset_stdout, "ANTHROPIC_API_KEY", "KEY"),
        "the report must tell a set key from an unset one; set:\n{stdout}\nunset:\n{unset_stdout}"
    );
    // Not even a fragment: a prefix or suffix would still leak part of the key.
    for leak in [SECRET, "secret-value", "value-123"] {
        assert!(!stdout.contains(leak), "stdout leaks {leak:?}:\n{stdout}");
        assert!(!stderr.contains(leak), "stderr leaks {leak:?}:\n{stderr}");
    }
}

#[test]
fn doctor_lists_config_files_and_tells_a_broken_one_from_a_good_one() {
    let good_env = TestEnv::new();
    support::write_file(&good_env.user_config_path(), "[exec]\ncols = 100\n");
    let broken_env = TestEnv::new();
    support::write_file(&broken_env.user_config_path(), "[exec\ncols = 100\n");

    let mut verdicts = Vec::new();
    for env in [&good_env, &broken_env] {
        let (output, stdout, stderr) = doctor(env, &[]);
        // Exit status is not asserted here: a doctor may report a broken config
        // with a non-zero status. It must still have run to the end.
        assert!(
            output.status.code().is_some(),
            "doctor was killed: {stderr}"
        );
        let path = env.user_config_path();
        let path = path.to_str().expect("utf-8 path");
        let lines = lines_mentioning(&stdout, path, "<config>");
        assert!(!lines.is_empty(), "config file {path} missing:\n{stdout}");
        verdicts.push((lines, stdout));
    }
    assert_ne!(
        verdicts[0].0, verdicts[1].0,
        "the line naming the config must say whether it parses; good:\n{}\nbroken:\n{}",
        verdicts[0].1, verdicts[1].1
    );
}

#[test]
fn doctor_reports_the_otlp_endpoint_when_set() {
    let env = TestEnv::new();
    let endpoint = "http://127.0.0.1:4318";
    let (output, stdout, stderr) = doctor(&env, &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)]);
    assert_success(&output, &stdout, &stderr);
    assert!(
        stdout.contains(endpoint),
        "OTLP endpoint missing:\n{stdout}"
    );
}

//! `agentls doctor`: a report a user can paste into a bug, that never leaks a secret.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};

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

/// The workspace's state directory, found as the file a first run created.
fn store_file(env: &TestEnv) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(env.state_dir())
        .expect("state dir exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("agentls.db").exists())
        .collect();
    assert_eq!(dirs.len(), 1, "one workspace state dir: {dirs:?}");
    dirs[0].join("agentls.db")
}

/// A workspace with one completed run, its store closed (no WAL left over).
fn env_with_a_run() -> (TestEnv, std::path::PathBuf) {
    let env = TestEnv::new();
    env.write(
        "config/agentls/workflows/hello.toml",
        "[[steps]]\nid = \"hi\"\nrun = \"echo hi\"\n",
    );
    let out = env.command().args(["run", "hello"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let store = store_file(&env);
    (env, store)
}

fn store_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with("run store:"))
        .unwrap_or_else(|| panic!("no run store line:\n{stdout}"))
        .to_string()
}

#[test]
fn doctor_checks_a_good_store_and_exits_zero() {
    let (env, store) = env_with_a_run();
    let (output, stdout, stderr) = doctor(&env, &[]);
    assert_success(&output, &stdout, &stderr);
    let line = store_line(&stdout);
    assert!(line.contains(store.to_str().unwrap()), "{line}");
    assert!(
        line.contains("integrity check passed, schema version"),
        "{stdout}"
    );
    assert!(line.contains("1 run(s)"), "{stdout}");
    assert!(stdout.contains("owner locks: none held"), "{stdout}");
}

#[test]
fn doctor_fails_on_a_store_that_is_not_a_database() {
    let (env, store) = env_with_a_run();
    std::fs::write(&store, "this is not SQLite, just text ".repeat(400)).unwrap();
    let runs = env.command().arg("runs").output().unwrap();
    assert_eq!(runs.status.code(), Some(2), "`runs` cannot open it either");

    let (output, stdout, stderr) = doctor(&env, &[]);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let line = store_line(&stdout);
    assert!(line.contains("ERROR"), "{stdout}");
    assert!(line.contains("file is not a database"), "{stdout}");
    assert!(stdout.contains("problem(s) found"), "{stdout}");
}

#[test]
fn doctor_fails_on_a_truncated_store() {
    let (env, store) = env_with_a_run();
    let bytes = std::fs::read(&store).unwrap();
    assert!(bytes.len() > 8192, "a store of {} bytes", bytes.len());
    // The header and the schema page survive; the tables' pages are gone.
    std::fs::write(&store, &bytes[..4096]).unwrap();

    let (output, stdout, stderr) = doctor(&env, &[]);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(store_line(&stdout).contains("ERROR"), "{stdout}");
}

#[test]
fn doctor_fails_on_a_store_with_a_damaged_page() {
    let (env, store) = env_with_a_run();
    let mut bytes = std::fs::read(&store).unwrap();
    let last_page = bytes.len() - 4096;
    for (i, byte) in bytes[last_page..].iter_mut().enumerate() {
        *byte = [0xde, 0xad, 0xbe, 0xef][i % 4];
    }
    std::fs::write(&store, bytes).unwrap();

    let (output, stdout, stderr) = doctor(&env, &[]);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(store_line(&stdout).contains("ERROR"), "{stdout}");
}

#[test]
fn doctor_reports_a_store_from_a_newer_agentls() {
    let (env, store) = env_with_a_run();
    // `PRAGMA user_version` is the big-endian u32 at offset 60 of the
    // header (https://www.sqlite.org/fileformat.html#user_version_number).
    let mut bytes = std::fs::read(&store).unwrap();
    bytes[60..64].copy_from_slice(&999u32.to_be_bytes());
    std::fs::write(&store, bytes).unwrap();
    let (output, stdout, stderr) = doctor(&env, &[]);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        store_line(&stdout).contains("schema version 999 is newer than this agentls"),
        "{stdout}"
    );
}

#[test]
fn doctor_names_the_live_process_that_drives_a_run_and_notices_when_it_is_gone() {
    let env = TestEnv::new();
    env.write(
        "config/agentls/workflows/slow.toml",
        "[[steps]]\nid = \"wait\"\nrun = \"echo sleeper=$$; exec sleep 30\"\n",
    );
    let mut child = env
        .command()
        .args(["run", "slow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The run is being driven once its step prints (output streams as it comes).
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let sleeper_pid: i32 = loop {
        let line = lines
            .next()
            .expect("the step never started")
            .expect("reading the run's output");
        if let Some((_, pid)) = line.split_once("sleeper=") {
            break pid.trim().parse().expect("a pid");
        }
    };
    let (output, stdout, stderr) = doctor(&env, &[]);
    let pid = child.id().to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    // SAFETY: kills the step's own process, started by this test.
    unsafe { libc::kill(sleeper_pid, libc::SIGKILL) };
    assert_success(&output, &stdout, &stderr);
    assert!(
        stdout.contains(&format!(
            "owner locks: held by live agentls process(es) {pid}"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("running: driven by live process {pid}")),
        "{stdout}"
    );

    let (output, stdout, stderr) = doctor(&env, &[]);
    assert_success(&output, &stdout, &stderr);
    assert!(stdout.contains("owner locks: none held"), "{stdout}");
    assert!(
        stdout.contains("running: no live process drives it"),
        "{stdout}"
    );
}

#[test]
fn doctor_says_which_acp_agents_are_on_path() {
    let env = TestEnv::new();
    // A `codex-acp` on PATH; no `claude-agent-acp`, no `gemini`.
    let bin = env.mkdir("bin");
    let codex = env.write("bin/codex-acp", "#!/bin/sh\n");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&codex, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.write(
        "config/agentls/config.toml",
        "[agents.mine]\ncommand = [\"/nonexistent/my-agent\", \"--acp\"]\n",
    );
    let path = bin.display().to_string();
    let (output, stdout, stderr) = doctor(&env, &[("PATH", path.as_str())]);
    assert_success(&output, &stdout, &stderr);
    let agents: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "acp agents:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(
        agents,
        [
            "  claude-code: `claude-agent-acp`, not on PATH; install it from npm @zed-industries/claude-agent-acp",
            &format!("  codex: `codex-acp`, found at {}", codex.display()),
            "  gemini: `gemini --experimental-acp`, not on PATH; install it from npm @google/gemini-cli",
            "  mine: `/nonexistent/my-agent --acp`, not on PATH",
        ],
        "{stdout}"
    );
}

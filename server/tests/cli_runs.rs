//! `agentls run` and friends, driven as a user drives them from a shell.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// A user workflow (user workflows need no trust).
fn user_workflow(env: &TestEnv, name: &str, toml: &str) {
    env.write(&format!("config/agentls/workflows/{name}.toml"), toml);
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)))
}

fn store_path(env: &TestEnv) -> PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(env.state_dir())
        .expect("state dir exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("agentls.db").exists())
        .collect();
    assert_eq!(dirs.len(), 1, "one workspace state dir: {dirs:?}");
    dirs[0].join("agentls.db")
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

const FIVE_STEPS: &str = r#"
[[steps]]
id = "s1"
run = "echo s1 >> log; sleep 0.05"
[[steps]]
id = "s2"
run = "echo s2 >> log; sleep 0.05"
[[steps]]
id = "s3"
run = "echo s3 >> log; sleep 0.05"
[[steps]]
id = "s4"
run = "echo s4 >> log; sleep 0.05"
[[steps]]
id = "s5"
run = "echo s5 >> log; sleep 0.05"
"#;

/// Kills `agentls run` with SIGKILL, resumes, and checks the log and store.
/// Returns whether the run existed when it was killed.
fn crash_and_resume(kill: impl FnOnce(&mut Child, &Path)) -> bool {
    let env = TestEnv::new();
    user_workflow(&env, "five", FIVE_STEPS);
    let log = env.root().join("log");
    let mut child = env
        .command()
        .args(["run", "five"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    kill(&mut child, &log);
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();

    let runs = run(env.command().args(["runs", "--json"]));
    let runs = json(&runs);
    let Some(id) = runs
        .as_array()
        .and_then(|r| r.first())
        .map(|r| r["id"].as_str().unwrap().to_string())
    else {
        // Killed before the run was created: nothing ran, nothing to resume.
        assert!(lines(&log).is_empty());
        return false;
    };
    let before = json(&run(env.command().args(["show", &id, "--json"])));
    let completed: Vec<String> = before["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "completed")
        .map(|s| s["step_id"].as_str().unwrap().to_string())
        .collect();
    let status = before["status"].as_str().unwrap().to_string();
    if status != "completed" {
        assert_eq!(
            status, "interrupted",
            "a killed run reads as interrupted at the next start"
        );
        let resumed = run(env.command().args(["resume", &id]));
        assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    }
    let after = json(&run(env.command().args(["show", &id, "--json"])));
    assert_eq!(after["status"], "completed");
    let log = lines(&log);
    for step in ["s1", "s2", "s3", "s4", "s5"] {
        let n = log.iter().filter(|l| *l == step).count();
        if completed.iter().any(|c| c == step) {
            assert_eq!(n, 1, "completed step {step} ran again: {log:?}");
        } else {
            assert!((1..=2).contains(&n), "step {step} ran {n} times: {log:?}");
        }
    }
    let twice = log
        .iter()
        .filter(|l| log.iter().filter(|m| m == l).count() > 1)
        .count();
    assert!(
        twice <= 2,
        "only the interrupted step may run again: {log:?}"
    );
    let store = agentls_store::Store::open(&store_path(&env)).unwrap();
    // `integrity_check` lists the problems PRAGMA integrity_check found; it
    // is empty exactly when SQLite answered "ok".
    let problems = store.integrity_check().unwrap();
    assert!(problems.is_empty(), "integrity_check: {problems:?}");
    true
}

#[test]
fn sigkill_inside_each_step_then_resume_runs_every_step_once() {
    for k in 1..=5 {
        let existed = crash_and_resume(|_, log| {
            wait_until(&format!("{k} log lines"), Duration::from_secs(20), || {
                lines(log).len() >= k
            })
        });
        assert!(existed);
    }
}

#[test]
fn sigkill_at_arbitrary_times_then_resume_runs_every_step_once() {
    // Kill points spread over the run: before it exists, between steps,
    // during commits. The exact point is what varies; nothing is awaited.
    let mut killed_runs = 0;
    for ms in [0, 3, 10, 25, 40, 60, 90, 130, 180, 240, 300, 400] {
        killed_runs += usize::from(crash_and_resume(|_, _| {
            std::thread::sleep(Duration::from_millis(ms))
        }));
    }
    assert!(
        killed_runs >= 6,
        "most kill points must hit a live run, {killed_runs} did"
    );
}

#[test]
fn run_exit_codes_follow_the_run_status() {
    let env = TestEnv::new();
    user_workflow(&env, "ok", "[[steps]]\nid = \"a\"\nrun = \"echo fine\"\n");
    user_workflow(&env, "bad", "[[steps]]\nid = \"a\"\nrun = \"exit 7\"\n");
    let ok = run(env.command().args(["run", "ok"]));
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("fine"));
    let bad = run(env.command().args(["run", "bad", "--json"]));
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    let record = json(&bad);
    assert_eq!(record["status"], "failed");
    assert_eq!(record["steps"][0]["exit_code"], 7);
    let usage = run(env.command().args(["run", "nope"]));
    assert_eq!(usage.status.code(), Some(2), "{}", text(&usage));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("no workflow named `nope`"));
}

#[test]
fn failed_run_is_retried_skipped_and_overridden_from_the_shell() {
    let env = TestEnv::new();
    user_workflow(
        &env,
        "fragile",
        "[[steps]]\nid = \"check\"\nrun = \"test -e flag\"\n[[steps]]\nid = \"use\"\nrun = \"echo saw {{ steps.check.output }}\"\n",
    );
    let first = json(&run(env.command().args(["run", "fragile", "--json"])));
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(first["status"], "failed");
    std::fs::write(env.root().join("flag"), "").unwrap();
    let retried = run(env.command().args(["retry", &id, "--json"]));
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried));

    std::fs::remove_file(env.root().join("flag")).unwrap();
    let second = json(&run(env.command().args(["run", "fragile", "--json"])));
    let id = second["id"].as_str().unwrap().to_string();
    std::fs::write(env.root().join("answer.txt"), "by-hand").unwrap();
    let over = run(env.command().args([
        "override",
        &id,
        "--step",
        "check",
        "--output-file",
        "answer.txt",
        "--json",
    ]));
    assert_eq!(over.status.code(), Some(0), "{}", text(&over));
    assert_eq!(
        json(&over)["steps"][1]["output"].as_str().unwrap().trim(),
        "saw by-hand"
    );

    let third = json(&run(env.command().args(["run", "fragile", "--json"])));
    let id = third["id"].as_str().unwrap().to_string();
    let skipped = json(&run(env.command().args(["skip", &id, "--json"])));
    assert_eq!(skipped["status"], "completed");
    assert_eq!(skipped["steps"][0]["status"], "skipped");
}

#[test]
fn approval_waits_with_exit_3_and_approve_continues() {
    let env = TestEnv::new();
    user_workflow(&env, "gate", "[[steps]]\nid = \"ok\"\napprove = \"go?\"\n[[steps]]\nid = \"after\"\nrun = \"echo after\"\n");
    let waiting = run(env
        .command()
        .args(["run", "gate", "--json"])
        .stdin(Stdio::null()));
    assert_eq!(waiting.status.code(), Some(3), "{}", text(&waiting));
    let id = json(&waiting)["id"].as_str().unwrap().to_string();
    let approved = run(env
        .command()
        .args(["approve", &id, "--json"])
        .stdin(Stdio::null()));
    assert_eq!(approved.status.code(), Some(0), "{}", text(&approved));
}

#[test]
fn workspace_workflow_asks_for_trust_and_a_changed_file_asks_again() {
    let env = TestEnv::new();
    let wf = env.write(
        ".agentls/workflows/mine.toml",
        "[[steps]]\nid = \"a\"\nrun = \"touch ran\"\n",
    );
    let refused = run(env.command().args(["run", "mine"]).stdin(Stdio::null()));
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("touch ran"),
        "{}",
        text(&refused)
    );
    assert!(!env.root().join("ran").exists());

    let trusted = run(env.command().args(["run", "mine", "--trust"]));
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted));
    assert!(env.root().join("ran").exists());
    std::fs::remove_file(env.root().join("ran")).unwrap();
    let again = run(env.command().args(["run", "mine"]).stdin(Stdio::null()));
    assert_eq!(
        again.status.code(),
        Some(0),
        "approval is remembered: {}",
        text(&again)
    );

    std::fs::write(
        &wf,
        "[[steps]]\nid = \"a\"\nrun = \"touch ran; echo changed\"\n",
    )
    .unwrap();
    std::fs::remove_file(env.root().join("ran")).unwrap();
    let changed = run(env.command().args(["run", "mine"]).stdin(Stdio::null()));
    assert_eq!(changed.status.code(), Some(2), "{}", text(&changed));
    assert!(!env.root().join("ran").exists());
}

#[test]
fn check_prints_exact_positions_and_exits_1() {
    let env = TestEnv::new();
    env.write(
        ".agentls/workflows/broken.toml",
        "[[steps]]\nid = \"a\"\nrun = \"x\"\n[[steps]]\nid = \"a\"\nrun = \"y\"\n",
    );
    let out = run(env.command().arg("check"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(".agentls/workflows/broken.toml:5:6:"),
        "{stdout}"
    );
    assert!(stdout.contains("duplicate"), "{stdout}");
    env.write(
        ".agentls/workflows/broken.toml",
        "[[steps]]\nid = \"a\"\nrun = \"x\"\n",
    );
    let ok = run(env.command().arg("check"));
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
}

#[test]
fn ctrl_c_cancels_the_run_and_leaves_no_process_behind() {
    let env = TestEnv::new();
    user_workflow(
        &env,
        "long",
        "[[steps]]\nid = \"wait\"\nrun = \"sleep 1000 & echo $! > pid; wait\"\n",
    );
    let mut child = env
        .command()
        .args(["run", "long"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pidfile = env.root().join("pid");
    wait_until("the grandchild's pid", Duration::from_secs(20), || {
        lines(&pidfile).len() == 1
    });
    let grandchild: i32 = lines(&pidfile)[0].trim().parse().unwrap();
    // SAFETY: sends SIGINT to the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    wait_until("the grandchild to die", Duration::from_secs(5), || {
        !pid_alive(grandchild)
    });
    let runs = json(&run(env.command().args(["runs", "--json"])));
    assert_eq!(runs[0]["status"], "cancelled");
}

/// Alive and not a zombie: orphans are reparented to an init that may
/// never reap them.
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        !matches!(state, Some('Z' | 'X'))
    })
}

/// Records each start (the shell's pid) and leaves a background job, then
/// does its side effect a second later.
const SLOW_EFFECT: &str =
    "sleep 1000 & echo $! >> jobs; echo $$ >> starts; sleep 1; echo done >> effects";

/// SIGKILLs `agentls run crash` once its step has started, and checks that
/// the step died with it (its side effect never happens, its background job
/// is ended at the next start) and that `resume` runs it exactly once more.
fn sigkill_mid_step_then_resume(env: &TestEnv, vars: &[(&str, &str)]) {
    let starts = env.root().join("starts");
    let mut child = env
        .command()
        .envs(vars.iter().copied())
        .args(["run", "crash"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the step to start", Duration::from_secs(20), || {
        lines(&starts).len() == 1
    });
    let shell: i32 = lines(&starts)[0].trim().parse().unwrap();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    wait_until("the step's shell to die", Duration::from_secs(5), || {
        !running(shell)
    });
    assert!(
        lines(&env.root().join("effects")).is_empty(),
        "{vars:?}: the step finished its work after agentls died"
    );

    let runs = json(&run(env.command().args(["runs", "--json"])));
    let id = runs[0]["id"].as_str().unwrap().to_string();
    assert_eq!(runs[0]["status"], "interrupted", "{vars:?}");
    let resumed = run(env
        .command()
        .envs(vars.iter().copied())
        .args(["resume", &id]));
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert_eq!(lines(&starts).len(), 2, "{vars:?}: started once more");
    assert_eq!(
        lines(&env.root().join("effects")),
        ["done"],
        "{vars:?}: one side effect in all"
    );
    let job: i32 = lines(&env.root().join("jobs"))[0].trim().parse().unwrap();
    let ended = {
        let deadline = Instant::now() + Duration::from_secs(5);
        while running(job) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        !running(job)
    };
    if !ended {
        // SAFETY: signals a process this test's step started.
        unsafe { libc::kill(job, libc::SIGKILL) };
    }
    assert!(ended, "{vars:?}: the killed step's background job survived");
}

#[test]
fn sigkill_of_agentls_kills_the_step_and_resume_runs_it_once_pty_and_pipes() {
    for vars in [&[][..], &[("AGENTLS_PTY", "off")][..]] {
        let env = TestEnv::new();
        user_workflow(
            &env,
            "crash",
            &format!("[[steps]]\nid = \"slow\"\nrun = \"{SLOW_EFFECT}\"\n"),
        );
        sigkill_mid_step_then_resume(&env, vars);
    }
}

#[test]
fn sigkill_of_agentls_kills_a_command_provider_and_resume_asks_it_once() {
    let env = TestEnv::new();
    support::write_file(
        &env.user_config_path(),
        &format!(
            "default_provider = \"agent\"\n[providers.agent]\nkind = \"command\"\n\
             command = \"{SLOW_EFFECT}; echo answer\"\n"
        ),
    );
    user_workflow(
        &env,
        "crash",
        "[[steps]]\nid = \"ask\"\nprompt = \"Take your time.\"\n",
    );
    sigkill_mid_step_then_resume(&env, &[]);
}

/// Waits for `child` and returns its peak resident memory in KiB (its own,
/// not that of other tests' children).
fn wait_peak_rss_kib(child: Child) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid out-parameter for wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; both out-parameters are valid.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

#[test]
fn a_reader_that_falls_behind_keeps_the_cli_memory_flat() {
    const MIB: usize = 200;
    let env = TestEnv::new();
    user_workflow(
        &env,
        "flood",
        &format!(
            "[[steps]]\nid = \"flood\"\n\
             run = \"yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c {}; echo; echo the end; touch printed\"\n",
            MIB * 1024 * 1024
        ),
    );
    let mut child = env
        .command()
        .env("AGENTLS_PTY", "off")
        .args(["run", "flood"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Nobody reads the CLI's output until the step has printed everything.
    wait_until(
        "the step to print everything",
        Duration::from_secs(120),
        || env.root().join("printed").exists(),
    );
    let mut stdout = child.stdout.take().unwrap();
    let mut shown = Vec::new();
    std::io::Read::read_to_end(&mut stdout, &mut shown).unwrap();
    let (code, peak_kib) = wait_peak_rss_kib(child);
    assert_eq!(code, 0);
    let shown = String::from_utf8_lossy(&shown);
    assert!(
        shown.len() < 2 * 1024 * 1024,
        "the live view skipped the middle: {} bytes shown",
        shown.len()
    );
    assert!(
        shown.contains(" bytes of output not shown; `agentls show "),
        "{}",
        &shown[shown.len().saturating_sub(300)..]
    );
    assert!(shown.contains("the end\n"));
    assert!(
        peak_kib < 64 * 1024,
        "agentls run peaked at {} MiB for {MIB} MiB of output",
        peak_kib / 1024
    );
}

#[test]
fn a_nul_in_a_run_command_fails_the_step_with_a_clear_error() {
    let env = TestEnv::new();
    user_workflow(
        &env,
        "nul",
        "[[steps]]\nid = \"nul\"\nrun = \"echo a\\u0000b\"\n",
    );
    let out = run(env.command().args(["run", "nul"]));
    let all = text(&out);
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("the command line cannot contain a NUL byte"),
        "{all}"
    );
    assert!(!all.contains("pseudo-terminal"), "{all}");
}

//! A command dies with the process that started it (the terminal's hang-up;
//! `PR_SET_PDEATHSIG` with pipes), and what escapes that is found by its
//! tag and ended. Each test re-runs itself in a child process that starts
//! the command, and SIGKILLs that child the way a crash would.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use agentls_exec::{CancellationToken, PtyMode, PROCESS_ENV_VAR};
use common::{process_alive, spec};

/// Set in the re-run child: the directory its command writes to.
const CHILD_DIR: &str = "AGENTLS_EXEC_TEST_PARENT_DIR";

/// In the child: runs `command` in `$CHILD_DIR` and waits for the end that
/// never comes (the parent kills us first). Returns false in the parent.
fn run_as_child(command: &str) -> bool {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return false;
    };
    let mut spec = spec(command, PtyMode::Auto);
    spec.cwd = PathBuf::from(dir);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::channel(16);
            tokio::spawn(async move { while rx.recv().await.is_some() {} });
            let _ = agentls_exec::run(spec, tx, CancellationToken::new()).await;
        });
    true
}

/// Re-runs test `name` in a child process that starts its command in `dir`.
fn spawn_child(name: &str, dir: &Path, mode: PtyMode) -> Child {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir);
    if mode == PtyMode::Off {
        cmd.env("AGENTLS_PTY", "off");
    } else {
        cmd.env_remove("AGENTLS_PTY");
    }
    cmd.spawn().expect("re-run the test binary")
}

/// Polls for a file the command writes once it has started (an external
/// fact: no event reaches this process).
fn wait_for_number(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(n) = text.trim().parse() {
                return n;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for `pid` to be gone; false if it is still alive after 5 s.
fn gone_within_5s(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

fn kill(child: &mut Child) {
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
}

/// The shell writes its pid, then would write `marker` two seconds later.
const WRITES_LATER: &str = "echo $$ > pid.tmp && mv pid.tmp pid; sleep 2; echo late > marker";

#[test]
fn the_command_dies_with_the_process_that_started_it() {
    if run_as_child(WRITES_LATER) {
        return;
    }
    for mode in [PtyMode::Auto, PtyMode::Off] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_child(
            "the_command_dies_with_the_process_that_started_it",
            dir.path(),
            mode,
        );
        let shell = wait_for_number(&dir.path().join("pid"));
        kill(&mut child);
        let died = gone_within_5s(shell);
        if !died {
            unsafe { libc::kill(shell, libc::SIGKILL) };
        }
        assert!(died, "{mode:?}: the shell outlived its parent");
        assert!(
            !dir.path().join("marker").exists(),
            "{mode:?}: the command finished its work after its parent died"
        );
    }
}

/// A background job outlives its shell's death signal (pipes: no hang-up);
/// its environment names the dead process, which is how it is found.
const LEAVES_A_JOB: &str = "sleep 1000 & echo $! > bg.tmp && mv bg.tmp bg; wait";

#[test]
fn what_escapes_is_found_by_its_tag_and_ended() {
    if run_as_child(LEAVES_A_JOB) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_child(
        "what_escapes_is_found_by_its_tag_and_ended",
        dir.path(),
        PtyMode::Off,
    );
    let job = wait_for_number(&dir.path().join("bg"));
    let parent = child.id();
    kill(&mut child);
    let environ = std::fs::read(format!("/proc/{job}/environ")).unwrap_or_default();
    let prefix = format!("{PROCESS_ENV_VAR}={parent}-");
    let tag = environ
        .split(|b| *b == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .find_map(|entry| entry.strip_prefix(&format!("{PROCESS_ENV_VAR}=")))
        .map(str::to_string);
    let Some(tag) = tag else {
        unsafe { libc::kill(job, libc::SIGKILL) };
        panic!("the job carries no {prefix}… tag");
    };
    assert!(
        format!("{PROCESS_ENV_VAR}={tag}").starts_with(&prefix),
        "{tag}"
    );
    let killed = agentls_exec::end_leftovers(&tag);
    let died = gone_within_5s(job);
    if !died {
        unsafe { libc::kill(job, libc::SIGKILL) };
    }
    assert!(died, "the job is still running");
    // The shell may not be reaped yet when the scan runs: at least the job.
    assert!(killed >= 1, "the job was not found by its tag");
}

/// Pipe commands are forked by one long-lived thread; they still run at
/// the priority of the thread that asked for them (the server lowers its
/// run threads' priority, and commands must inherit it).
#[test]
fn pipe_commands_take_the_priority_of_the_thread_that_starts_them() {
    if std::env::var_os(CHILD_DIR).is_some() {
        return;
    }
    let nice_of = |extra: libc::c_int| {
        std::thread::spawn(move || {
            // SAFETY: plain syscalls on this thread only.
            let base = unsafe {
                let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                let base = libc::getpriority(libc::PRIO_PROCESS, tid);
                libc::setpriority(libc::PRIO_PROCESS, tid, base + extra);
                base
            };
            let text = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(common::capture(spec("nice", PtyMode::Off)))
                .1;
            let shown: i32 = String::from_utf8_lossy(&text).trim().parse().unwrap();
            (base, shown)
        })
        .join()
        .unwrap()
    };
    // The first starts the spawner thread at this priority; the second asks
    // from a thread three steps lower.
    let (base, shown) = nice_of(0);
    assert_eq!(shown, base);
    let (base, shown) = nice_of(3);
    assert_eq!(shown, (base + 3).min(19));
}

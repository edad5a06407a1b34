//! The Landlock sandbox, in a terminal and with pipes: writes only where
//! the policy allows, for the command and every child it starts.

mod common;

use std::path::Path;

use agentls_exec::{landlock_abi, Confinement, Network, PtyMode, SandboxPolicy};
use common::{assert_mode, capture, spec, BOTH_MODES};

fn policy(network: Network) -> SandboxPolicy {
    SandboxPolicy {
        write: Vec::new(),
        network,
        required: true,
    }
}

/// Skips (with the reason printed) only where the kernel has no Landlock.
fn landlock() -> bool {
    match landlock_abi() {
        Ok(_) => true,
        Err(reason) => {
            eprintln!("skipped: no Landlock here ({reason})");
            false
        }
    }
}

async fn sandboxed(command: &str, cwd: &Path, mode: PtyMode) -> (bool, String, Confinement) {
    let mut spec = spec(command, mode);
    spec.cwd = cwd.to_path_buf();
    spec.sandbox = Some(policy(Network::Denied));
    let (outcome, raw) = capture(spec).await;
    assert_mode(&outcome, mode);
    (
        outcome.success(),
        agentls_exec::strip_ansi(&raw),
        outcome.confinement,
    )
}

#[tokio::test]
async fn sandboxed_command_writes_only_in_its_workspace_and_tmpdir() {
    if !landlock() {
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    let workspace = tempfile::tempdir().unwrap();
    for mode in BOTH_MODES {
        let target = outside.path().join(format!("x-{mode:?}"));
        let command = format!(
            "echo in > inside && echo tmp > \"$TMPDIR/t\" && cat \"$TMPDIR/t\" && \
             sh -c 'echo out > {0}' ; test -e {0} && echo ESCAPED; echo done",
            target.display()
        );
        let (ok, text, confinement) = sandboxed(&command, workspace.path(), mode).await;
        assert!(ok, "{mode:?}: {text}");
        assert!(
            matches!(confinement, Confinement::Landlock { .. }),
            "{confinement:?}"
        );
        assert!(
            text.contains("tmp") && text.contains("done"),
            "{mode:?}: {text}"
        );
        assert!(!text.contains("ESCAPED"), "{mode:?}: {text}");
        assert!(
            !target.exists(),
            "{mode:?}: a child wrote outside the sandbox"
        );
        assert!(workspace.path().join("inside").exists(), "{mode:?}");
    }
}

#[tokio::test]
async fn sandboxed_command_cannot_write_git_in_a_git_workspace() {
    if !landlock() {
        return;
    }
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(workspace.path().join(".git/hooks")).unwrap();
    std::fs::create_dir_all(workspace.path().join("src")).unwrap();
    for mode in BOTH_MODES {
        let command = "echo hook > .git/hooks/x; echo code > src/y && echo wrote-src";
        let (ok, text, _) = sandboxed(command, workspace.path(), mode).await;
        assert!(ok, "{mode:?}: {text}");
        assert!(text.contains("wrote-src"), "{mode:?}: {text}");
        assert!(!workspace.path().join(".git/hooks/x").exists(), "{mode:?}");
    }
}

#[tokio::test]
async fn temporary_directory_is_removed_after_the_command() {
    if !landlock() {
        return;
    }
    let workspace = tempfile::tempdir().unwrap();
    let (ok, text, _) = sandboxed("echo \"tmp=$TMPDIR\"", workspace.path(), PtyMode::Off).await;
    assert!(ok, "{text}");
    let tmp = text
        .lines()
        .find_map(|l| l.strip_prefix("tmp="))
        .expect("TMPDIR printed");
    assert!(tmp.contains("agentls-step-"), "{tmp}");
    assert!(!Path::new(tmp.trim()).exists(), "{tmp} left behind");
}

#[tokio::test]
async fn sandboxed_command_cannot_signal_processes_outside_it() {
    if !landlock() || landlock_abi().unwrap_or(0) < 6 {
        return;
    }
    let workspace = tempfile::tempdir().unwrap();
    let mut outsider = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    for mode in BOTH_MODES {
        let command = format!(
            "kill -TERM {} && echo SENT; sleep 1 & kill -TERM $! && echo OWN_CHILD",
            outsider.id()
        );
        let (ok, text, _) = sandboxed(&command, workspace.path(), mode).await;
        assert!(ok, "{mode:?}: {text}");
        assert!(!text.contains("SENT"), "{mode:?}: {text}");
        assert!(text.contains("OWN_CHILD"), "{mode:?}: {text}");
        assert_eq!(
            outsider.try_wait().unwrap(),
            None,
            "{mode:?}: the outsider died"
        );
    }
    outsider.kill().unwrap();
    outsider.wait().unwrap();
}

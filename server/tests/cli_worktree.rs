//! Runs isolated in their own git worktree, through `agentls run`, `diff`,
//! `apply`, `discard` and `resume` as a user types them
//! (docs/workflows.md, "Isolation").

mod support;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{git, TestEnv};

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A git workspace `ws/` with `notes.txt` committed and then modified
/// (uncommitted), and a `signals/` directory outside it that the
/// workflows' steps may write (declared in their `sandbox` key).
struct Fixture {
    env: TestEnv,
    ws: PathBuf,
    signals: PathBuf,
}

const NOTES: &str = "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta\n";

impl Fixture {
    fn new() -> Fixture {
        let env = TestEnv::new();
        let ws = env.mkdir("ws");
        let signals = env.mkdir("signals");
        git(&ws, &["init", "--quiet", "-b", "main"]);
        std::fs::write(ws.join("notes.txt"), "alpha\nbeta\ngamma\ndelta\n").unwrap();
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "--quiet", "-m", "first"]);
        // Uncommitted work the runs must start from.
        std::fs::write(ws.join("notes.txt"), NOTES).unwrap();
        Fixture { env, ws, signals }
    }

    /// A user workflow isolated in a worktree: waits for `signals/go`
    /// (after saying it started), then runs `command` in its tree.
    fn gated_workflow(&self, name: &str, command: &str) {
        let s = self.signals.display();
        let toml = format!(
            r#"isolation = "worktree"
sandbox = {{ write = ["{s}"] }}
[[steps]]
id = "work"
run = '''touch {s}/{name}.started; while [ ! -e {s}/go ]; do sleep 0.01; done; {command}'''
"#
        );
        self.env
            .write(&format!("config/agentls/workflows/{name}.toml"), &toml);
    }

    fn agentls(&self, args: &[&str]) -> Output {
        self.env
            .command()
            .args(args)
            .arg("-w")
            .arg(&self.ws)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn run_id(&self, workflow: &str) -> String {
        let out = self.agentls(&["runs", "--json"]);
        let runs: Value = serde_json::from_slice(&out.stdout).unwrap();
        runs.as_array()
            .unwrap()
            .iter()
            .find(|r| r["workflow_name"] == workflow)
            .unwrap_or_else(|| panic!("no run of {workflow}: {runs}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn notes(&self) -> String {
        std::fs::read_to_string(self.ws.join("notes.txt")).unwrap()
    }

    fn worktrees_dir(&self) -> PathBuf {
        let dirs: Vec<PathBuf> = std::fs::read_dir(self.env.state_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        dirs[0].join("worktrees")
    }

    /// Starts both workflows, waits until both are inside their step,
    /// checks the user's file is untouched, lets them go, and waits for
    /// both to complete.
    fn run_concurrently(&self, a: &str, b: &str) {
        let start = |name: &str| {
            self.env
                .command()
                .args(["run", name, "-w"])
                .arg(&self.ws)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (ra, rb) = (start(a), start(b));
        support::wait_until(
            "both runs inside their step",
            Duration::from_secs(60),
            || {
                self.signals.join(format!("{a}.started")).exists()
                    && self.signals.join(format!("{b}.started")).exists()
            },
        );
        assert_eq!(self.notes(), NOTES, "the user's file while the runs run");
        std::fs::write(self.signals.join("go"), "").unwrap();
        for child in [ra, rb] {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        }
        assert_eq!(self.notes(), NOTES, "the user's file before apply");
    }
}

#[test]
fn concurrent_runs_on_one_file_apply_in_turn_when_their_lines_differ() {
    let f = Fixture::new();
    f.gated_workflow("top", "sed -i 's/^beta$/BETA/' notes.txt");
    f.gated_workflow(
        "bottom",
        "sed -i 's/^theta$/THETA/' notes.txt && echo new > added.txt",
    );
    f.run_concurrently("top", "bottom");
    let (top, bottom) = (f.run_id("top"), f.run_id("bottom"));

    let diff = f.agentls(&["diff", &top]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    let patch = String::from_utf8_lossy(&diff.stdout);
    assert!(patch.contains("-beta\n+BETA\n"), "{patch}");
    assert!(
        !patch.contains("THETA"),
        "each run sees only itself: {patch}"
    );

    let applied = f.agentls(&["apply", &top]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert_eq!(f.notes(), NOTES.replace("beta", "BETA"));
    let applied = f.agentls(&["apply", &bottom]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert_eq!(
        f.notes(),
        NOTES.replace("beta", "BETA").replace("theta", "THETA")
    );
    assert_eq!(
        std::fs::read_to_string(f.ws.join("added.txt")).unwrap(),
        "new\n"
    );

    // Applied runs leave no worktree, branch or directory.
    assert_eq!(git(&f.ws, &["branch", "--list", "agentls/*"]), "");
    assert_eq!(std::fs::read_dir(f.worktrees_dir()).unwrap().count(), 0);
    assert_eq!(git(&f.ws, &["worktree", "list"]).lines().count(), 1);
}

#[test]
fn the_second_of_two_overlapping_runs_is_refused_naming_the_file() {
    let f = Fixture::new();
    f.gated_workflow("first", "sed -i 's/^gamma$/GAMMA one/' notes.txt");
    f.gated_workflow(
        "second",
        "sed -i 's/^gamma$/GAMMA two/' notes.txt && echo x > other.txt",
    );
    f.run_concurrently("first", "second");
    let (first, second) = (f.run_id("first"), f.run_id("second"));

    let applied = f.agentls(&["apply", &first]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    let after_first = f.notes();
    assert_eq!(after_first, NOTES.replace("gamma", "GAMMA one"));

    let refused = f.agentls(&["apply", &second]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("notes.txt"), "names the file: {stderr}");
    assert!(stderr.contains("nothing was applied"), "{stderr}");
    // All or nothing: the other file of the patch was not written either.
    assert_eq!(f.notes(), after_first);
    assert!(!f.ws.join("other.txt").exists());
    // The refused run keeps its worktree; discard drops it.
    assert!(f.worktrees_dir().join(&second).is_dir());
    let discarded = f.agentls(&["discard", &second]);
    assert_eq!(discarded.status.code(), Some(0), "{}", text(&discarded));
    assert!(!f.worktrees_dir().join(&second).exists());
    assert_eq!(git(&f.ws, &["branch", "--list", "agentls/*"]), "");
}

#[test]
fn a_workspace_that_is_not_a_git_repository_is_refused_clearly() {
    let env = TestEnv::new();
    let ws = env.mkdir("plain");
    env.write(
        "config/agentls/workflows/iso.toml",
        "isolation = \"worktree\"\n[[steps]]\nid = \"a\"\nrun = \"touch ran\"\n",
    );
    let out = env
        .command()
        .args(["run", "iso", "-w"])
        .arg(&ws)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not inside a git repository")
            && stderr.contains("isolation = \"worktree\""),
        "{stderr}"
    );
    assert!(
        !ws.join("ran").exists(),
        "no silent fallback to the workspace"
    );
}

#[test]
fn isolation_default_worktree_isolates_workflows_without_the_key() {
    let f = Fixture::new();
    f.env.write(
        "config/agentls/config.toml",
        "[isolation]\ndefault = \"worktree\"\n",
    );
    f.env.write(
        "config/agentls/workflows/plain.toml",
        "[[steps]]\nid = \"a\"\nrun = \"echo made > made.txt\"\n",
    );
    let out = f.agentls(&["run", "plain"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !f.ws.join("made.txt").exists(),
        "the user's tree is untouched"
    );
    let id = f.run_id("plain");
    let patch = f.agentls(&["diff", &id]);
    assert!(
        String::from_utf8_lossy(&patch.stdout).contains("+++ b/made.txt"),
        "{}",
        text(&patch)
    );
}

#[test]
fn sigkill_during_a_worktree_run_then_resume_continues_there_and_discard_leaves_nothing() {
    let f = Fixture::new();
    let s = f.signals.display();
    f.env.write(
        "config/agentls/workflows/long.toml",
        &format!(
            r#"isolation = "worktree"
sandbox = {{ write = ["{s}"] }}
[[steps]]
id = "one"
run = "echo one > one.txt"
[[steps]]
id = "two"
run = '''if [ -e {s}/killed ]; then echo two > two.txt; else touch {s}/two.started; sleep 600; fi'''
"#
        ),
    );
    let mut child = f
        .env
        .command()
        .args(["run", "long", "-w"])
        .arg(&f.ws)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    support::wait_until("step two running", Duration::from_secs(60), || {
        f.signals.join("two.started").exists()
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::fs::write(f.signals.join("killed"), "").unwrap();
    let id = f.run_id("long");
    let tree = f.worktrees_dir().join(&id);
    assert!(
        tree.join("one.txt").exists(),
        "step one's work is in the worktree"
    );

    let resumed = f.agentls(&["resume", &id]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert_eq!(
        std::fs::read_to_string(tree.join("two.txt")).unwrap(),
        "two\n"
    );
    assert!(!f.ws.join("one.txt").exists() && !f.ws.join("two.txt").exists());
    let shown = f.agentls(&["show", &id, "--json"]);
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["isolation"]["state"], "active");
    assert_eq!(shown["isolation"]["worktree"], tree.display().to_string());
    let transcript = std::fs::read_to_string(shown["transcript"].as_str().unwrap()).unwrap();
    assert!(
        transcript.starts_with(&format!("## isolation: worktree {}", tree.display())),
        "{transcript}"
    );
    let sandbox = format!(
        "## sandbox: writes to {}, TMPDIR, {}; network allowed\n",
        tree.display(),
        f.signals.display()
    );
    assert_eq!(
        transcript.matches(&sandbox).count(),
        2,
        "one per drive: {transcript}"
    );
    let patch = String::from_utf8_lossy(&f.agentls(&["diff", &id]).stdout).into_owned();
    assert!(
        patch.contains("+++ b/one.txt") && patch.contains("+++ b/two.txt"),
        "{patch}"
    );

    let discarded = f.agentls(&["discard", &id]);
    assert_eq!(discarded.status.code(), Some(0), "{}", text(&discarded));
    assert!(!tree.exists(), "no directory");
    assert_eq!(
        git(&f.ws, &["branch", "--list", "agentls/*"]),
        "",
        "no branch"
    );
    assert_eq!(
        git(&f.ws, &["worktree", "list"]).lines().count(),
        1,
        "no worktree"
    );
    assert_eq!(f.notes(), NOTES);
    // Discarding twice says so.
    let again = f.agentls(&["discard", &id]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
}

#[test]
fn the_next_start_sweeps_worktrees_a_crash_left_behind() {
    let f = Fixture::new();
    f.gated_workflow("left", "true");
    std::fs::write(f.signals.join("go"), "").unwrap();
    let out = f.agentls(&["run", "left"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let id = f.run_id("left");
    // A crash between committing "discarded" and removing the worktree,
    // and a directory no run knows (a crash while making one).
    let store = f.worktrees_dir().parent().unwrap().join("agentls.db");
    let store = agentls_store::Store::open(&store).unwrap();
    store
        .set_worktree_state(
            &id.parse().unwrap(),
            agentls_store::WorktreeState::Discarded,
        )
        .unwrap();
    drop(store);
    std::fs::create_dir_all(f.worktrees_dir().join("zzzzzzzzzzzz/half")).unwrap();

    let out = f.agentls(&["runs"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_dir(f.worktrees_dir()).unwrap().count(), 0);
    assert_eq!(git(&f.ws, &["branch", "--list", "agentls/*"]), "");
    assert_eq!(git(&f.ws, &["worktree", "list"]).lines().count(), 1);
}

#[test]
fn a_worktree_runs_commands_are_sandboxed_to_the_worktree_by_default() {
    // SAFETY: the version query reads no memory (null attributes, size 0).
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    };
    if abi <= 0 {
        eprintln!("skipped: this kernel has no Landlock");
        return;
    }
    let f = Fixture::new();
    let user = f.ws.display();
    f.env.write(
        "config/agentls/workflows/boxed.toml",
        &format!(
            r#"isolation = "worktree"
[[steps]]
id = "a"
run = '''mkdir -p target && echo built > target/out && echo top > top.txt && echo $TMPDIR > tmp.txt && touch "$TMPDIR/scratch" && if echo x > {user}/escaped.txt; then echo ESCAPED; else echo refused; fi'''
"#
        ),
    );
    let out = f.agentls(&["run", "boxed", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    let output = run["steps"][0]["output"].as_str().unwrap();
    assert!(
        output.contains("refused") && !output.contains("ESCAPED"),
        "{output}"
    );
    assert!(
        !f.ws.join("escaped.txt").exists(),
        "the user's tree is not writable"
    );
    let tree = f.worktrees_dir().join(run["id"].as_str().unwrap());
    // New entries in the worktree's root, unlike a sandboxed workspace's.
    assert_eq!(
        std::fs::read_to_string(tree.join("top.txt")).unwrap(),
        "top\n"
    );
    assert_eq!(
        std::fs::read_to_string(tree.join("target/out")).unwrap(),
        "built\n"
    );
    assert!(
        std::fs::read_to_string(tree.join("tmp.txt"))
            .unwrap()
            .contains("agentls-step-"),
        "its own temporary directory"
    );
}

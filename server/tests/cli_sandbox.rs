//! The sandbox of `run` steps, through `agentls run` as a user runs it:
//! what a step of a cloned repository's workflow can write and reach
//! without any configuration, what a declaration opens, and what happens
//! where no sandbox can be had (`AGENTLS_SANDBOX=off`).
//!
//! Every test needs Landlock; on a kernel without it, each says so and
//! returns. (This machine and CI have ABI 7: they really run.)

mod support;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::TestEnv;

fn kernel_has_landlock() -> bool {
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
        eprintln!(
            "skipped: this kernel has no Landlock ({})",
            std::io::Error::last_os_error()
        );
    }
    abi > 0
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A cloned repository: `ws/` with a `.git` (hooks included) and a `src/`,
/// outside the test's `$HOME`.
struct Repo {
    env: TestEnv,
    ws: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let env = TestEnv::new();
        let ws = env.mkdir("ws");
        std::fs::create_dir_all(ws.join(".git/hooks")).unwrap();
        std::fs::create_dir_all(ws.join("src")).unwrap();
        Repo { env, ws }
    }

    /// `ws/.agentls/workflows/NAME.toml` with one `run` step.
    fn workflow(&self, name: &str, top: &str, command: &str) {
        let toml = format!("{top}\n[[steps]]\nid = \"step\"\nrun = '''{command}'''\n",);
        self.env
            .write(&format!("ws/.agentls/workflows/{name}.toml"), &toml);
    }

    fn run(&self, name: &str, vars: &[(&str, &str)]) -> Output {
        let mut cmd: Command = self.env.command();
        cmd.args(["run", name, "--trust", "-w"])
            .arg(&self.ws)
            .envs(vars.iter().copied())
            .stdin(Stdio::null());
        cmd.output().expect("agentls runs")
    }

    /// The last run's step as `agentls show --json` reports it.
    fn last_step(&self) -> Value {
        let out = self
            .env
            .command()
            .args(["runs", "--json", "-w"])
            .arg(&self.ws)
            .output()
            .unwrap();
        let runs: Value = serde_json::from_slice(&out.stdout).expect("runs --json");
        let id = runs[0]["id"].as_str().expect("a run id").to_string();
        let out = self
            .env
            .command()
            .args(["show", &id, "--json", "-w"])
            .arg(&self.ws)
            .output()
            .unwrap();
        let run: Value = serde_json::from_slice(&out.stdout).expect("show --json");
        run["steps"][0].clone()
    }

    fn home(&self, name: &str) -> PathBuf {
        self.env.home().join(name)
    }
}

/// Tries every write a sandboxed step must not make, then the ones it may
/// make, and says which of those worked. Exits 0 either way.
fn escape_attempts(outside: &std::path::Path) -> String {
    format!(
        r#"echo x > "$HOME/x"; echo x > {outside}; echo x > .git/hooks/x; sh -c 'sh -c "echo x > \$HOME/child"'; echo in > src/inside && echo WROTE_WORKSPACE; echo t > "$TMPDIR/t" && echo WROTE_TMPDIR; true"#,
        outside = outside.display()
    )
}

#[test]
fn workspace_workflow_is_sandboxed_without_configuration() {
    if !kernel_has_landlock() {
        return;
    }
    let repo = Repo::new();
    // Outside the workspace and outside the step's own temporary directory,
    // in /tmp like it.
    let outside = repo.env.root().join("x");
    repo.workflow("box", "", &escape_attempts(&outside));
    let out = repo.run("box", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("WROTE_WORKSPACE"), "{}", text(&out));
    assert!(stdout.contains("WROTE_TMPDIR"), "{}", text(&out));
    assert!(repo.ws.join("src/inside").exists());
    for escaped in [
        repo.home("x"),
        repo.home("child"),
        outside,
        repo.ws.join(".git/hooks/x"),
    ] {
        assert!(
            !escaped.exists(),
            "{} was written\n{}",
            escaped.display(),
            text(&out)
        );
    }
    assert_eq!(repo.last_step()["error"], Value::Null, "no unconfined note");
}

#[test]
fn declared_write_paths_are_writable_with_tilde_expanded() {
    if !kernel_has_landlock() {
        return;
    }
    let repo = Repo::new();
    std::fs::create_dir_all(repo.home(".cache/tool")).unwrap();
    repo.workflow(
        "cache",
        r#"sandbox = { write = ["~/.cache/tool"] }"#,
        r#"echo c > "$HOME/.cache/tool/c" && echo x > "$HOME/x"; true"#,
    );
    let out = repo.run("cache", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(repo.home(".cache/tool/c").exists(), "{}", text(&out));
    assert!(!repo.home("x").exists(), "{}", text(&out));
}

/// `bash -c 'exec 3<>/dev/tcp/...'`: a TCP connect with nothing but bash.
fn connect(port: u16) -> String {
    format!("bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo CONNECTED")
}

fn accepted(listener: &TcpListener) -> bool {
    // The step has ended: a connection it made is in the backlog already.
    match listener.accept() {
        Ok(_) => true,
        Err(err) if err.kind() == ErrorKind::WouldBlock => false,
        Err(err) => panic!("accept: {err}"),
    }
}

#[test]
fn network_is_off_for_workspace_workflows_and_a_declared_port_is_reachable() {
    if !kernel_has_landlock() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let repo = Repo::new();

    repo.workflow("offline", "", &connect(port));
    let out = repo.run("offline", &[]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("CONNECTED"));
    assert!(!accepted(&listener), "the step connected:\n{}", text(&out));

    repo.workflow(
        "online",
        &format!("sandbox = {{ network = [{port}] }}"),
        &connect(port),
    );
    // What the trust approval covers includes the port.
    let refused = repo
        .env
        .command()
        .args(["run", "online", "-w"])
        .arg(&repo.ws)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains(&format!("let its commands use TCP ports {port} (sandbox)")),
        "{}",
        text(&refused)
    );
    let out = repo.run("online", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CONNECTED"));
    assert!(accepted(&listener), "no connection arrived\n{}", text(&out));
}

#[test]
fn sandbox_off_runs_unconfined_and_says_so() {
    let repo = Repo::new();
    repo.workflow("box", "", r#"echo x > "$HOME/x""#);
    let out = repo.run("box", &[("AGENTLS_SANDBOX", "off")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(repo.home("x").exists(), "unconfined: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ran unconfined: AGENTLS_SANDBOX=off"),
        "{}",
        text(&out)
    );
    let note = repo.last_step()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(note.contains("ran unconfined"), "{note}");
    let transcript = std::fs::read_dir(repo.env.state_dir())
        .unwrap()
        .flat_map(|d| {
            std::fs::read_dir(d.unwrap().path().join("transcripts"))
                .into_iter()
                .flatten()
        })
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(transcript.contains("ran unconfined"), "{transcript}");
}

#[test]
fn a_workflow_that_requires_the_sandbox_fails_without_one() {
    let repo = Repo::new();
    repo.workflow(
        "strict",
        "sandbox = { required = true }",
        r#"echo x > "$HOME/x""#,
    );
    let out = repo.run("strict", &[("AGENTLS_SANDBOX", "off")]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!repo.home("x").exists());
    let error = repo.last_step()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("must run sandboxed") && error.contains("AGENTLS_SANDBOX=off"),
        "{error}"
    );
}

#[test]
fn user_workflows_follow_the_user_setting_and_a_workspace_config_cannot_lift_it() {
    if !kernel_has_landlock() {
        return;
    }
    let repo = Repo::new();
    repo.env.write(
        "config/agentls/workflows/mine.toml",
        "[[steps]]\nid = \"a\"\nrun = 'echo x > \"$HOME/x\"; true'\n",
    );
    // By default the user's own workflows run unconfined.
    let out = repo.run("mine", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        repo.home("x").exists(),
        "unconfined by default\n{}",
        text(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("unconfined"));
    std::fs::remove_file(repo.home("x")).unwrap();

    // The user asks for the sandbox; a workspace config cannot lift it.
    repo.env.write(
        "config/agentls/config.toml",
        "[sandbox]\ndefault = \"writes\"\n",
    );
    repo.env
        .write("ws/.agentls/config.toml", "[sandbox]\ndefault = \"off\"\n");
    let out = repo.run("mine", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !repo.home("x").exists(),
        "the user's setting holds\n{}",
        text(&out)
    );
}

#[test]
fn doctor_reports_the_landlock_abi_or_why_there_is_none() {
    let env = TestEnv::new();
    let out = env.command().arg("doctor").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if kernel_has_landlock() {
        assert!(stdout.contains("sandbox: Landlock ABI "), "{stdout}");
    } else {
        assert!(stdout.contains("sandbox: unavailable ("), "{stdout}");
    }
    let out = env
        .command()
        .arg("doctor")
        .env("AGENTLS_SANDBOX", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("sandbox: unavailable (AGENTLS_SANDBOX=off)"),
        "{stdout}"
    );
}

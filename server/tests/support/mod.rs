//! Test harness for the integration tests in `server/tests/`: drives the real
//! `agentls` binary over stdio exactly as an editor does.
//!
//! Owns the hermetic environment (`TestEnv`: temp HOME, XDG dirs, state dir), the
//! JSON-RPC client (`TestServer`), initialize-params building (`InitParams`) and
//! URI helpers. It must never link to the server's code: tests see only the wire.
//!
//! Each test file includes it with `mod support;`; not every file uses every helper.
#![allow(dead_code, unused_imports)]

mod lsp;
mod responder;
mod runs;
mod server;
mod terminal;
mod transport;

pub use lsp::{config_key, files_contain, InitParams};
pub use runs::progress_of;
pub use server::{
    Notification, Recorded, RpcError, ServerOptions, ServerRequest, TestServer, DEFAULT_TIMEOUT,
};
pub use terminal::OnTerminal;
pub use transport::encode_raw_frame;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use tempfile::TempDir;

/// A fresh temp directory with its own HOME, XDG config/state dirs and agentls
/// state dir. Commands built from it see nothing of the developer's environment.
/// Clones share the directory (removed when the last one goes).
#[derive(Clone)]
pub struct TestEnv {
    dir: Arc<TempDir>,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("agentls-test-")
            .tempdir()
            .expect("creating a temp dir");
        let env = TestEnv { dir: Arc::new(dir) };
        for d in [env.home(), env.xdg_config_home(), env.xdg_state_home()] {
            std::fs::create_dir_all(d).expect("creating a test env dir");
        }
        env
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }
    pub fn xdg_config_home(&self) -> PathBuf {
        self.root().join("config")
    }
    pub fn xdg_state_home(&self) -> PathBuf {
        self.root().join("xdg-state")
    }
    /// The value of `AGENTLS_STATE_DIR` (not created: the server creates it).
    pub fn state_dir(&self) -> PathBuf {
        self.root().join("state")
    }
    /// `$XDG_CONFIG_HOME/agentls/config.toml`.
    pub fn user_config_path(&self) -> PathBuf {
        self.xdg_config_home().join("agentls").join("config.toml")
    }

    /// Writes `text` to `rel` under the root (parent dirs created); returns the path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.root().join(rel);
        write_file(&path, text);
        path
    }

    /// Creates directory `rel` under the root; returns its path.
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.root().join(rel);
        std::fs::create_dir_all(&path).expect("creating a test dir");
        path
    }

    /// A `Command` for the agentls binary with a cleared, hermetic environment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentls"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.xdg_config_home())
            .env("XDG_STATE_HOME", self.xdg_state_home())
            .env("AGENTLS_STATE_DIR", self.state_dir())
            .env("AGENTLS_LOG", "debug")
            .env("RUST_BACKTRACE", "1")
            .current_dir(self.root());
        cmd
    }
}

/// Polls `done` every 5 ms until it holds, failing the test after `limit`.
/// For what no event announces: a file a step writes, a process ending.
pub fn wait_until(what: &str, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Whether `pid` runs: it exists and is not a zombie (orphans are
/// reparented to an init that may never reap them).
pub fn process_running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        !matches!(state, Some('Z' | 'X'))
    })
}

/// Runs `git -C dir ARGS` with a fixed author, fails the test when it
/// fails, and returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes a file, creating its parent directories.
pub fn write_file(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("creating parent dirs");
    }
    std::fs::write(path, text).expect("writing a test file");
}

/// `file://` URI of an absolute path, percent-encoding what RFC 3986 requires.
pub fn file_uri(path: &Path) -> String {
    let s = path.to_str().expect("test paths are UTF-8");
    assert!(
        s.starts_with('/'),
        "file_uri needs an absolute path, got {s}"
    );
    let mut out = String::from("file://");
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

//! An agentls command on a real terminal (a pty), as a person runs it: the
//! test reads what it prints and types answers.

use std::io::{Read, Write};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, PtySize};

pub struct OnTerminal {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    seen: mpsc::Receiver<String>,
    transcript: String,
}

impl OnTerminal {
    /// Starts `command` (program, arguments, environment and directory as
    /// set) on a new pty.
    pub fn spawn(command: &Command) -> OnTerminal {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 200,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty");
        let mut cmd = CommandBuilder::new(command.get_program());
        cmd.args(command.get_args());
        cmd.env_clear();
        for (name, value) in command.get_envs() {
            if let Some(value) = value {
                cmd.env(name, value);
            }
        }
        if let Some(dir) = command.get_current_dir() {
            cmd.cwd(dir);
        }
        let child = pty.slave.spawn_command(cmd).expect("agentls starts");
        drop(pty.slave);
        let writer = pty.master.take_writer().unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let (tx, seen) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut all = String::new();
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                all.push_str(&String::from_utf8_lossy(&buf[..n]));
                let _ = tx.send(all.clone());
            }
        });
        OnTerminal {
            child,
            writer,
            seen,
            transcript: String::new(),
        }
    }

    /// Waits until the terminal has shown `needle` `count` times; returns
    /// everything shown so far.
    pub fn wait_for(&mut self, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.transcript.matches(needle).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no `{needle}` on the terminal:\n{}",
                self.transcript
            );
            if let Ok(seen) = self.seen.recv_timeout(left) {
                self.transcript = seen;
            }
        }
        self.transcript.clone()
    }

    /// Types `line` and Enter.
    pub fn type_line(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r").as_bytes())
            .unwrap();
    }

    /// Waits for the command to exit; whether it succeeded.
    pub fn success(&mut self) -> bool {
        self.child.wait().expect("agentls exits").success()
    }
}

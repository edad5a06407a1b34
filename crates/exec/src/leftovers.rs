//! What a dead agentls left running, and ending it.
//!
//! Every command gets [`PROCESS_ENV_VAR`] set to this process's
//! [`process_tag`]; the descendants of a command inherit it, including
//! those that left its process group. `PR_SET_PDEATHSIG` (pipes) and the
//! terminal's hang-up (PTY) end the shell itself when agentls dies, but
//! neither reaches grandchildren that ignore SIGHUP or were started by a
//! shell already gone. [`end_leftovers`] finds them by the tag once the
//! agentls that set it is dead, and kills them, so a resumed step never
//! races the remains of its previous attempt.
//!
//! Linux only (it reads `/proc`); elsewhere it finds nothing.

use std::sync::OnceLock;

/// Set in every command's environment to the [`process_tag`] of the agentls
/// process that started it.
pub const PROCESS_ENV_VAR: &str = "AGENTLS_PROCESS";

/// `<pid>-<start time>` of this process: unique on this machine as long as
/// the process lives, and, unlike the pid alone, never taken over by a later
/// process. The start time is in clock ticks since boot on Linux, in
/// nanoseconds since the epoch elsewhere.
pub fn process_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let pid = std::process::id();
        let start = start_time(pid).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
        format!("{pid}-{start}")
    })
}

/// Kills (SIGKILL) every process of this user whose environment carries
/// `tag`, unless the agentls process the tag names is still alive (its
/// commands are its own business). Returns how many were killed.
///
/// Tags of other shapes (such as an owner id from an older agentls) match
/// nothing.
pub fn end_leftovers(tag: &str) -> usize {
    let Some((pid, start)) = tag.split_once('-') else {
        return 0;
    };
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
        return 0;
    };
    if start_time(pid) == Some(start) {
        return 0;
    }
    let needle = format!("{PROCESS_ENV_VAR}={tag}");
    let mut killed = 0;
    for pid in tagged(&needle) {
        // SAFETY: kill has no memory effects; `pid` > 1 (see `tagged`).
        if unsafe { libc::kill(pid, libc::SIGKILL) } == 0 {
            killed += 1;
        }
    }
    if killed > 0 {
        tracing::info!(killed, tag, "ended processes left behind by a dead agentls");
    }
    killed
}

/// The start time of process `pid` (field 22 of `/proc/<pid>/stat`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses; the
    // fields after its closing parenthesis start at field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn start_time(_pid: u32) -> Option<u64> {
    None
}

/// Processes whose environment holds the entry `needle` exactly. Only our
/// own processes' environments are readable, so nothing else can match.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn tagged(needle: &str) -> Vec<libc::pid_t> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id() as libc::pid_t;
    entries
        .filter_map(|entry| {
            entry
                .ok()?
                .file_name()
                .to_str()?
                .parse::<libc::pid_t>()
                .ok()
        })
        .filter(|&pid| pid > 1 && pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|entry| entry == needle.as_bytes())
            })
        })
        .collect()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn tagged(_needle: &str) -> Vec<libc::pid_t> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_names_this_live_process() {
        let tag = process_tag();
        assert!(
            tag.starts_with(&format!("{}-", std::process::id())),
            "{tag}"
        );
        // Alive: nothing of ours is touched.
        assert_eq!(end_leftovers(tag), 0);
    }

    #[test]
    fn malformed_tags_match_nothing() {
        for tag in ["", "123", "x-y", "1-2-3"] {
            assert_eq!(end_leftovers(tag), 0, "{tag}");
        }
    }
}

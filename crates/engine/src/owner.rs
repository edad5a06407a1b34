//! Which process drives a run. Each engine holds an exclusive `flock` on
//! `<state>/owners/<id>.lock` for its whole life; the kernel releases it when
//! the process dies, however it dies. At start-up a run found `running` is
//! recovered as `interrupted` only when its owner's lock is free: a run that
//! another live agentls process (an editor's server, a CLI) is driving right
//! now is left alone.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Owner {
    pub id: String,
    _lock: File,
}

impl Owner {
    pub fn acquire(dir: &Path) -> std::io::Result<Owner> {
        std::fs::create_dir_all(dir)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        // The process tag first: it is what the commands of this process
        // carry, so the remains of a dead owner can be found (see
        // `end_leftovers`).
        let id = format!("{}-{nanos}", agentls_exec::process_tag());
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(dir, &id))?;
        if !try_lock(&file) {
            return Err(std::io::Error::other(format!("owner lock {id} is taken")));
        }
        Ok(Owner { id, _lock: file })
    }

    /// Ends the processes the (dead) owner `owner` left running: step
    /// commands whose shell died with it but whose background jobs did
    /// not, or that ignored the terminal's hang-up. Does nothing while the
    /// process behind `owner` lives, and for owner ids of older versions.
    pub fn end_leftovers(owner: &str) {
        if let Some((tag, _nanos)) = owner.rsplit_once('-') {
            agentls_exec::end_leftovers(tag);
        }
    }

    /// Whether no live process owns a run whose owner is `owner`.
    pub fn is_orphaned(dir: &Path, owner: Option<&str>) -> bool {
        let Some(owner) = owner else {
            return true;
        };
        let path = lock_path(dir, owner);
        let Ok(file) = OpenOptions::new().write(true).open(&path) else {
            return true;
        };
        let free = try_lock(&file);
        if free {
            // The owner is gone: its lock file is litter now.
            let _ = std::fs::remove_file(&path);
        }
        free
    }
}

/// The owners of a workspace whose lock a live process holds (in
/// `<state_dir>/owners/`), by id (`<pid>-<nanos>`): the agentls processes
/// that have the workspace's engine open. Changes nothing: a free lock file
/// is left for the next engine's recovery to clear.
pub fn live_owners(state_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(state_dir.join("owners")) else {
        return Vec::new();
    };
    let mut live: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry
                .file_name()
                .to_str()?
                .strip_suffix(".lock")?
                .to_string();
            let file = OpenOptions::new().write(true).open(entry.path()).ok()?;
            // Taken for an instant when free; closing the file releases it.
            (!try_lock(&file)).then_some(name)
        })
        .collect();
    live.sort();
    live
}

fn lock_path(dir: &Path, id: &str) -> PathBuf {
    let safe: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    dir.join(format!("{safe}.lock"))
}

fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a valid open descriptor; no memory is involved.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_owner_is_not_orphaned_and_a_dropped_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let owner = Owner::acquire(dir.path()).unwrap();
        assert!(!Owner::is_orphaned(dir.path(), Some(&owner.id)));
        let id = owner.id.clone();
        drop(owner);
        assert!(Owner::is_orphaned(dir.path(), Some(&id)));
        assert!(Owner::is_orphaned(dir.path(), None));
        assert!(Owner::is_orphaned(dir.path(), Some("never-existed")));
    }

    #[test]
    fn live_owners_lists_held_locks_only() {
        let state = tempfile::tempdir().unwrap();
        let owners = state.path().join("owners");
        let held = Owner::acquire(&owners).unwrap();
        let gone = Owner::acquire(&owners).unwrap();
        let gone_id = gone.id.clone();
        drop(gone);
        assert_eq!(live_owners(state.path()), vec![held.id.clone()]);
        assert!(
            owners.join(format!("{gone_id}.lock")).exists(),
            "left alone"
        );
        drop(held);
        assert!(live_owners(state.path()).is_empty());
    }
}

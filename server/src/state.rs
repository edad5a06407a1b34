//! Where agentls keeps what it writes: the state directory per workspace and
//! the user's configuration directory. Nothing is written into a workspace.
//!
//! `$AGENTLS_STATE_DIR` (or `$XDG_STATE_HOME/agentls`, else
//! `~/.local/state/agentls`) holds one directory per workspace, named by
//! [`WorkspaceId`], plus the server log.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Stable name of a workspace's state directory: the folder's name for
/// people, a hash of its canonical path for uniqueness.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkspaceId(String);

impl WorkspaceId {
    /// The id of the workspace rooted at `root`; `None` is the session for
    /// files outside every workspace folder.
    pub fn for_root(root: Option<&Path>) -> Self {
        let Some(root) = root else {
            return Self("_outside".into());
        };
        let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let hash = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
        let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let name: String = canonical
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "root".into())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        Self(format!("{name}-{hex}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The directory holding every workspace's state and the server log.
pub fn state_base() -> PathBuf {
    if let Some(dir) = non_empty_env("AGENTLS_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = non_empty_env("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("agentls");
    }
    home().join(".local/state/agentls")
}

/// The state directory of one workspace (not created here).
pub fn workspace_state_dir(id: &WorkspaceId) -> PathBuf {
    state_base().join(id.as_str())
}

/// `~/.config/agentls` (or `$XDG_CONFIG_HOME/agentls`).
pub fn user_config_dir() -> PathBuf {
    match non_empty_env("XDG_CONFIG_HOME") {
        Some(dir) => PathBuf::from(dir).join("agentls"),
        None => home().join(".config/agentls"),
    }
}

/// The user's own config file.
pub fn user_config_file() -> PathBuf {
    user_config_dir().join("config.toml")
}

/// A workspace's config file.
pub fn workspace_config_file(root: &Path) -> PathBuf {
    root.join(".agentls").join("config.toml")
}

fn home() -> PathBuf {
    non_empty_env("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// How long ago a time in milliseconds since the epoch was, for a person:
/// `12s ago`, `3m ago`, `5h ago`, `2d ago`. The CLI's run list and the
/// editor's run views say it the same way.
pub fn ago(ms: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(ms);
    let secs = (now - ms).max(0) / 1000;
    match secs {
        0..=59 => format!("{secs}s ago"),
        60..=3599 => format!("{}m ago", secs / 60),
        3600..=86399 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_id_is_stable_readable_and_distinct() {
        let a = WorkspaceId::for_root(Some(Path::new("/nonexistent/my project")));
        let b = WorkspaceId::for_root(Some(Path::new("/other/my project")));
        assert_eq!(
            a,
            WorkspaceId::for_root(Some(Path::new("/nonexistent/my project")))
        );
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("my_project-"), "{a}");
        assert_eq!(WorkspaceId::for_root(None).as_str(), "_outside");
    }
}

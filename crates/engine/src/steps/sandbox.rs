//! Which sandbox a run step's command gets: the workflow's `sandbox` key,
//! else the default of its source (docs/workflows.md, "Sandbox").

use std::path::PathBuf;

use agentls_exec::{Network, SandboxPolicy};
use agentls_store::WorkflowSource;
use agentls_workflow::{Sandbox, SandboxNetwork};

/// The user's sandbox settings (`[sandbox]` in their config file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxSettings {
    /// Whether user and built-in workflows without a `sandbox` key run
    /// sandboxed (writes confined, network allowed). Workspace workflows
    /// always do.
    pub sandbox_own_workflows: bool,
    /// Whether user and built-in workflows without a `sandbox` key run
    /// sandboxed when the run has a worktree of its own (writes confined
    /// to the worktree and its temporary directory).
    pub sandbox_worktree_runs: bool,
    /// Whether a sandboxed command may run unconfined, with a warning,
    /// where no sandbox can be had; otherwise its step fails.
    pub allow_unconfined: bool,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            sandbox_own_workflows: true,
            sandbox_worktree_runs: true,
            allow_unconfined: true,
        }
    }
}

/// The policy for a command of a workflow from `source` declaring
/// `declared`, in a run whose worktree is `worktree` (if it has one);
/// `None`: it runs unconfined by choice.
pub fn policy(
    declared: Option<&Sandbox>,
    source: WorkflowSource,
    settings: &SandboxSettings,
    worktree: Option<&std::path::Path>,
) -> Option<SandboxPolicy> {
    let from_workspace = source == WorkflowSource::Workspace;
    let own_default = match worktree {
        Some(_) => settings.sandbox_own_workflows || settings.sandbox_worktree_runs,
        None => settings.sandbox_own_workflows,
    };
    if declared.is_none() && !from_workspace && !own_default {
        return None;
    }
    let declared = declared.cloned().unwrap_or_default();
    let network = match declared.network {
        Some(SandboxNetwork::Allowed) => Network::Allowed,
        Some(SandboxNetwork::Denied) => Network::Denied,
        Some(SandboxNetwork::Ports(ports)) => Network::Ports(ports),
        None if from_workspace => Network::Denied,
        None => Network::Allowed,
    };
    let write = declared
        .write
        .iter()
        .filter_map(|path| home_path(path))
        // The whole worktree is the run's: unlike a workspace's `.git`
        // directory, its `.git` file points git at nothing agentls reads
        // (agentls-worktree names the git directory itself).
        .chain(worktree.map(std::path::Path::to_path_buf))
        .collect();
    Some(SandboxPolicy {
        write,
        network,
        required: declared.required || !settings.allow_unconfined,
    })
}

/// `path` with a leading `~` made the home directory; `None` (and a
/// warning) when that is needed and HOME is not set.
fn home_path(path: &str) -> Option<PathBuf> {
    let Some(rest) = path.strip_prefix('~') else {
        return Some(PathBuf::from(path));
    };
    match std::env::var_os("HOME") {
        Some(home) => Some(PathBuf::from(home).join(rest.trim_start_matches('/'))),
        None => {
            tracing::warn!(path, "HOME is not set: the sandbox cannot grant this path");
            None
        }
    }
}

/// The sandbox of an ACP agent's process in a run whose commands get
/// `run_policy`: the same confinement of writes, plus the agent's own
/// paths (`[agents.NAME] write`: its login, sessions, caches); its network
/// is not limited, since it talks to its vendor. Its terminals keep the
/// run's policy. `None` when the run's commands are unconfined.
///
/// An agent path ending in `/` is a directory, created when missing (the
/// agent would create it, and a sandbox grants only what exists); the
/// second value lists the agent's paths that do not exist, which the
/// agent cannot create.
pub fn agent_policy(
    run_policy: Option<SandboxPolicy>,
    agent_write: &[String],
) -> Option<(SandboxPolicy, Vec<PathBuf>)> {
    let mut policy = run_policy?;
    policy.network = Network::Allowed;
    let mut missing = Vec::new();
    for entry in agent_write {
        let Some(path) = home_path(entry) else {
            continue;
        };
        if entry.ends_with('/') {
            if let Err(error) = std::fs::create_dir_all(&path) {
                tracing::warn!("cannot create {} for the agent: {error}", path.display());
            }
        }
        if !path.exists() {
            missing.push(path.clone());
        }
        policy.write.push(path);
    }
    Some((policy, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_gets_the_runs_confinement_its_own_paths_and_its_network() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("state/");
        let file = dir.path().join("settings.json");
        let run = SandboxPolicy {
            write: vec![PathBuf::from("/opt/cache")],
            network: Network::Denied,
            required: true,
        };
        let agent = [own.display().to_string(), file.display().to_string()];
        let (policy, missing) = agent_policy(Some(run), &agent).unwrap();
        assert_eq!(policy.network, Network::Allowed, "it talks to its vendor");
        assert!(policy.required);
        assert_eq!(
            policy.write,
            [PathBuf::from("/opt/cache"), own.clone(), file.clone()]
        );
        assert!(own.is_dir(), "a directory entry is created");
        assert_eq!(missing, [file], "a file is not");
        assert_eq!(agent_policy(None, &agent), None, "an unconfined run");
    }

    #[test]
    fn workspace_workflows_are_sandboxed_without_network_by_default() {
        let settings = SandboxSettings {
            sandbox_own_workflows: false,
            sandbox_worktree_runs: false,
            allow_unconfined: true,
        };
        let p = policy(None, WorkflowSource::Workspace, &settings, None).unwrap();
        assert_eq!(p.network, Network::Denied);
        assert!(!p.required);
        assert_eq!(policy(None, WorkflowSource::User, &settings, None), None);
        assert_eq!(policy(None, WorkflowSource::Builtin, &settings, None), None);
    }

    #[test]
    fn own_workflows_follow_the_setting_with_network_allowed() {
        let settings = SandboxSettings::default();
        let p = policy(None, WorkflowSource::Builtin, &settings, None).unwrap();
        assert_eq!(p.network, Network::Allowed);
    }

    #[test]
    fn declared_keys_win_and_required_follows_either_side() {
        let declared = Sandbox {
            network: Some(SandboxNetwork::Ports(vec![8080])),
            write: vec!["/opt/cache".into()],
            required: false,
        };
        let strict = SandboxSettings {
            sandbox_own_workflows: false,
            sandbox_worktree_runs: false,
            allow_unconfined: false,
        };
        let p = policy(Some(&declared), WorkflowSource::User, &strict, None).unwrap();
        assert_eq!(p.network, Network::Ports(vec![8080]));
        assert_eq!(p.write, [PathBuf::from("/opt/cache")]);
        assert!(p.required, "the config forbids unconfined runs");
    }

    #[test]
    fn a_worktree_run_is_sandboxed_by_default_and_may_write_its_whole_worktree() {
        let settings = SandboxSettings {
            sandbox_own_workflows: false,
            sandbox_worktree_runs: true,
            allow_unconfined: true,
        };
        let tree = std::path::Path::new("/state/worktrees/r1");
        assert_eq!(policy(None, WorkflowSource::User, &settings, None), None);
        let p = policy(None, WorkflowSource::User, &settings, Some(tree)).unwrap();
        assert_eq!(p.write, [PathBuf::from("/state/worktrees/r1")]);
        assert_eq!(p.network, Network::Allowed);
        let off = SandboxSettings {
            sandbox_worktree_runs: false,
            ..settings
        };
        assert_eq!(policy(None, WorkflowSource::User, &off, Some(tree)), None);
    }
}

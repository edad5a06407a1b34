//! Workspace trust: a workflow file that came with the workspace (a cloned
//! repository can carry `.agentls/`) may not run commands, use `command`
//! providers or edit anything but the run's own selection until the user has
//! approved its exact content once (remembered by content hash).

use agentls_workflow::{EditSpec, Sandbox, SandboxNetwork, SourceKind, StepKind, Workflow};

use crate::Models;

/// A run refused because its workflow needs approval first.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "workflow `{workflow}` comes from this workspace ({path}) and has not been approved; \
     it would: {}. Approve it once (agentls run --trust, or the editor's prompt) to run it",
    actions.join("; ")
)]
pub struct TrustRequired {
    pub workflow: String,
    pub path: String,
    pub hash: String,
    /// What the workflow would do that needs trust, for the user to review.
    pub actions: Vec<String>,
}

/// What `workflow` would do that an untrusted workflow may not; empty when it
/// needs no trust (or is not from the workspace).
pub fn untrusted_actions(workflow: &Workflow, models: Option<&dyn Models>) -> Vec<String> {
    if workflow.source.kind != SourceKind::Workspace {
        return Vec::new();
    }
    let mut actions = Vec::new();
    for step in &workflow.steps {
        match &step.kind {
            StepKind::Run { command, .. } => {
                actions.push(format!("run `{command}` (step `{}`)", step.id))
            }
            StepKind::Edit(EditSpec::File { path, .. }) => {
                actions.push(format!("write {path} (step `{}`)", step.id))
            }
            StepKind::Edit(EditSpec::Patch { .. }) => actions.push(format!(
                "apply a patch to workspace files (step `{}`)",
                step.id
            )),
            StepKind::Prompt { providers, .. } => {
                for name in models
                    .map(|m| m.command_providers(providers))
                    .unwrap_or_default()
                {
                    actions.push(format!(
                        "run the command provider `{name}` (step `{}`)",
                        step.id
                    ));
                }
            }
            StepKind::Agent(spec) => {
                // Reading needs no trust (a prompt step reads as much); a
                // model that may act does, with what it may do unasked. An
                // ACP agent is a program that runs whatever it decides to.
                let acting: Vec<&str> = spec
                    .tools
                    .iter()
                    .map(String::as_str)
                    .filter(|t| matches!(*t, "edit_file" | "write_file" | "run_command"))
                    .collect();
                if let Some(agent) = &spec.acp {
                    actions.push(format!(
                        "start the ACP agent `{agent}` (step `{}`)",
                        step.id
                    ));
                } else if !acting.is_empty() {
                    actions.push(format!(
                        "let a model call {} (asking you first unless `allow` says so; step `{}`)",
                        acting.join(", "),
                        step.id
                    ));
                }
                for rule in &spec.allow.run {
                    actions.push(format!(
                        "let it run commands matching `{rule}` without asking (step `{}`)",
                        step.id
                    ));
                }
                for rule in &spec.allow.edit {
                    actions.push(format!(
                        "let it edit files matching `{rule}` without asking (step `{}`)",
                        step.id
                    ));
                }
            }
            StepKind::Edit(EditSpec::Selection { .. }) | StepKind::Approve { .. } => {}
        }
    }
    let runs_commands = workflow.steps.iter().any(|s| match &s.kind {
        StepKind::Run { .. } => true,
        StepKind::Agent(spec) => {
            spec.acp.is_some() || spec.tools.iter().any(|t| t == "run_command")
        }
        _ => false,
    });
    if let (true, Some(sandbox)) = (runs_commands, &workflow.sandbox) {
        actions.extend(sandbox_actions(sandbox));
    }
    actions
}

/// How a workflow's `sandbox` key widens the default sandbox of a workspace
/// workflow (workspace and `TMPDIR` writes, no network): what approving it
/// also approves.
fn sandbox_actions(sandbox: &Sandbox) -> Vec<String> {
    let mut actions: Vec<String> = sandbox
        .write
        .iter()
        .map(|path| format!("let its commands write beneath {path} (sandbox)"))
        .collect();
    match &sandbox.network {
        Some(SandboxNetwork::Allowed) => {
            actions.push("let its commands use the network (sandbox)".to_string())
        }
        Some(SandboxNetwork::Ports(ports)) if !ports.is_empty() => {
            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
            actions.push(format!(
                "let its commands use TCP ports {} (sandbox)",
                ports.join(", ")
            ))
        }
        Some(SandboxNetwork::Denied | SandboxNetwork::Ports(_)) | None => {}
    }
    actions
}

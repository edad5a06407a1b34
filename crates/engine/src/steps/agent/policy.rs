//! The one permission policy of agent steps: what changes something or
//! runs something needs the step's `allow` rules, or an approval given for
//! the rest of the run, or a person's answer (docs/workflows.md, "Agent
//! steps: permissions"). Reading never asks.

use agentls_chat::ToolCall;

use super::act::{Permission, PermissionKind, Toolbox};
use super::Agent;

/// What the policy says of a tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Runs without asking.
    Allowed,
    /// Waits for a person. `description`: the exact action (the command
    /// line, or the edit's diff); `kind` and `subject`: what an "always"
    /// answer allows for the rest of the run.
    Ask {
        kind: &'static str,
        subject: String,
        description: String,
    },
}

/// Whether `subject` (a command line, a relative path) of `kind` runs
/// without asking: an `allow` rule matches it, or a person allowed it
/// "always" earlier in the run. The one check for native tools and an ACP
/// agent's requests alike.
pub(crate) fn runs_unasked(
    store: &agentls_store::Store,
    run: &agentls_store::RunId,
    allow: &agentls_tools::Allow,
    kind: PermissionKind,
    subject: &str,
) -> Result<bool, String> {
    let ruled = match kind {
        PermissionKind::Run => allow.allows_run(subject),
        PermissionKind::Edit => allow.allows_edit(subject),
    };
    if ruled {
        return Ok(true);
    }
    store
        .is_granted(run, kind.as_str(), subject)
        .map_err(|e| e.to_string())
}

pub async fn decide(
    agent: &Agent<'_>,
    tools: &Toolbox<'_>,
    call: &ToolCall,
) -> Result<Decision, String> {
    let Some(Permission {
        kind,
        subject,
        description,
    }) = tools.permission(call).await
    else {
        return Ok(Decision::Allowed);
    };
    let unasked = runs_unasked(
        &agent.inner.store,
        &agent.record.id,
        tools.allow(),
        kind,
        &subject,
    )?;
    Ok(if unasked {
        Decision::Allowed
    } else {
        Decision::Ask {
            kind: kind.as_str(),
            subject,
            description,
        }
    })
}

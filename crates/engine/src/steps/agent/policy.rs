//! The one permission policy of agent steps: what changes something or
//! runs something needs the step's `allow` rules, or an approval given for
//! the rest of the run, or a person's answer (docs/workflows.md, "Agent
//! steps: permissions"). Reading never asks.

use agentls_chat::ToolCall;

use super::act::{Permission, Toolbox};
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
    if tools.allows(kind, &subject) {
        return Ok(Decision::Allowed);
    }
    let granted = agent
        .inner
        .store
        .is_granted(&agent.record.id, kind.as_str(), &subject)
        .map_err(|e| e.to_string())?;
    Ok(if granted {
        Decision::Allowed
    } else {
        Decision::Ask {
            kind: kind.as_str(),
            subject,
            description,
        }
    })
}

//! Asking the user to trust a workspace workflow. `agent.run` refuses an
//! untrusted workflow at once (the error names what it would do); this
//! asks in the editor from a task, and "Trust and run" records the approval
//! of that exact content and starts the run the user asked for.
//!
//! The same for a workspace's `.agentls/config.toml` whose providers would
//! send the user's credentials elsewhere or run a program: the run goes on
//! with the user's own providers, and the editor is asked once per content
//! whether to approve the file for the runs after it.

use std::sync::Arc;
use std::time::Duration;

use agentls_engine::{StartRequest, TrustRequired};

use crate::session::Session;
use tower_lsp_server::ls_types::{MessageType, ProgressToken};

use super::requests::Requests;
use super::surface::Surface;

/// How long the question stays open: a person reads it.
const ASK_FOR: Duration = Duration::from_secs(600);
const TRUST: &str = "Trust and run";

pub fn ask(
    requests: Requests,
    surface: Arc<Surface>,
    request: StartRequest,
    token: Option<ProgressToken>,
    trust: &TrustRequired,
) {
    let message = format!(
        "agentls: workflow `{}` comes from this workspace ({}) and has not been approved. It \
         would: {}. Trust this exact file and run it?",
        trust.workflow,
        trust.path,
        trust.actions.join("; ")
    );
    tokio::spawn(async move {
        let answer = requests
            .ask(MessageType::WARNING, message, &[TRUST, "Cancel"], ASK_FOR)
            .await;
        match answer {
            Ok(Some(picked)) if picked == TRUST => {}
            Ok(_) => return,
            Err(err) => {
                tracing::info!("trust question not answered: {err}");
                return;
            }
        }
        let name = request.workflow.name.clone();
        if let Err(err) = surface.engine().trust(&request.workflow) {
            surface.tell(
                MessageType::ERROR,
                format!("agentls: cannot record your approval of `{name}`: {err}"),
            );
            return;
        }
        match surface.start(request, token) {
            Ok(run) => tracing::info!("trusted `{name}` and started run {run}"),
            Err(err) => surface.tell(
                MessageType::ERROR,
                format!("agentls: `{name}` is trusted now but did not start: {err}"),
            ),
        }
    });
}

const TRUST_CONFIG: &str = "Trust its providers";

/// Asks, from a task, whether to approve the workspace config file whose
/// providers are left out (`problems` says why).
pub fn ask_config(
    requests: Requests,
    surface: Arc<Surface>,
    session: Arc<Session>,
    path: std::path::PathBuf,
    problems: Vec<String>,
) {
    let message = format!(
        "agentls: {} has not been approved, and its providers are not used until it is: {}. \
         Your own providers are used meanwhile. Trust this exact file?",
        path.display(),
        problems.join("; ")
    );
    tokio::spawn(async move {
        let answer = requests
            .ask(
                MessageType::WARNING,
                message,
                &[TRUST_CONFIG, "Not now"],
                ASK_FOR,
            )
            .await;
        match answer {
            Ok(Some(picked)) if picked == TRUST_CONFIG => {}
            Ok(_) => return,
            Err(err) => {
                tracing::info!("config trust question not answered: {err}");
                return;
            }
        }
        match session.trust_workspace_config() {
            Ok(()) => surface.tell(
                MessageType::INFO,
                format!(
                    "agentls: {} is trusted; its providers apply from the next run",
                    path.display()
                ),
            ),
            Err(err) => surface.tell(
                MessageType::ERROR,
                format!(
                    "agentls: cannot record your approval of {}: {err}",
                    path.display()
                ),
            ),
        }
    });
}

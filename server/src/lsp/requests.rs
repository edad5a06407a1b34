//! Requests from the server to the editor (`workspace/applyEdit`,
//! `window/showDocument`, `window/workDoneProgress/create`).
//!
//! Nothing here is ever awaited by a request handler (docs/architecture.md, invariant 4):
//! callers are run tasks (an `edit` step waiting for its edit) or tasks
//! spawned for the purpose. Every request has a timeout, so an editor that
//! never answers costs one timer, not a stuck run or a stuck server.

use std::time::Duration;

use tower_lsp_server::ls_types::request::{
    ApplyWorkspaceEdit, Request, ShowDocument, ShowMessageRequest, WorkDoneProgressCreate,
};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

/// Why a request to the editor brought no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("the editor did not answer `{method}` within {} s", .after.as_secs_f32())]
    Timeout {
        method: &'static str,
        after: Duration,
    },
    #[error("the editor answered `{method}` with an error: {message}")]
    Failed {
        method: &'static str,
        message: String,
    },
}

/// Sends requests to the editor, each bounded by a timeout.
#[derive(Clone)]
pub struct Requests {
    client: Client,
    timeout: Duration,
}

impl Requests {
    pub fn new(client: Client, timeout: Duration) -> Self {
        Self { client, timeout }
    }

    async fn send<R: Request>(&self, params: R::Params) -> Result<R::Result, RequestError> {
        self.send_within::<R>(self.timeout, params).await
    }

    async fn send_within<R: Request>(
        &self,
        timeout: Duration,
        params: R::Params,
    ) -> Result<R::Result, RequestError> {
        match tokio::time::timeout(timeout, self.client.send_request::<R>(params)).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(err)) => Err(RequestError::Failed {
                method: R::METHOD,
                message: err.message.into_owned(),
            }),
            Err(_) => Err(RequestError::Timeout {
                method: R::METHOD,
                after: timeout,
            }),
        }
    }

    pub async fn apply_edit(
        &self,
        label: &str,
        edit: WorkspaceEdit,
    ) -> Result<ApplyWorkspaceEditResponse, RequestError> {
        self.send::<ApplyWorkspaceEdit>(ApplyWorkspaceEditParams {
            label: Some(label.to_owned()),
            edit,
        })
        .await
    }

    pub async fn show_document(&self, uri: Uri, take_focus: bool) -> Result<bool, RequestError> {
        self.send::<ShowDocument>(ShowDocumentParams {
            uri,
            external: Some(false),
            take_focus: Some(take_focus),
            selection: None,
        })
        .await
        .map(|r| r.success)
    }

    pub async fn create_progress(&self, token: ProgressToken) -> Result<(), RequestError> {
        self.send::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams { token })
            .await
    }
}

impl Requests {
    /// Asks the user to pick one of `actions`; `None` when they dismissed
    /// it. A person may take a while: this waits up to `within`.
    pub async fn ask(
        &self,
        kind: MessageType,
        message: String,
        actions: &[&str],
        within: Duration,
    ) -> Result<Option<String>, RequestError> {
        let params = ShowMessageRequestParams {
            typ: kind,
            message,
            actions: Some(
                actions
                    .iter()
                    .map(|a| MessageActionItem {
                        title: (*a).to_owned(),
                        properties: Default::default(),
                    })
                    .collect(),
            ),
        };
        self.send_within::<ShowMessageRequest>(within, params)
            .await
            .map(|picked| picked.map(|item| item.title))
    }
}

//! One model turn of an `agent` step: the conversation and the tools go to
//! one provider, the model's text streams into the step's live output, and
//! the text and tool calls come back as a [`TurnOutcome`].
//!
//! The call is a future polled by the step's own future, like a prompt's:
//! when the engine drops it (cancellation), the connection closes with it.
//! A stream that breaks is retried inside the provider, wherever it broke
//! (docs/providers.md, "Tool calls"), so a turn returns only whole tool
//! calls, or an error.

use agentls_engine::{TurnCall, TurnOutcome};
use agentls_provider::{Chunk, Request};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::live::Live;
use crate::observe::{self, CallInfo};
use crate::prompt::{provider_stream, usage, write_live, CHUNKS};
use crate::{ModelsError, SessionModels};

pub(crate) async fn turn(
    models: &SessionModels,
    call: TurnCall,
    output: mpsc::Sender<Vec<u8>>,
    cancel: CancellationToken,
) -> Result<TurnOutcome, ModelsError> {
    let name = call
        .provider
        .clone()
        .unwrap_or_else(|| models.config().default_name().to_string());
    tracing::debug!(step = %call.step, provider = %name, turn = call.messages.len(), "asking model for a turn");
    let mut request = Request::turn(call.messages, call.tools);
    request.system = call.system;

    let (chunks, received) = mpsc::channel::<Chunk>(CHUNKS);
    // A single provider's failure is the step's error, shown by the engine:
    // no note in the live output.
    let (done, note) = oneshot::channel::<Option<String>>();
    let provider = models.provider(&name);
    let info = CallInfo::new(&name, models.config().get(&name).as_ref());
    let span = info.span();
    let log = call.calls.clone();
    // The conversation is copied for telemetry only when content recording
    // is on: it grows with every turn.
    let recorded = observe::content_enabled().then(|| request.clone());
    let ask = async {
        let result = observe::stream_logged(provider, request, chunks, cancel, &info, &log).await;
        if let Some(request) = &recorded {
            observe::turn_content(request, &result, || models.secrets());
        }
        let _ = done.send(None);
        result
    }
    .instrument(span);

    let mut live = Live::new(output, vec![name.clone()]);
    let write = write_live(
        &mut live,
        futures::stream::select_all([provider_stream(0, received, note)]),
    );
    let ((), result) = tokio::join!(write, ask);
    let completion = result?;
    Ok(TurnOutcome {
        text: completion.text.clone(),
        usage: usage(&name, &completion),
        stop_reason: completion.stop_reason,
        tool_calls: completion.tool_calls,
    })
}

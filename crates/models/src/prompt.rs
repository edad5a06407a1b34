//! Answering one `prompt` step: one provider, or several concurrently
//! (fan-out), with the answer streamed live and the outcome assembled from
//! the completions.
//!
//! Nothing here is spawned: every provider call is a future polled by the
//! step's own future, so when the engine drops it (cancellation) every
//! connection closes with it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use agentls_engine::{PromptCall, PromptOutcome, Usage};
use agentls_provider::{Chunk, Completion, Request};
use agentls_workflow::Pick;
use futures::stream::{BoxStream, FuturesUnordered};
use futures::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::live::{Item, Live};
use crate::observe::{self, CallInfo};
use crate::redact::redact;
use crate::{ModelsError, SessionModels};

/// Chunks buffered per provider before it waits for the live writer.
pub(crate) const CHUNKS: usize = 256;

pub(crate) async fn answer(
    models: &SessionModels,
    call: PromptCall,
    output: mpsc::Sender<Vec<u8>>,
    cancel: CancellationToken,
) -> Result<PromptOutcome, ModelsError> {
    let names = models.resolve(&call.providers);
    let fan_out = names.len() > 1;
    tracing::debug!(step = %call.step, providers = ?names, "asking models");
    let started = Instant::now();
    let request = Request::new(call.prompt.clone());

    let mut streams = Vec::with_capacity(names.len());
    let calls = FuturesUnordered::new();
    let prompt: &str = &request.prompt;
    for (index, name) in names.iter().enumerate() {
        let (chunks, received) = mpsc::channel::<Chunk>(CHUNKS);
        let (done, failure) = oneshot::channel::<Option<String>>();
        streams.push(provider_stream(index, received, failure));
        let provider = models.provider(name);
        let info = CallInfo::new(name, models.config().get(name).as_ref());
        let span = info.span();
        let log = call.calls.clone();
        let (request, cancel) = (request.clone(), cancel.clone());
        let ask = async move {
            let result =
                observe::stream_logged(provider, request, chunks, cancel, &info, &log).await;
            observe::content(prompt, &result, || models.secrets());
            // A fan-out tells the watcher which provider failed; a single
            // provider's failure is the step's error, shown by the engine.
            let note = match &result {
                Err(ModelsError::Provider(err)) if err.is_cancelled() => None,
                Err(err) if fan_out => Some(redact(&err.to_string(), &models.secrets())),
                _ => None,
            };
            let _ = done.send(note);
            (index, result)
        };
        calls.push(ask.instrument(span));
    }

    let mut live = Live::new(output, names.clone());
    let write = write_live(&mut live, futures::stream::select_all(streams));
    let collect = calls.collect::<Vec<_>>();
    let ((), finished) = tokio::join!(write, collect);

    // `finished` is in completion order: the first answer is the winner of
    // `pick = "first"`.
    let mut answers = Vec::new();
    let mut failures = Vec::new();
    for (index, result) in finished {
        match result {
            Ok(completion) => answers.push((index, completion)),
            Err(err) => failures.push((index, err)),
        }
    }
    failures.sort_by_key(|(index, _)| *index);
    let Some((winner, first)) = answers.first() else {
        return Err(match failures.len() {
            1 => failures.remove(0).1,
            _ => ModelsError::AllFailed(failures.iter().map(|(_, e)| e.to_string()).collect()),
        });
    };
    if !fan_out {
        return Ok(single(&names[0], first));
    }
    let winner = *winner;
    answers.sort_by_key(|(index, _)| *index);
    let output = match call.pick {
        Pick::First => answers
            .iter()
            .find(|(index, _)| *index == winner)
            .map(|(_, c)| c.text.clone())
            .unwrap_or_default(),
        Pick::All => sections(&names, &answers),
    };
    let warning = (!failures.is_empty()).then(|| {
        let text = format!(
            "{} of {} providers gave no answer: {}",
            failures.len(),
            names.len(),
            failures
                .iter()
                .map(|(_, e)| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        );
        redact(&text, &models.secrets())
    });
    Ok(PromptOutcome {
        output,
        outputs: answers
            .iter()
            .map(|(index, c)| (names[*index].clone(), c.text.clone()))
            .collect::<BTreeMap<_, _>>(),
        usage: fan_out_usage(&names, &answers, started.elapsed()),
        warning,
    })
}

/// Writes the merged chunk streams to the live output, coalescing what is
/// already waiting into writes of at most about [`Live::is_full`]'s size.
pub(crate) async fn write_live(
    live: &mut Live,
    mut merged: futures::stream::SelectAll<BoxStream<'_, Vec<Item>>>,
) {
    while let Some(items) = merged.next().await {
        let mut waiting = Some(items);
        let mut ended = false;
        while let Some(items) = waiting.take() {
            for item in items {
                live.push(item);
                if live.is_full() {
                    live.flush().await;
                }
            }
            match merged.next().now_or_never() {
                Some(Some(items)) => waiting = Some(items),
                Some(None) => ended = true,
                None => {}
            }
        }
        live.flush().await;
        if ended {
            break;
        }
    }
}

/// Provider `index`'s chunks, as many as are waiting at a time, then its
/// failure note, if any, once its stream has ended (so the note follows its
/// last text). Taking what is waiting in one `recv_many` costs one unit of
/// tokio's cooperative budget, not one per chunk: an answer of thousands
/// of small chunks would otherwise make the step's task yield every 128.
pub(crate) fn provider_stream(
    index: usize,
    chunks: mpsc::Receiver<Chunk>,
    failure: oneshot::Receiver<Option<String>>,
) -> BoxStream<'static, Vec<Item>> {
    enum State {
        Streaming(mpsc::Receiver<Chunk>, oneshot::Receiver<Option<String>>),
        Ended,
    }
    futures::stream::unfold(State::Streaming(chunks, failure), move |state| async move {
        let State::Streaming(mut chunks, failure) = state else {
            return None;
        };
        let mut batch = Vec::new();
        if chunks.recv_many(&mut batch, CHUNKS).await > 0 {
            let items = batch.into_iter().map(|c| Item::Chunk(index, c)).collect();
            return Some((items, State::Streaming(chunks, failure)));
        }
        match failure.await {
            Ok(Some(error)) => Some((vec![Item::Failed(index, error)], State::Ended)),
            _ => None,
        }
    })
    .boxed()
}

fn single(name: &str, completion: &Completion) -> PromptOutcome {
    PromptOutcome {
        output: completion.text.clone(),
        outputs: BTreeMap::from([(name.to_string(), completion.text.clone())]),
        usage: usage(name, completion),
        warning: None,
    }
}

/// The usage of one provider's answer, as the store keeps it.
pub(crate) fn usage(name: &str, completion: &Completion) -> Usage {
    Usage {
        input_tokens: completion.usage.input_tokens,
        output_tokens: completion.usage.output_tokens,
        cached_tokens: completion.usage.cached_tokens,
        provider: Some(name.to_string()),
        model: completion.model.clone(),
        latency_ms: Some(millis(completion.latency)),
    }
}

/// Every answer under a `## name` heading, in the step's order.
fn sections(names: &[String], answers: &[(usize, Completion)]) -> String {
    answers
        .iter()
        .map(|(index, c)| format!("## {}\n\n{}", names[*index], c.text.trim_end_matches('\n')))
        .collect::<Vec<_>>()
        .join("\n\n")
        + "\n"
}

/// Token counts summed over the answers; provider and model name the
/// providers that answered, in the step's order.
fn fan_out_usage(names: &[String], answers: &[(usize, Completion)], wall: Duration) -> Usage {
    let sum = |get: fn(&Completion) -> Option<u64>| {
        answers
            .iter()
            .filter_map(|(_, c)| get(c))
            .reduce(|a, b| a + b)
    };
    let joined = |part: &dyn Fn(usize, &Completion) -> String| {
        answers
            .iter()
            .map(|(index, c)| part(*index, c))
            .collect::<Vec<_>>()
            .join(",")
    };
    let models = joined(&|_, c| c.model.clone().unwrap_or_default());
    Usage {
        input_tokens: sum(|c| c.usage.input_tokens),
        output_tokens: sum(|c| c.usage.output_tokens),
        cached_tokens: sum(|c| c.usage.cached_tokens),
        provider: Some(joined(&|index, _| names[index].clone())),
        model: (!models.replace(',', "").is_empty()).then_some(models),
        latency_ms: Some(millis(wall)),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

//! `run` steps: a command in the workspace root, in a pseudo-terminal.

use agentls_exec::{CommandSpec, PtyMode, TerminalSize, Termination};
use agentls_store::{RunRecord, StepResult, StepStatus};
use agentls_workflow::Step;
use tokio_util::sync::CancellationToken;

use super::{output, Outcome};
use crate::engine::Inner;

pub async fn execute(
    inner: &std::sync::Arc<Inner>,
    record: &RunRecord,
    step: &Step,
    command: String,
    env: Vec<(String, String)>,
    cancel: &CancellationToken,
) -> Outcome {
    let options = inner.options();
    let mut spec = CommandSpec::new(command, &inner.root);
    // Provider keys never reach children, unless the step passes one by name.
    spec.remove_env = options
        .secret_vars
        .iter()
        .filter(|name| !env.iter().any(|(k, _)| k == *name))
        .cloned()
        .collect();
    spec.env.extend(env);
    spec.timeout = step.timeout;
    spec.pty = if options.pty {
        PtyMode::Auto
    } else {
        PtyMode::Off
    }
    .with_env_override();
    spec.size = TerminalSize {
        cols: options.cols,
        rows: options.rows,
    };
    spec.term = options.term.clone();

    let (tx, collected) = output::collector(inner, &record.id, step.id.as_str());
    let outcome = agentls_exec::run(spec, tx, cancel.clone()).await;
    let buffer = collected.await.unwrap_or_default();
    let text = agentls_exec::strip_ansi(buffer.text().as_bytes());
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => return Outcome::failed(format!("cannot run the command: {err}"), false),
    };
    let mut result = StepResult::new(StepStatus::Completed, text);
    result.output_truncated = buffer.is_truncated();
    result.exit_code = outcome.exit_code();
    match outcome.termination {
        Termination::Exited(0) => Outcome::Done(result),
        Termination::Cancelled => Outcome::Cancelled,
        Termination::Exited(code) => {
            result.status = StepStatus::Failed;
            result.error = Some(format!("command exited with code {code}"));
            Outcome::Failed {
                result,
                retriable: true,
            }
        }
        Termination::Signaled(signal) => {
            result.status = StepStatus::Failed;
            result.error = Some(format!("command was killed by signal {signal}"));
            Outcome::Failed {
                result,
                retriable: true,
            }
        }
        Termination::TimedOut => {
            result.status = StepStatus::Failed;
            let limit = step
                .timeout
                .map(|t| format!(" after {t:?}"))
                .unwrap_or_default();
            result.error = Some(format!(
                "command timed out{limit}; its processes were killed"
            ));
            Outcome::Failed {
                result,
                retriable: true,
            }
        }
    }
}

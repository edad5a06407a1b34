//! `run` steps: a command in the workspace root, in a pseudo-terminal.

use agentls_exec::{CommandSpec, Confinement, PtyMode, TerminalSize, Termination};
use agentls_store::RunRecord;
use agentls_workflow::Step;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{output, Failure, Outcome, Produced};
use crate::engine::Inner;

pub async fn execute(
    inner: &std::sync::Arc<Inner>,
    record: &RunRecord,
    step: &Step,
    tree: &crate::isolation::WorkingTree,
    command: String,
    env: Vec<(String, String)>,
    cancel: &CancellationToken,
) -> Outcome {
    let spec = command_spec(inner, record, tree, command, env, step.timeout);

    // The program's name only: the command line can carry a secret, the
    // environment certainly does.
    let span = tracing::info_span!(
        target: "agentls::trace",
        "agentls.command",
        otel.name = %format_args!("exec {}", program_name(&spec.command)),
        process.executable.name = %program_name(&spec.command),
        process.exit.code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let (tx, collected) = output::collector(inner, &record.id, step.id.as_str());
    let outcome = agentls_exec::run(spec, tx, cancel.clone())
        .instrument(span.clone())
        .await;
    if let Ok(outcome) = &outcome {
        if let Some(code) = outcome.exit_code() {
            span.record("process.exit.code", code);
        }
        let failure = match outcome.termination {
            Termination::Exited(0) | Termination::Cancelled => None,
            Termination::Exited(_) => Some("exit_code"),
            Termination::Signaled(_) => Some("signal"),
            Termination::TimedOut => Some("timeout"),
        };
        if let Some(failure) = failure {
            span.record("otel.status_code", "error");
            span.record("error.type", failure);
        }
    }
    drop(span);
    // With the output at its cap, each copy alive at once is another 8 MiB
    // of peak memory: the raw text reuses the buffer and goes before the
    // result is stored.
    let (text, truncated) = {
        let buffer = collected.await.unwrap_or_default();
        let truncated = buffer.is_truncated();
        let raw = buffer.into_text();
        (agentls_exec::strip_ansi(raw.as_bytes()), truncated)
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => {
            return Outcome::failed(Failure::Invalid, format!("cannot run the command: {err}"))
        }
    };
    // Said on the step (the transcript, `agentls show`, the editor), not
    // only in the log: the person approving runs must see it.
    let unconfined = match &outcome.confinement {
        Confinement::Unconfined { reason } => Some(format!("ran unconfined: {reason}")),
        Confinement::NotRequested | Confinement::Landlock { .. } => None,
    };
    let produced = Produced {
        output_truncated: truncated,
        exit_code: outcome.exit_code(),
        note: unconfined.clone(),
        ..Produced::output(text)
    };
    let (failure, error) = match outcome.termination {
        Termination::Exited(0) => return Outcome::Done(produced),
        Termination::Cancelled => return Outcome::Cancelled,
        Termination::Exited(code) => (
            Failure::ExitCode,
            format!("command exited with code {code}"),
        ),
        Termination::Signaled(signal) => (
            Failure::Signal,
            format!("command was killed by signal {signal}"),
        ),
        Termination::TimedOut => {
            let limit = step
                .timeout
                .map(|t| format!(" after {t:?}"))
                .unwrap_or_default();
            (
                Failure::Timeout,
                format!("command timed out{limit}; its processes were killed"),
            )
        }
    };
    let error = match unconfined {
        Some(note) => format!("{error} ({note})"),
        None => error,
    };
    Outcome::Failed {
        failure,
        error,
        produced,
    }
}

/// A command of the run as the exec layer takes it: in the run's working
/// tree, provider keys scrubbed (unless passed by name in `env`), the
/// terminal settings, and the run's sandbox.
pub(crate) fn command_spec(
    inner: &std::sync::Arc<Inner>,
    record: &RunRecord,
    tree: &crate::isolation::WorkingTree,
    command: String,
    env: Vec<(String, String)>,
    timeout: Option<std::time::Duration>,
) -> CommandSpec {
    let options = inner.options();
    let mut spec = CommandSpec::new(command, &tree.root);
    // Provider keys never reach children, unless the step passes one by name.
    spec.remove_env = options
        .secret_vars
        .iter()
        .filter(|name| !env.iter().any(|(k, _)| k == *name))
        .cloned()
        .collect();
    spec.env.extend(env);
    spec.timeout = timeout;
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
    spec.sandbox = super::sandbox::policy(
        tree.sandbox.as_ref(),
        record.workflow_source,
        &options.sandbox,
        tree.worktree.as_deref(),
    );

    spec
}

/// The program a command line starts: its first word that is not a
/// variable assignment, without its directory (`cargo` for
/// `RUST_LOG=debug /usr/bin/cargo test`).
fn program_name(command: &str) -> &str {
    let word = command
        .split_whitespace()
        .find(|word| !is_assignment(word))
        .unwrap_or_default();
    word.rsplit('/').next().unwrap_or(word)
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::program_name;

    #[test]
    fn program_name_is_the_first_word_without_assignments_or_directory() {
        assert_eq!(program_name("cargo test --quiet"), "cargo");
        assert_eq!(
            program_name("RUST_LOG=debug KEY=sk-1 /usr/bin/cargo test"),
            "cargo"
        );
        assert_eq!(program_name("  ./scripts/check.sh && make"), "check.sh");
        assert_eq!(program_name(""), "");
    }
}

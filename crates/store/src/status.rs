//! Run and step statuses and the only place that decides which status may
//! follow which. The store refuses every other change, so the database never
//! holds a transition this file does not allow.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Created, not started yet.
    Queued,
    /// A step is executing.
    Running,
    /// Paused at an `approve` step until approved or rejected.
    Waiting,
    /// Paused at a failed step, awaiting retry, skip or override.
    Failed,
    /// Was running when agentls stopped; can be resumed.
    Interrupted,
    /// Stopped by the user. Terminal.
    Cancelled,
    /// Every step finished. Terminal.
    Completed,
}

impl RunStatus {
    /// Every status, in declaration order.
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Failed,
        RunStatus::Interrupted,
        RunStatus::Cancelled,
        RunStatus::Completed,
    ];

    /// Whether a run in `self` may move to `next`.
    ///
    /// `queued -> cancelled` (cancel before the engine picked it up) and
    /// `queued -> interrupted` (agentls stopped between create and start)
    /// exist so that no run can be stuck in `queued` forever.
    pub fn can_become(self, next: RunStatus) -> bool {
        use RunStatus::*;
        matches!(
            (self, next),
            (Queued, Running | Cancelled | Interrupted)
                | (
                    Running,
                    Waiting | Failed | Completed | Cancelled | Interrupted
                )
                | (Failed | Interrupted | Waiting, Running | Cancelled)
                // A rejected approval pauses the run like a failed step.
                | (Waiting, Failed)
        )
    }

    /// Whether nothing can happen to the run any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Cancelled)
    }

    /// The lowercase name used in the database, JSON and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Waiting => "waiting",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Completed => "completed",
        }
    }
}

/// Where a step is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Not started (or reset after a crash interrupted it).
    Pending,
    /// Executing.
    Running,
    /// An `approve` step waiting for the user.
    Waiting,
    /// Finished successfully, or overridden by hand.
    Completed,
    /// Finished unsuccessfully; the run pauses here.
    Failed,
    /// Not run: its `when` was false, or the user skipped it after a failure.
    Skipped,
    /// Stopped because the run was cancelled.
    Cancelled,
}

impl StepStatus {
    /// Every status, in declaration order.
    pub const ALL: [StepStatus; 7] = [
        StepStatus::Pending,
        StepStatus::Running,
        StepStatus::Waiting,
        StepStatus::Completed,
        StepStatus::Failed,
        StepStatus::Skipped,
        StepStatus::Cancelled,
    ];

    /// Whether a step in `self` may move to `next`.
    ///
    /// `running -> pending` is the crash reset: a step that was executing
    /// when agentls stopped runs again on resume. `waiting -> cancelled`
    /// exists so that cancelling a run paused at an approval does not leave
    /// a step that still claims to await one. `waiting -> running` is an
    /// agent step going on after its pending tool call was answered.
    pub fn can_become(self, next: StepStatus) -> bool {
        use StepStatus::*;
        matches!(
            (self, next),
            (Pending, Running | Skipped)
                | (Running, Completed | Failed | Waiting | Cancelled | Pending)
                | (Failed, Running | Skipped | Completed)
                | (Waiting, Running | Completed | Failed | Cancelled)
                // A step that waited on a person inside its drive (an ACP
                // agent's question) when agentls stopped: it runs again.
                | (Waiting, Pending)
        )
    }

    /// Whether nothing can happen to the step any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            StepStatus::Completed | StepStatus::Skipped | StepStatus::Cancelled
        )
    }

    /// The lowercase name used in the database, JSON and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Waiting => "waiting",
            StepStatus::Completed => "completed",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
            StepStatus::Cancelled => "cancelled",
        }
    }
}

/// A name (status, workflow source) that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{text}`")]
pub struct UnknownName {
    /// What kind of name was expected ("run status", ...).
    pub what: &'static str,
    /// The text that was given.
    pub text: String,
}

impl FromStr for RunStatus {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "run status",
                text: s.to_owned(),
            })
    }
}

impl FromStr for StepStatus {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "step status",
                text: s.to_owned(),
            })
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a person can do to a run: the operations the engine applies to a
/// run or one of its steps (docs/architecture.md, "Actions").
///
/// Which of them a run and a step accept follows from their statuses alone
/// ([`RunStatus::actions`], [`StepStatus::actions`]); the engine refuses
/// the others, and the editors offer exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Run the failed step again and go on.
    Retry,
    /// Go on without the failed step.
    Skip,
    /// Give the failed step an output by hand and go on.
    Override,
    /// Approve the waiting step and go on.
    Approve,
    /// Reject the waiting step: it fails and the run pauses as failed.
    Reject,
    /// Go on from where the run stopped (a crash, or a failed step).
    Resume,
    /// Stop the run for good.
    Cancel,
}

impl Action {
    /// Every action, in the order editors list them.
    pub const ALL: [Action; 7] = [
        Action::Approve,
        Action::Reject,
        Action::Retry,
        Action::Skip,
        Action::Override,
        Action::Resume,
        Action::Cancel,
    ];

    /// The lowercase name used in JSON, the CLI and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Skip => "skip",
            Action::Override => "override",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Resume => "resume",
            Action::Cancel => "cancel",
        }
    }

    /// Whether a run in `status` accepts the action.
    pub fn applies_to_run(self, status: RunStatus) -> bool {
        use RunStatus::*;
        match self {
            Action::Cancel => !status.is_terminal(),
            Action::Approve | Action::Reject => status == Waiting,
            Action::Retry | Action::Skip | Action::Override => status == Failed,
            Action::Resume => matches!(status, Failed | Interrupted),
        }
    }

    /// The status a step must be in for the action to name it (`None`: the
    /// action applies to the run as a whole).
    pub fn step_status(self) -> Option<StepStatus> {
        match self {
            Action::Retry | Action::Skip | Action::Override => Some(StepStatus::Failed),
            Action::Approve | Action::Reject => Some(StepStatus::Waiting),
            Action::Resume | Action::Cancel => None,
        }
    }

    /// Whether a step in `step` of a run in `run` accepts the action. A
    /// `waiting` step of a `running` run (an ACP agent's question, asked
    /// inside the drive) accepts approve and reject too.
    pub fn applies_to_step(self, run: RunStatus, step: StepStatus) -> bool {
        self.step_status() == Some(step)
            && (self.applies_to_run(run) || (run == RunStatus::Running && self.answers()))
    }

    /// Approve or reject: what answers a waiting step.
    fn answers(self) -> bool {
        matches!(self, Action::Approve | Action::Reject)
    }

    /// The run statuses the action applies in, for messages ("failed or
    /// interrupted").
    pub fn expected(self) -> String {
        let names: Vec<&str> = RunStatus::ALL
            .into_iter()
            .filter(|s| self.applies_to_run(*s))
            .map(RunStatus::as_str)
            .collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => "nothing".to_owned(),
        }
    }
}

impl RunStatus {
    /// The actions a run in this status accepts.
    pub fn actions(self) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| a.applies_to_run(self))
            .collect()
    }

    /// The actions a run in this status with steps in `steps` accepts: a
    /// `running` run with a `waiting` step (an ACP agent's question, asked
    /// inside the drive) accepts approve and reject too.
    pub fn actions_with(self, steps: impl IntoIterator<Item = StepStatus>) -> Vec<Action> {
        let asks =
            self == RunStatus::Running && steps.into_iter().any(|s| s == StepStatus::Waiting);
        Action::ALL
            .into_iter()
            .filter(|a| a.applies_to_run(self) || (asks && a.answers()))
            .collect()
    }
}

impl StepStatus {
    /// The actions that may name a step in this status, in a run in `run`.
    pub fn actions(self, run: RunStatus) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| a.applies_to_step(run, self))
            .collect()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification, written out pair by pair; the tests compare every
    /// one of the 49 pairs of each enum against it.
    const RUN_ALLOWED: &[(RunStatus, RunStatus)] = {
        use RunStatus::*;
        &[
            (Queued, Running),
            (Queued, Cancelled),
            (Queued, Interrupted),
            (Running, Waiting),
            (Running, Failed),
            (Running, Completed),
            (Running, Cancelled),
            (Running, Interrupted),
            (Waiting, Failed),
            (Failed, Running),
            (Interrupted, Running),
            (Waiting, Running),
            (Failed, Cancelled),
            (Waiting, Cancelled),
            (Interrupted, Cancelled),
        ]
    };

    const STEP_ALLOWED: &[(StepStatus, StepStatus)] = {
        use StepStatus::*;
        &[
            (Pending, Running),
            (Pending, Skipped),
            (Running, Completed),
            (Running, Failed),
            (Running, Waiting),
            (Running, Cancelled),
            (Running, Pending),
            (Failed, Running),
            (Failed, Skipped),
            (Failed, Completed),
            (Waiting, Running),
            (Waiting, Completed),
            (Waiting, Failed),
            (Waiting, Cancelled),
            (Waiting, Pending),
        ]
    };

    #[test]
    fn run_transitions_match_the_specification_exactly() {
        for from in RunStatus::ALL {
            for to in RunStatus::ALL {
                let expected = RUN_ALLOWED.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "run {from} -> {to}");
            }
        }
    }

    #[test]
    fn step_transitions_match_the_specification_exactly() {
        for from in StepStatus::ALL {
            for to in StepStatus::ALL {
                let expected = STEP_ALLOWED.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "step {from} -> {to}");
            }
        }
    }

    #[test]
    fn terminal_statuses_have_no_way_out() {
        for from in RunStatus::ALL {
            let has_exit = RunStatus::ALL.into_iter().any(|to| from.can_become(to));
            assert_eq!(from.is_terminal(), !has_exit, "run {from}");
        }
        for from in StepStatus::ALL {
            let has_exit = StepStatus::ALL.into_iter().any(|to| from.can_become(to));
            assert_eq!(from.is_terminal(), !has_exit, "step {from}");
        }
        assert!(RunStatus::Completed.is_terminal() && RunStatus::Cancelled.is_terminal());
    }

    #[test]
    fn statuses_serialise_as_lowercase_strings_and_parse_back() {
        for status in RunStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(status.as_str(), status.as_str().to_lowercase());
            assert_eq!(status.as_str().parse::<RunStatus>(), Ok(status));
        }
        for status in StepStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(status.as_str(), status.as_str().to_lowercase());
            assert_eq!(status.as_str().parse::<StepStatus>(), Ok(status));
        }
        assert_eq!(
            "Running".parse::<RunStatus>(),
            Err(UnknownName {
                what: "run status",
                text: "Running".into()
            })
        );
    }

    #[test]
    fn actions_follow_from_the_statuses() {
        use Action::*;
        assert_eq!(RunStatus::Running.actions(), [Cancel]);
        assert_eq!(RunStatus::Queued.actions(), [Cancel]);
        assert_eq!(RunStatus::Waiting.actions(), [Approve, Reject, Cancel]);
        assert_eq!(
            RunStatus::Failed.actions(),
            [Retry, Skip, Override, Resume, Cancel]
        );
        assert_eq!(RunStatus::Interrupted.actions(), [Resume, Cancel]);
        assert!(RunStatus::Completed.actions().is_empty());
        assert!(RunStatus::Cancelled.actions().is_empty());
        assert_eq!(
            StepStatus::Failed.actions(RunStatus::Failed),
            [Retry, Skip, Override]
        );
        assert_eq!(
            StepStatus::Waiting.actions(RunStatus::Waiting),
            [Approve, Reject]
        );
        // An ACP agent's question: the run goes on while its step waits.
        assert_eq!(
            StepStatus::Waiting.actions(RunStatus::Running),
            [Approve, Reject]
        );
        assert_eq!(
            RunStatus::Running.actions_with([StepStatus::Completed, StepStatus::Waiting]),
            [Approve, Reject, Cancel]
        );
        assert_eq!(
            RunStatus::Running.actions_with([StepStatus::Running]),
            [Cancel]
        );
        assert_eq!(
            RunStatus::Failed.actions_with([StepStatus::Failed]),
            RunStatus::Failed.actions()
        );
        assert!(StepStatus::Failed.actions(RunStatus::Cancelled).is_empty());
        assert!(StepStatus::Completed.actions(RunStatus::Failed).is_empty());
        assert_eq!(Resume.expected(), "failed or interrupted");
        assert_eq!(
            Cancel.expected(),
            "queued, running, waiting, failed or interrupted"
        );
        // Every action a run accepts moves it somewhere the store allows.
        for status in RunStatus::ALL {
            for action in status.actions() {
                let next = match action {
                    Cancel => RunStatus::Cancelled,
                    Reject => RunStatus::Failed,
                    _ => RunStatus::Running,
                };
                assert!(status.can_become(next), "{status} --{action}--> {next}");
            }
        }
    }
}

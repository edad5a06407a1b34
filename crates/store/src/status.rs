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
    /// a step that still claims to await one.
    pub fn can_become(self, next: StepStatus) -> bool {
        use StepStatus::*;
        matches!(
            (self, next),
            (Pending, Running | Skipped)
                | (Running, Completed | Failed | Waiting | Cancelled | Pending)
                | (Failed, Running | Skipped | Completed)
                | (Waiting, Completed | Failed | Cancelled)
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
            (Waiting, Completed),
            (Waiting, Failed),
            (Waiting, Cancelled),
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
}

//! What the editor surface knows about a run it is streaming: the steps with
//! their titles and statuses, the progress it shows for it, and how a run
//! is written as JSON (`agent/state`, command results).
//!
//! Built from the store when the run is first seen, then kept current from
//! engine events, so a state message never needs a database read.

use std::collections::HashMap;
use std::path::Path;

use agentls_engine::{RunId, RunRecord, RunStatus, StepStatus};
use agentls_exec::Utf8Decoder;
use tower_lsp_server::ls_types::ProgressToken;

use crate::lsp::protocol::{RunEvent, RunState, RunSummary, StepEvent, StepState};
use crate::lsp::sink::Outbox;

/// The work-done progress shown for a run right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgressSlot {
    /// No progress is shown.
    Idle,
    /// `window/workDoneProgress/create` was sent with this token; the begin
    /// waits for the editor's answer.
    Creating(ProgressToken),
    /// Begun with this token; an end is owed.
    Open(ProgressToken),
}

#[derive(Clone, Debug)]
pub struct StepView {
    pub id: String,
    pub title: Option<String>,
    pub kind: String,
    pub status: StepStatus,
    pub attempt: u32,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    /// What the running step is doing now (see `Event::Activity`).
    pub activity: Option<String>,
}

/// A run as the editor surface streams it.
pub struct RunView {
    pub id: RunId,
    pub workflow: String,
    pub title: Option<String>,
    pub status: RunStatus,
    pub error: Option<String>,
    pub steps: Vec<StepView>,
    /// The outbox this run's messages go through (fixed for its lifetime,
    /// so its events keep their order).
    pub outbox: Outbox,
    pub progress: ProgressSlot,
    /// A token the editor gave with the request that (re)started the run,
    /// for the next progress.
    pub next_token: Option<ProgressToken>,
    /// Counts created progress tokens, so each is new.
    pub generation: u32,
    carries: HashMap<String, Utf8Decoder>,
}

impl RunView {
    pub fn new(record: &RunRecord, outbox: Outbox) -> Self {
        let titles = Titles::of(record);
        Self {
            id: record.id.clone(),
            workflow: record.workflow_name.clone(),
            title: titles.workflow,
            status: record.status,
            error: record.error.clone(),
            steps: record
                .steps
                .iter()
                .map(|s| StepView {
                    id: s.step_id.clone(),
                    title: titles.steps.get(s.idx).cloned().flatten(),
                    kind: s.kind.clone(),
                    status: s.status,
                    attempt: s.attempt,
                    exit_code: s.exit_code,
                    error: s.error.clone(),
                    activity: None,
                })
                .collect(),
            outbox,
            progress: ProgressSlot::Idle,
            next_token: None,
            generation: 0,
            carries: HashMap::new(),
        }
    }

    /// Text of a chunk of `step`'s output, joined with what the previous
    /// chunk left undecoded.
    pub fn decode(&mut self, step: &str, bytes: &[u8]) -> String {
        match self.carries.get_mut(step) {
            Some(carry) => carry.decode(bytes),
            None => {
                let mut carry = Utf8Decoder::default();
                let text = carry.decode(bytes);
                self.carries.insert(step.to_owned(), carry);
                text
            }
        }
    }

    /// What each step's decoder still holds (the run stopped mid-character).
    pub fn finish_output(&mut self) -> Vec<(String, String)> {
        self.carries
            .drain()
            .map(|(step, mut carry)| (step, carry.finish()))
            .filter(|(_, text)| !text.is_empty())
            .collect()
    }

    /// The progress title: the workflow's title, else its name.
    pub fn progress_title(&self) -> String {
        format!(
            "agentls: {}",
            self.title.clone().unwrap_or_else(|| self.workflow.clone())
        )
    }

    /// `step i/n: title` for the step in hand, and the share of steps done.
    pub fn progress_message(&self) -> (String, u32) {
        let total = self.steps.len().max(1);
        let done = self
            .steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Completed | StepStatus::Skipped))
            .count();
        let percentage = u32::try_from(done * 100 / total).unwrap_or(100);
        // The step in hand; once all are done, the last one.
        let current = self
            .steps
            .iter()
            .position(|s| matches!(s.status, StepStatus::Running | StepStatus::Waiting))
            .or_else(|| {
                self.steps
                    .iter()
                    .position(|s| s.status == StepStatus::Pending)
            })
            .unwrap_or(self.steps.len().saturating_sub(1));
        let message = match self.steps.get(current) {
            Some(step) => {
                let mut message = format!(
                    "step {}/{}: {}",
                    current + 1,
                    self.steps.len(),
                    step.title.as_deref().unwrap_or(&step.id)
                );
                if let Some(activity) = &step.activity {
                    message = format!("{message} — {activity}");
                }
                message
            }
            None => "starting".to_owned(),
        };
        (message, percentage)
    }

    /// `agent/state` params.
    pub fn state(&self) -> RunEvent {
        RunEvent {
            run_id: self.id.to_string(),
            workflow: self.workflow.clone(),
            title: self.title.clone(),
            status: self.status,
            error: self.error.clone(),
            actions: self
                .status
                .actions_with(self.steps.iter().map(|s| s.status)),
            steps: self
                .steps
                .iter()
                .map(|s| StepEvent {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    kind: s.kind.clone(),
                    status: s.status,
                    actions: s.status.actions(self.status),
                    attempt: s.attempt,
                    exit_code: s.exit_code,
                    error: s.error.clone(),
                })
                .collect(),
        }
    }

    /// Whether the run produced text worth reading (a command's or a
    /// model's output), as opposed to only edits and approvals.
    pub fn has_text_output(&self) -> bool {
        self.steps.iter().any(|s| {
            matches!(s.kind.as_str(), "run" | "prompt")
                && matches!(s.status, StepStatus::Completed | StepStatus::Failed)
        })
    }
}

/// The titles a run's workflow snapshot gives its steps.
struct Titles {
    workflow: Option<String>,
    steps: Vec<Option<String>>,
}

impl Titles {
    fn of(record: &RunRecord) -> Self {
        let source = agentls_workflow::Source::new(
            record.workflow_source.into(),
            record.workflow_path.clone(),
            record.workflow_content.clone(),
        );
        match agentls_workflow::parse(&record.workflow_name, source).workflow {
            Some(workflow) => Self {
                workflow: workflow.title,
                steps: workflow.steps.into_iter().map(|s| s.title).collect(),
            },
            None => Self {
                workflow: None,
                steps: Vec::new(),
            },
        }
    }
}

/// A run as command results show it: the stored record with titles, the
/// transcript, and whether a task is driving it now.
pub fn run_state(
    record: &RunRecord,
    active: bool,
    transcript: &Path,
    workspace: &Path,
) -> RunState {
    let titles = Titles::of(record);
    RunState {
        run_id: record.id.to_string(),
        workflow: record.workflow_name.clone(),
        title: titles.workflow,
        source: record.workflow_source,
        status: record.status,
        error: record.error.clone(),
        actions: record
            .status
            .actions_with(record.steps.iter().map(|s| s.status)),
        active,
        workspace: workspace.to_path_buf(),
        transcript: transcript.to_path_buf(),
        created_at: record.created_at,
        updated_at: record.updated_at,
        finished_at: record.finished_at,
        steps: record
            .steps
            .iter()
            .map(|s| StepState {
                id: s.step_id.clone(),
                title: titles.steps.get(s.idx).cloned().flatten(),
                kind: s.kind.clone(),
                status: s.status,
                actions: s.status.actions(record.status),
                attempt: s.attempt,
                exit_code: s.exit_code,
                error: s.error.clone(),
                output_bytes: s.output_len,
                output_truncated: s.output_truncated,
                started_at: s.started_at,
                finished_at: s.finished_at,
                usage: s.usage.clone(),
            })
            .collect(),
        isolation: None,
    }
}

/// One line of run history.
pub fn run_summary(summary: &agentls_engine::RunSummary, workspace: &Path) -> RunSummary {
    RunSummary {
        run_id: summary.id.to_string(),
        workflow: summary.workflow_name.clone(),
        source: summary.workflow_source,
        status: summary.status,
        error: summary.error.clone(),
        actions: summary.status.actions(),
        workspace: workspace.to_path_buf(),
        created_at: summary.created_at,
        updated_at: summary.updated_at,
        finished_at: summary.finished_at,
        steps_total: summary.steps_total,
        steps_done: summary.steps_done,
    }
}

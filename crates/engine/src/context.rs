//! The template context of a run: its inputs, params, workspace facts and
//! what earlier steps produced (read back from the store on resume).

use std::collections::BTreeMap;

use agentls_store::{RunRecord, StepRecord, StepStatus};
use agentls_workflow::{Context, FileContext, StepState, WorkspaceContext};

use crate::engine::Inner;
use crate::inputs::Inputs;

pub fn inputs(record: &RunRecord) -> Inputs {
    serde_json::from_value(record.inputs.clone()).unwrap_or_default()
}

/// The context before any step of `record` ran, plus every step that has
/// an outcome already (completed, skipped, failed).
pub fn for_run(inner: &Inner, record: &RunRecord) -> Context {
    let inputs = inputs(record);
    let params: BTreeMap<String, String> =
        serde_json::from_value(record.params.clone()).unwrap_or_default();
    let root = &inner.root;
    let file = inputs.file.as_ref().map(|f| FileContext {
        path: f
            .path
            .strip_prefix(root)
            .unwrap_or(&f.path)
            .display()
            .to_string(),
        text: f.text.clone(),
        language: f.language.clone(),
    });
    let mut ctx = Context {
        selection: inputs.selection.as_ref().map(|s| s.text.clone()),
        file,
        diagnostics: inputs.diagnostics.clone(),
        params,
        workspace: WorkspaceContext {
            root: root.display().to_string(),
            name: root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            test_command: agentls_workflow::detect_test_command(root),
        },
        steps: BTreeMap::new(),
    };
    for step in &record.steps {
        if matches!(
            step.status,
            StepStatus::Completed | StepStatus::Skipped | StepStatus::Failed
        ) {
            let output = inner
                .store
                .step_output_at(&record.id, step.idx)
                .unwrap_or_default();
            ctx.steps.insert(step.step_id.clone(), state(step, output));
        }
    }
    ctx
}

/// A step's state as templates see it.
pub fn state(step: &StepRecord, output: String) -> StepState {
    StepState {
        output,
        outputs: step
            .outputs
            .as_ref()
            .and_then(|o| serde_json::from_value(o.clone()).ok())
            .unwrap_or_default(),
        exit_code: step.exit_code,
        status: step.status.as_str().to_string(),
    }
}

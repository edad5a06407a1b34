//! `edit` steps: hand the rendered edit to the editor (the disk, headless).

use agentls_store::RunRecord;
use agentls_workflow::EditSpec;

use super::{Failure, Outcome, Produced};
use crate::context;
use crate::editor::EditRequest;
use crate::engine::Inner;

pub async fn execute(inner: &std::sync::Arc<Inner>, record: &RunRecord, spec: EditSpec) -> Outcome {
    let request = match spec {
        EditSpec::Selection { text } => {
            let inputs = context::inputs(record);
            let (Some(file), Some(selection)) = (inputs.file, inputs.selection) else {
                return Outcome::failed(
                    Failure::Invalid,
                    "`edit.selection` needs a run started on a selection (in the editor, or \
                     `agentls run --file PATH --range L:C-L:C`)",
                );
            };
            EditRequest::Selection {
                file,
                selection,
                text,
            }
        }
        EditSpec::File { path, text } => EditRequest::File { path, text },
        EditSpec::Patch { patch } => EditRequest::Patch { patch },
    };
    match inner.editor().apply(request).await {
        Ok(summary) => Outcome::Done(Produced::output(summary)),
        Err(error) => Outcome::failed(Failure::Invalid, error),
    }
}

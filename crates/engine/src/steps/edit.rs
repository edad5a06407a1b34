//! `edit` steps: hand the rendered edit to the editor (the disk, headless).

use agentls_store::RunRecord;
use agentls_workflow::EditSpec;

use super::{Failure, Outcome, Produced};
use crate::context;
use crate::editor::EditRequest;
use crate::engine::Inner;
use crate::isolation::WorkingTree;

pub async fn execute(
    inner: &std::sync::Arc<Inner>,
    record: &RunRecord,
    tree: &WorkingTree,
    spec: EditSpec,
) -> Outcome {
    let request = match spec {
        EditSpec::Selection { text } => {
            let inputs = context::inputs(record);
            let (Some(mut file), Some(selection)) = (inputs.file, inputs.selection) else {
                return Outcome::failed(
                    Failure::Invalid,
                    "`edit.selection` needs a run started on a selection (in the editor, or \
                     `agentls run --file PATH --range L:C-L:C`)",
                );
            };
            // A worktree run edits its own copy of the file.
            file.path = tree.map(inner, &file.path);
            EditRequest::Selection {
                file,
                selection,
                text,
            }
        }
        EditSpec::File { path, text } => EditRequest::File { path, text },
        EditSpec::Patch { patch } => EditRequest::Patch { patch },
    };
    match tree.editor(inner).apply(request).await {
        Ok(summary) => Outcome::Done(Produced::output(summary)),
        Err(error) => Outcome::failed(Failure::Invalid, error),
    }
}

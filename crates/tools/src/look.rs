//! [`Tools::look`]: the read-only tools end to end, for a caller that has an
//! [`Invocation`] and wants the model's result text and the live view's
//! outcome in one call. The changing tools are not here: they need the
//! permission policy, the editor and the exec layer, which are the engine's.

use crate::{Invocation, Outcome, ToolError, Tools};

/// A finished call: the result text for the model and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The tool result's content (capped, saying what was cut).
    pub content: String,
    /// For [`crate::summary`].
    pub outcome: Outcome,
}

impl Tools {
    /// Runs `invocation` when it is `read_file`, `list_files` or `search`;
    /// `None` for the others. `open_text` is the editor's text of a
    /// `read_file`'s file when it is open there (find it with
    /// [`Tools::locate`]); it is ignored for the other tools.
    pub fn look(
        &self,
        invocation: &Invocation,
        open_text: Option<&str>,
    ) -> Option<Result<Done, ToolError>> {
        let done = match invocation {
            Invocation::ReadFile {
                path,
                start_line,
                end_line,
            } => self
                .read_file(path, *start_line, *end_line, open_text)
                .map(|content| Done {
                    content,
                    outcome: Outcome::Read,
                }),
            Invocation::ListFiles { path, glob } => self
                .list_files(path.as_deref(), glob.as_deref())
                .map(|found| Done {
                    outcome: Outcome::Listed { files: found.count },
                    content: found.text,
                }),
            Invocation::Search {
                pattern,
                path,
                glob,
            } => self
                .search(pattern, path.as_deref(), glob.as_deref())
                .map(|found| Done {
                    outcome: Outcome::Searched {
                        matches: found.count,
                    },
                    content: found.text,
                }),
            Invocation::EditFile { .. }
            | Invocation::WriteFile { .. }
            | Invocation::RunCommand { .. } => return None,
        };
        Some(done)
    }
}

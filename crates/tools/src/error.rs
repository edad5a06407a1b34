//! [`ToolError`]: why a tool call did not do what was asked. Its `Display` is
//! the tool result the model sees, so every message names the path or the
//! argument and says what to do instead; [`ToolError::short`] is the few
//! words of the live view (`read ../x: refused (outside the workspace)`).

use agentls_edit::EditError;

/// Why a tool call failed. These are results for the model to act on, never
/// failures of the step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The arguments do not fit the tool's schema.
    #[error("{0}")]
    Arguments(String),

    /// The call names no tool, or one the step does not enable; the
    /// message lists the ones it may call.
    #[error("{0}")]
    NotAvailable(String),

    /// The path may not be touched: outside the workspace, inside `.git`,
    /// through a symlink that leads out, empty.
    #[error("path {path} is refused: {why}")]
    Refused { path: String, why: Refusal },

    /// Nothing exists at the path.
    #[error("{path} does not exist (paths are relative to the working tree; list_files shows what is there)")]
    NotFound { path: String },

    /// The path is a directory, a FIFO, ... where a file was expected.
    #[error("{path} is not a regular file ({kind}){hint}", hint = if *kind == "a directory" { "; list_files lists a directory" } else { "" })]
    NotAFile { path: String, kind: &'static str },

    /// A file path where a directory was expected.
    #[error("{path} is a file, not a directory; name a directory (or leave path out for the whole working tree)")]
    NotADirectory { path: String },

    /// The file is not text (NUL bytes, or not UTF-8).
    #[error("{path} is a binary file (not UTF-8 text); the tools only read and edit text")]
    Binary { path: String },

    /// The file is larger than agentls reads.
    #[error("{path} is larger than the {cap} limit for files the tools read")]
    TooLarge { path: String, cap: String },

    /// `start_line`/`end_line` that do not fit the file.
    #[error("{path}: {reason}")]
    BadRange { path: String, reason: String },

    /// The `pattern` of `search` is not a regular expression.
    #[error("invalid regex {pattern:?}: {message}")]
    InvalidRegex { pattern: String, message: String },

    /// A `glob` argument that is not a glob.
    #[error("invalid glob {glob:?}: {message}")]
    InvalidGlob { glob: String, message: String },

    /// `old_text` of `edit_file` is not in the file.
    #[error("old_text not found in {path}{hint}; old_text must match the file exactly, including indentation and line breaks (read_file shows the current text)", hint = hint.as_deref().map(|h| format!(" (the closest line is {h})")).unwrap_or_default())]
    OldTextNotFound { path: String, hint: Option<String> },

    /// `old_text` of `edit_file` is in the file more than once.
    #[error("old_text occurs {count} times in {path}; include more of the surrounding lines so that it occurs exactly once")]
    OldTextAmbiguous { path: String, count: usize },

    /// `old_text` of `edit_file` is empty.
    #[error("old_text is empty; give the exact text to replace (write_file writes a whole file)")]
    EmptyOldText,

    /// The file system said no.
    #[error("cannot {op} {path}: {message}")]
    Io {
        op: &'static str,
        path: String,
        message: String,
    },
}

/// Why a path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("it is outside the workspace; the tools only reach files inside the working tree, with paths relative to it")]
    Outside,
    #[error("it is inside a .git directory, which the tools never touch")]
    InsideGit,
    #[error("it goes through the symbolic link {link}, which {reason}")]
    Symlink { link: String, reason: &'static str },
    #[error("the path is empty; name a file inside the working tree")]
    Empty,
    #[error("the path contains a NUL byte")]
    NulByte,
    #[error("it ends with `/`; name a file, not a directory")]
    TrailingSlash,
}

impl Refusal {
    /// The few words of the live view: "outside the workspace".
    pub fn short(&self) -> &'static str {
        match self {
            Refusal::Outside => "outside the workspace",
            Refusal::InsideGit => "inside .git",
            Refusal::Symlink { reason, .. } if reason.contains("outside") => {
                "symlink leads outside the workspace"
            }
            Refusal::Symlink { reason, .. } if reason.contains(".git") => "symlink leads into .git",
            Refusal::Symlink { .. } => "dangling symlink",
            Refusal::Empty => "empty path",
            Refusal::NulByte => "NUL byte in path",
            Refusal::TrailingSlash => "not a file name",
        }
    }
}

impl ToolError {
    /// The few words the live view shows after the call: "refused (outside
    /// the workspace)", "not found", "old_text occurs 2 times".
    pub fn short(&self) -> String {
        match self {
            ToolError::Arguments(_) => "invalid arguments".to_owned(),
            ToolError::NotAvailable(_) => "no such tool here".to_owned(),
            ToolError::Refused { why, .. } => format!("refused ({})", why.short()),
            ToolError::NotFound { .. } => "not found".to_owned(),
            ToolError::NotAFile { kind, .. } => format!("not a file ({kind})"),
            ToolError::NotADirectory { .. } => "not a directory".to_owned(),
            ToolError::Binary { .. } => "binary file".to_owned(),
            ToolError::TooLarge { cap, .. } => format!("larger than {cap}"),
            ToolError::BadRange { .. } => "bad line range".to_owned(),
            ToolError::InvalidRegex { .. } => "invalid regex".to_owned(),
            ToolError::InvalidGlob { .. } => "invalid glob".to_owned(),
            ToolError::OldTextNotFound { .. } => "old_text not found".to_owned(),
            ToolError::OldTextAmbiguous { count, .. } => format!("old_text occurs {count} times"),
            ToolError::EmptyOldText => "empty old_text".to_owned(),
            ToolError::Io { message, .. } => message.clone(),
        }
    }

    /// The guard's or the reader's verdict on `path` (as the model wrote it),
    /// in the tools' words.
    pub(crate) fn from_edit(path: &str, err: EditError) -> ToolError {
        let refused = |why| ToolError::Refused {
            path: path.to_owned(),
            why,
        };
        match err {
            EditError::OutsideWorkspace { .. } => refused(Refusal::Outside),
            EditError::InsideGit { .. } => refused(Refusal::InsideGit),
            EditError::Symlink { link, reason, .. } => refused(Refusal::Symlink {
                link: link.display().to_string(),
                reason,
            }),
            EditError::EmptyPath => refused(Refusal::Empty),
            EditError::NulByte { .. } => refused(Refusal::NulByte),
            EditError::TrailingSlash { .. } => refused(Refusal::TrailingSlash),
            EditError::NotFound { path } => ToolError::NotFound {
                path: path.display().to_string(),
            },
            EditError::NotAFile { path, kind } => ToolError::NotAFile {
                path: path.display().to_string(),
                kind,
            },
            EditError::TooLarge { path, cap } => ToolError::TooLarge {
                path: path.display().to_string(),
                cap,
            },
            EditError::NotText { path } => ToolError::Binary {
                path: path.display().to_string(),
            },
            EditError::Io { op, path, source } => ToolError::Io {
                op,
                path: path.display().to_string(),
                message: source.to_string(),
            },
            other => ToolError::Io {
                op: "use",
                path: path.to_owned(),
                message: other.to_string(),
            },
        }
    }
}

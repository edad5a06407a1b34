//! [`ToolName`]: the built-in tools by name, as models and workflows spell
//! them (docs/workflows.md, "Agent steps").

use std::fmt;
use std::str::FromStr;

/// One of the built-in tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ToolName {
    ReadFile,
    ListFiles,
    Search,
    EditFile,
    WriteFile,
    RunCommand,
}

impl ToolName {
    /// Every tool, in the order specs are offered to a model.
    pub const ALL: [ToolName; 6] = [
        ToolName::ReadFile,
        ToolName::ListFiles,
        ToolName::Search,
        ToolName::EditFile,
        ToolName::WriteFile,
        ToolName::RunCommand,
    ];

    /// The tools of an agent step whose workflow names none: the read-only ones.
    pub const DEFAULT: [ToolName; 3] = [ToolName::ReadFile, ToolName::ListFiles, ToolName::Search];

    /// The name models call and workflows list: `read_file`, `run_command`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            ToolName::ReadFile => "read_file",
            ToolName::ListFiles => "list_files",
            ToolName::Search => "search",
            ToolName::EditFile => "edit_file",
            ToolName::WriteFile => "write_file",
            ToolName::RunCommand => "run_command",
        }
    }

    /// Whether the tool only looks: it never changes a file or runs anything,
    /// so no permission is ever asked for it.
    pub const fn is_read_only(self) -> bool {
        matches!(
            self,
            ToolName::ReadFile | ToolName::ListFiles | ToolName::Search
        )
    }
}

impl fmt::Display for ToolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of the built-in tools; the message lists them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown tool `{0}`; the tools are {list}", list = names(&ToolName::ALL))]
pub struct UnknownTool(pub String);

impl FromStr for ToolName {
    type Err = UnknownTool;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ToolName::ALL
            .into_iter()
            .find(|tool| tool.as_str() == name)
            .ok_or_else(|| UnknownTool(name.to_owned()))
    }
}

/// "read_file, list_files, search".
pub(crate) fn names(tools: &[ToolName]) -> String {
    tools
        .iter()
        .map(|tool| tool.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

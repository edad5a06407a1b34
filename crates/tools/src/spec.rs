//! [`spec`]: how each tool describes itself to a model. The names and
//! properties are an interface (docs/architecture.md, "crates/tools"); the
//! descriptions are written for a model: short, exact, and honest about caps.

use agentls_chat::ToolSpec;
use serde_json::{json, Map, Value};

use crate::limits::{
    COMMAND_OUTPUT_CAP, LINE_CHARS_CAP, LIST_CAP, READ_BYTES_CAP, READ_LINES_CAP, SEARCH_CAP,
    SEARCH_LINE_CHARS_CAP,
};
use crate::ToolName;

/// The spec of one tool: its name, a description for the model and its
/// parameters as a JSON Schema object (`type: object`, `properties`,
/// `required`, `additionalProperties: false`).
pub fn spec(tool: ToolName) -> ToolSpec {
    let (description, properties, required): (String, Value, &[&str]) = match tool {
        ToolName::ReadFile => (
            format!(
                "Read a text file of the working tree. `path` is relative to the working tree. \
                 Lines come numbered like `cat -n` (the number, a tab, the line); the numbers are \
                 not part of the file. At most {READ_LINES_CAP} lines or {READ_BYTES_KIB} KiB are \
                 shown at once, and lines longer than {LINE_CHARS_CAP} characters are cut; the \
                 result says where it stopped, and `start_line`/`end_line` (1-based, inclusive) \
                 read any range. Shows the editor's unsaved text when the file is open there.",
                READ_BYTES_KIB = READ_BYTES_CAP / 1024
            ),
            json!({
                "path": string("File path relative to the working tree, e.g. src/lib.rs"),
                "start_line": integer("First line to show (1-based). Default 1."),
                "end_line": integer("Last line to show (inclusive). Default: as many as fit."),
            }),
            &["path"],
        ),
        ToolName::ListFiles => (
            format!(
                "List the files under a directory of the working tree, recursively, sorted, one \
                 path (relative to the working tree) per line. Honours .gitignore and .ignore; \
                 never lists .git. At most {LIST_CAP} paths are shown; the result says how many \
                 more there are (narrow with `path` or `glob`)."
            ),
            json!({
                "path": string("Directory relative to the working tree. Default: the whole working tree."),
                "glob": string("Only files matching this glob, e.g. *.rs (any depth) or src/**/*.ts (relative to the working tree)."),
            }),
            &[],
        ),
        ToolName::Search => (
            format!(
                "Search file contents by regular expression (Rust regex syntax, one line at a \
                 time), honouring .gitignore and skipping binary files. Each match is one line \
                 `path:line:text`, paths relative to the working tree. At most {SEARCH_CAP} \
                 matching lines are shown and each is cut at {SEARCH_LINE_CHARS_CAP} characters; the \
                 result says when more were found (narrow with `path` or `glob`)."
            ),
            json!({
                "pattern": string("Regular expression, e.g. fn\\s+main or TODO"),
                "path": string("File or directory to search, relative to the working tree. Default: the whole working tree."),
                "glob": string("Only files matching this glob, e.g. *.rs (any depth) or src/**/*.ts (relative to the working tree)."),
            }),
            &["pattern"],
        ),
        ToolName::EditFile => (
            "Replace one exact piece of text in a file of the working tree. `old_text` must \
             occur exactly once in the file, byte for byte (indentation and line breaks \
             included; without the line numbers read_file shows): include enough surrounding \
             lines to make it unique. The result is the diff of the edit. To create a file or \
             replace all of it, use write_file."
                .to_owned(),
            json!({
                "path": string("File path relative to the working tree"),
                "old_text": string("The exact text to replace; must occur exactly once"),
                "new_text": string("The text to put in its place"),
            }),
            &["path", "old_text", "new_text"],
        ),
        ToolName::WriteFile => (
            "Write a whole file of the working tree: create it (and missing directories) or \
             replace all of its content. `path` is relative to the working tree. Prefer \
             edit_file for changing part of an existing file."
                .to_owned(),
            json!({
                "path": string("File path relative to the working tree"),
                "content": string("The complete new content of the file"),
            }),
            &["path", "content"],
        ),
        ToolName::RunCommand => (
            format!(
                "Run a shell command (sh -c) in the working tree and get its exit status and \
                 output (stdout and stderr together). The output is capped at {COMMAND_KIB} KiB: \
                 the start and the end are kept and the result says how much was cut. The command \
                 may need the user's approval; a refusal comes back as the result.",
                COMMAND_KIB = COMMAND_OUTPUT_CAP / 1024
            ),
            json!({
                "command": string("The command line, e.g. cargo test -p foo"),
                "timeout_s": {
                    "type": "number",
                    "description": "Seconds before the command is killed. Default: the step's own limit."
                },
            }),
            &["command"],
        ),
    };
    ToolSpec {
        name: tool.as_str().to_owned(),
        description,
        parameters: object(properties, required),
    }
}

/// The specs of `tools`, in the order given.
pub fn specs(tools: &[ToolName]) -> Vec<ToolSpec> {
    tools.iter().map(|&tool| spec(tool)).collect()
}

fn object(properties: Value, required: &[&str]) -> Value {
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), properties);
    schema.insert("required".into(), json!(required));
    schema.insert("additionalProperties".into(), json!(false));
    Value::Object(schema)
}

fn string(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn integer(description: &str) -> Value {
    json!({"type": "integer", "description": description, "minimum": 1})
}

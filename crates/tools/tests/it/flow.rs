//! A model's call from JSON to the tool result and the live view's line, as
//! the engine will drive it for the read-only tools.

use agentls_chat::{ToolCall, ToolResult};
use agentls_tools::{parse_enabled, summary, Outcome, ToolName};
use serde_json::{json, Value};

use crate::Tree;

/// What the engine does with one call: the result the model gets and the
/// summary the live view shows.
fn handle(tree: &Tree, name: &str, input: Value) -> (ToolResult, String) {
    let call = ToolCall {
        id: "toolu_1".into(),
        name: name.into(),
        input,
        signature: None,
    };
    let invocation = match parse_enabled(&call, &ToolName::DEFAULT) {
        Ok(invocation) => invocation,
        Err(err) => return (ToolResult::error(&call, err.to_string()), err.short()),
    };
    match tree
        .tools
        .look(&invocation, None)
        .expect("a read-only tool")
    {
        Ok(done) => (
            ToolResult::ok(&call, done.content),
            summary(&invocation, &done.outcome),
        ),
        Err(err) => (
            ToolResult::error(&call, err.to_string()),
            summary(&invocation, &Outcome::Failed(err.short())),
        ),
    }
}

#[test]
fn read_only_calls_go_from_json_to_a_result_and_a_summary() {
    let tree = Tree::default().git_init().with(&[
        (
            "src/lib.rs",
            "pub fn add(a: u8, b: u8) -> u8 {\n    a + b\n}\n",
        ),
        ("src/main.rs", "fn main() {}\n"),
    ]);

    let (result, line) = handle(&tree, "list_files", json!({"path": "src"}));
    assert_eq!(result.content, "src/lib.rs\nsrc/main.rs");
    assert!(!result.is_error);
    assert_eq!(line, "list src (2 files)");

    let (result, line) = handle(&tree, "search", json!({"pattern": "fn \\w+\\("}));
    assert_eq!(
        result.content,
        "src/lib.rs:1:pub fn add(a: u8, b: u8) -> u8 {\nsrc/main.rs:1:fn main() {}"
    );
    assert_eq!(line, "search \"fn \\w+\\(\" (2 matches)");

    let (result, line) = handle(
        &tree,
        "read_file",
        json!({"path": "src/lib.rs", "start_line": 2, "end_line": 2}),
    );
    assert_eq!(result.content, "     2\t    a + b\n[lines 2-2 of 3]");
    assert_eq!(line, "read src/lib.rs:2-2");

    let (result, line) = handle(&tree, "read_file", json!({"path": ".git/config"}));
    assert!(result.is_error);
    assert!(
        result.content.contains("inside a .git directory"),
        "{}",
        result.content
    );
    assert_eq!(line, "read .git/config: refused (inside .git)");

    let (result, line) = handle(&tree, "edit_file", json!({"path": "src/lib.rs"}));
    assert!(result.is_error);
    assert_eq!(
        result.content,
        "the tool edit_file is not enabled for this step; the tools you can call are read_file, list_files, search"
    );
    assert_eq!(line, "no such tool here");
}

//! Specs and argument parsing: the schemas carry exactly the properties of
//! docs/architecture.md ("crates/tools"), and every schema violation is an
//! error naming the tool and the field.

use std::time::Duration;

use agentls_chat::ToolCall;
use agentls_tools::{parse, parse_enabled, spec, Invocation, ToolError, ToolName};
use serde_json::{json, Value};

fn call(name: &str, input: Value) -> ToolCall {
    ToolCall {
        id: "call_1".into(),
        name: name.into(),
        input,
        signature: None,
    }
}

fn error(name: &str, input: Value) -> String {
    match parse(&call(name, input)) {
        Err(ToolError::Arguments(text) | ToolError::NotAvailable(text)) => text,
        other => panic!("expected an argument error, got {other:?}"),
    }
}

#[test]
fn names_round_trip_and_the_default_tools_are_the_read_only_ones() {
    for tool in ToolName::ALL {
        assert_eq!(tool.as_str().parse::<ToolName>().unwrap(), tool);
        assert_eq!(tool.to_string(), tool.as_str());
        assert_eq!(ToolName::DEFAULT.contains(&tool), tool.is_read_only());
    }
    assert_eq!(
        ToolName::ALL.map(ToolName::as_str),
        [
            "read_file",
            "list_files",
            "search",
            "edit_file",
            "write_file",
            "run_command"
        ]
    );
    let err = "delete_file".parse::<ToolName>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown tool `delete_file`; the tools are read_file, list_files, search, edit_file, write_file, run_command"
    );
}

#[test]
fn specs_are_json_schema_objects_with_exactly_the_designed_properties() {
    let expected: [(ToolName, &[&str], &[&str]); 6] = [
        (
            ToolName::ReadFile,
            &["path", "start_line", "end_line"],
            &["path"],
        ),
        (ToolName::ListFiles, &["path", "glob"], &[]),
        (ToolName::Search, &["pattern", "path", "glob"], &["pattern"]),
        (
            ToolName::EditFile,
            &["path", "old_text", "new_text"],
            &["path", "old_text", "new_text"],
        ),
        (
            ToolName::WriteFile,
            &["path", "content"],
            &["path", "content"],
        ),
        (
            ToolName::RunCommand,
            &["command", "timeout_s"],
            &["command"],
        ),
    ];
    for (tool, properties, required) in expected {
        let spec = spec(tool);
        assert_eq!(spec.name, tool.as_str());
        assert!(!spec.description.is_empty());
        let schema = spec.parameters.as_object().unwrap();
        let mut keys: Vec<&str> = schema.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["additionalProperties", "properties", "required", "type"],
            "{tool}"
        );
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        let props = schema["properties"].as_object().unwrap();
        let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
        let mut want = properties.to_vec();
        names.sort();
        want.sort();
        assert_eq!(names, want, "{tool}");
        for (name, prop) in props {
            let kind = prop["type"].as_str().unwrap();
            assert!(
                ["string", "integer", "number"].contains(&kind),
                "{tool}.{name}"
            );
            assert!(prop["description"].is_string(), "{tool}.{name}");
        }
        assert_eq!(schema["required"], json!(required), "{tool}");
    }
}

#[test]
fn descriptions_state_the_rules_a_model_must_follow() {
    assert!(spec(ToolName::EditFile)
        .description
        .contains("exactly once"));
    assert!(spec(ToolName::ReadFile)
        .description
        .contains("relative to the working tree"));
    assert!(spec(ToolName::ReadFile).description.contains("start_line"));
    assert!(spec(ToolName::ListFiles).description.contains(".gitignore"));
    assert!(spec(ToolName::RunCommand).description.contains("capped"));
}

#[test]
fn valid_calls_parse_into_typed_invocations() {
    let cases = [
        (
            call(
                "read_file",
                json!({"path": "a.rs", "start_line": 3, "end_line": 9}),
            ),
            Invocation::ReadFile {
                path: "a.rs".into(),
                start_line: Some(3),
                end_line: Some(9),
            },
        ),
        (
            call("read_file", json!({"path": "a.rs", "end_line": null})),
            Invocation::ReadFile {
                path: "a.rs".into(),
                start_line: None,
                end_line: None,
            },
        ),
        (
            call("list_files", json!({})),
            Invocation::ListFiles {
                path: None,
                glob: None,
            },
        ),
        (
            call("search", json!({"pattern": "x", "glob": "*.rs"})),
            Invocation::Search {
                pattern: "x".into(),
                path: None,
                glob: Some("*.rs".into()),
            },
        ),
        (
            call(
                "edit_file",
                json!({"path": "a", "old_text": "o", "new_text": ""}),
            ),
            Invocation::EditFile {
                path: "a".into(),
                old_text: "o".into(),
                new_text: "".into(),
            },
        ),
        (
            call("write_file", json!({"path": "a", "content": "c"})),
            Invocation::WriteFile {
                path: "a".into(),
                content: "c".into(),
            },
        ),
        (
            call(
                "run_command",
                json!({"command": "cargo test", "timeout_s": 1.5}),
            ),
            Invocation::RunCommand {
                command: "cargo test".into(),
                timeout: Some(Duration::from_millis(1500)),
            },
        ),
    ];
    for (call, expected) in cases {
        let parsed = parse(&call).unwrap();
        assert_eq!(parsed.tool().as_str(), call.name);
        assert_eq!(parsed, expected);
    }
}

#[test]
fn every_schema_violation_names_the_tool_and_the_field() {
    let cases = [
        ("read_file", json!({}), "read_file: missing required field `path` (a string)"),
        ("read_file", json!({"path": 7}), "read_file: field `path` must be a string, not a number"),
        (
            "read_file",
            json!({"path": "a", "start_line": "10"}),
            "read_file: field `start_line` must be a positive integer (a line number), not a string",
        ),
        (
            "read_file",
            json!({"path": "a", "start_line": 0}),
            "read_file: field `start_line` must be 1 or more (lines are numbered from 1)",
        ),
        (
            "read_file",
            json!({"path": "a", "end_line": -3}),
            "read_file: field `end_line` must be a positive integer (a line number), not a negative number",
        ),
        (
            "read_file",
            json!({"path": "a", "end_line": 2.5}),
            "read_file: field `end_line` must be a positive integer (a line number), not a fractional number",
        ),
        (
            "read_file",
            json!({"path": "a", "lines": 10}),
            "read_file: unknown field `lines`; the fields are `end_line`, `path`, `start_line`",
        ),
        (
            "list_files",
            json!({"dir": "src", "recursive": true}),
            "list_files: unknown fields `dir`, `recursive`; the fields are `glob`, `path`",
        ),
        ("search", json!({"path": "src"}), "search: missing required field `pattern` (a string)"),
        ("search", json!({"pattern": ["a"]}), "search: field `pattern` must be a string, not an array"),
        (
            "edit_file",
            json!({"path": "a", "old_text": "x"}),
            "edit_file: missing required field `new_text` (a string)",
        ),
        ("write_file", json!({"path": "a", "content": {}}), "write_file: field `content` must be a string, not an object"),
        ("run_command", json!({"cmd": "ls"}), "run_command: missing required field `command` (a string)"),
        (
            "run_command",
            json!({"command": "ls", "timeout_s": 0}),
            "run_command: field `timeout_s` must be more than 0 (seconds)",
        ),
        (
            "run_command",
            json!({"command": "ls", "timeout_s": "30"}),
            "run_command: field `timeout_s` must be a number of seconds, not a string",
        ),
        ("read_file", json!(["a.rs"]), "read_file: the arguments must be a JSON object, not an array"),
        (
            "read_file",
            json!("{\"path\": \"a.rs\""),
            "read_file: the arguments are not a JSON object: {\"path\": \"a.rs\"",
        ),
        (
            "rm_rf",
            json!({}),
            "unknown tool `rm_rf`; the tools you can call are read_file, list_files, search, edit_file, write_file, run_command",
        ),
    ];
    for (name, input, expected) in cases {
        assert_eq!(error(name, input.clone()), expected, "{name} {input}");
    }
}

#[test]
fn a_tool_the_step_does_not_enable_is_refused_with_the_ones_it_does() {
    let err = parse_enabled(
        &call("run_command", json!({"command": "ls"})),
        &ToolName::DEFAULT,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the tool run_command is not enabled for this step; the tools you can call are read_file, list_files, search"
    );
    assert!(parse_enabled(&call("search", json!({"pattern": "x"})), &ToolName::DEFAULT).is_ok());
}

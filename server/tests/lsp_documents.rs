//! Document sync over the wire: what the server holds after didOpen/didChange/didClose
//! equals what the editor holds, compared through the `agent.document` debug command.
//!
//! The property tests replay random incremental edits (emoji, CJK, CRLF, lone CR,
//! line ends, columns past the line end, lines past the last) against the server and
//! against `agentls_text::reference::ReferenceDocument`, a naive String model.

mod support;

use std::cell::Cell;

use agentls_text::reference::ReferenceDocument;
use agentls_text::{Change, Position, PositionEncoding, Range};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestServer};

const INVALID_PARAMS: i64 = -32602;

/// Inserted text is built from these: multi-unit characters in every encoding,
/// a ZWJ sequence, astral-plane characters and all three line terminators.
const FRAGMENTS: &[&str] = &[
    "a",
    "bc",
    "é",
    "😀",
    "👨‍👩‍👧",
    "中文字",
    "\n",
    "\r\n",
    "\r",
    " ",
    "x\r\ny",
    "𝄞",
    "ß",
    "\t",
];

fn start_server(encodings: &[&str], expected: &str) -> TestServer {
    let server = TestServer::spawn(ServerOptions::new());
    let result = server.initialize(InitParams::new().position_encodings(encodings).build());
    assert_eq!(result["capabilities"]["positionEncoding"], json!(expected));
    server
}

fn document(server: &TestServer, uri: &str) -> (i64, String) {
    let doc = server
        .agent_document(uri)
        .unwrap_or_else(|e| server.fail(&format!("agent.document {uri} failed: {e:?}")));
    let version = doc["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("no version in {doc}"));
    let text = doc["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {doc}"));
    (version, text.to_owned())
}

/// A position chosen relative to whatever the text is when the edit applies,
/// so the same spec stays meaningful while proptest shrinks earlier edits.
#[derive(Clone, Debug)]
struct PosSpec {
    kind: u8,
    line: u16,
    col: u16,
}

#[derive(Clone, Debug)]
struct ChangeSpec {
    full: bool,
    start: PosSpec,
    /// 0-8: insertion; 9-14: a few characters on the same line; 15-18: across the
    /// line break; 19: anywhere (rare, so the text grows instead of being halved).
    span: u8,
    end: PosSpec,
    insert: Vec<usize>,
}

#[derive(Clone, Debug)]
struct CaseSpec {
    initial: Vec<usize>,
    edits: Vec<Vec<ChangeSpec>>,
}

fn pos_spec() -> impl Strategy<Value = PosSpec> {
    (0u8..10, any::<u16>(), any::<u16>()).prop_map(|(kind, line, col)| PosSpec { kind, line, col })
}

fn change_spec() -> impl Strategy<Value = ChangeSpec> {
    (
        0u8..200,
        pos_spec(),
        0u8..20,
        pos_spec(),
        prop::collection::vec(0..FRAGMENTS.len(), 0..4),
    )
        .prop_map(|(full, start, span, end, insert)| ChangeSpec {
            full: full == 0,
            start,
            span,
            end,
            insert,
        })
}

fn case_spec(edits: usize) -> impl Strategy<Value = CaseSpec> {
    (
        prop::collection::vec(0..FRAGMENTS.len(), 0..30),
        prop::collection::vec(prop::collection::vec(change_spec(), 1..=3), edits),
    )
        .prop_map(|(initial, edits)| CaseSpec { initial, edits })
}

fn join(fragments: &[usize]) -> String {
    fragments.iter().map(|&i| FRAGMENTS[i]).collect()
}

fn line_len(content: &str, enc: PositionEncoding) -> u32 {
    content.chars().map(|c| enc.units(c) as u32).sum()
}

/// A column on `line` at a char boundary, picked by `col`.
fn boundary_on_line(
    doc: &ReferenceDocument,
    line: usize,
    col: u16,
    enc: PositionEncoding,
) -> Position {
    let bounds = boundaries(doc, line, enc);
    Position::new(line as u32, bounds[col as usize % bounds.len()])
}

/// The columns of every char boundary of `line`'s content, 0 and its end included.
fn boundaries(doc: &ReferenceDocument, line: usize, enc: PositionEncoding) -> Vec<u32> {
    let mut bounds = vec![0u32];
    let mut units = 0u32;
    for ch in doc.lines()[line].0.chars() {
        units += enc.units(ch) as u32;
        bounds.push(units);
    }
    bounds
}

/// A few characters after `start` on its line (deletions stay small, like typing).
fn shortly_after(
    doc: &ReferenceDocument,
    start: Position,
    col: u16,
    enc: PositionEncoding,
) -> Position {
    let bounds = boundaries(doc, start.line as usize, enc);
    let at = bounds
        .iter()
        .position(|&b| b >= start.character)
        .unwrap_or(bounds.len() - 1);
    let end = (at + 1 + col as usize % 4).min(bounds.len() - 1);
    Position::new(start.line, bounds[end])
}

fn resolve(doc: &ReferenceDocument, spec: &PosSpec, enc: PositionEncoding) -> Position {
    let lines = doc.lines();
    let count = lines.len();
    let line = spec.line as usize % count;
    let len = line_len(lines[line].0, enc);
    match spec.kind {
        0..=5 => boundary_on_line(doc, line, spec.col, enc),
        6 | 7 => Position::new(line as u32, len),
        8 => Position::new(line as u32, len + 1 + u32::from(spec.col % 7)),
        _ => Position::new(
            (count + spec.col as usize % 3) as u32,
            u32::from(spec.col % 10),
        ),
    }
}

fn resolve_change(doc: &ReferenceDocument, spec: &ChangeSpec, enc: PositionEncoding) -> Change {
    let text = join(&spec.insert);
    if spec.full {
        return Change::full(text);
    }
    let start = resolve(doc, &spec.start, enc);
    let count = doc.lines().len();
    let end = match spec.span {
        0..=8 => start,
        9..=14 if (start.line as usize) < count => shortly_after(doc, start, spec.end.col, enc),
        // Joins two lines: from `start` across the line break to early on the next line.
        15..=18 if (start.line as usize + 1) < count => {
            let next = start.line as usize + 1;
            let bounds = boundaries(doc, next, enc);
            Position::new(
                next as u32,
                bounds[spec.end.col as usize % bounds.len().min(3)],
            )
        }
        19 => resolve(doc, &spec.end, enc),
        _ => start,
    };
    // Editors send ordered ranges; keep them so (the order is by text offset,
    // since clamped positions may compare differently than they resolve).
    let (start, end) = if doc.byte_offset(end, enc) < doc.byte_offset(start, enc) {
        (end, start)
    } else {
        (start, end)
    };
    Change::replace(Range::new(start, end), text)
}

fn change_json(change: &Change) -> Value {
    match change.range {
        None => json!({ "text": change.text }),
        Some(r) => json!({
            "range": {
                "start": { "line": r.start.line, "character": r.start.character },
                "end": { "line": r.end.line, "character": r.end.character }
            },
            "text": change.text
        }),
    }
}

fn run_random_edits(encodings: &[&str], negotiated: &str, enc: PositionEncoding) {
    let server = start_server(encodings, negotiated);
    let dir = server.env().mkdir("ws");
    let case_number = Cell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases: 40,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case_spec(100), |case| {
        case_number.set(case_number.get() + 1);
        let uri = file_uri(&dir.join(format!("doc-{}.txt", case_number.get())));
        let mut model = ReferenceDocument::new(&join(&case.initial));
        server.did_open(&uri, "plaintext", 0, model.text());
        for (i, edit) in case.edits.iter().enumerate() {
            let mut changes = Vec::new();
            for spec in edit {
                let change = resolve_change(&model, spec, enc);
                model.apply_change(&change, enc);
                changes.push(change_json(&change));
            }
            server.did_change(&uri, i as i64 + 1, Value::Array(changes));
        }
        let (version, text) = document(&server, &uri);
        server.did_close(&uri);
        prop_assert_eq!(version, case.edits.len() as i64);
        if text != model.text() {
            return Err(TestCaseError::fail(format!(
                "server text differs from the reference model\n server: {text:?}\n model:  {:?}",
                model.text()
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        server.fail(&format!("{e}"));
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn random_incremental_edits_match_the_reference_model_in_utf16() {
    run_random_edits(&["utf-16"], "utf-16", PositionEncoding::Utf16);
}

#[test]
fn random_incremental_edits_match_the_reference_model_in_utf8() {
    run_random_edits(&["utf-8", "utf-16"], "utf-8", PositionEncoding::Utf8);
}

#[test]
fn five_hundred_back_to_back_changes_apply_in_order() {
    let server = start_server(&["utf-16"], "utf-16");
    let uri = file_uri(&server.env().mkdir("ws").join("log.txt"));
    server.did_open(&uri, "plaintext", 0, "");
    // One write holding all 500 frames: the server sees them as fast as it can read.
    let mut burst = Vec::new();
    for n in 1..=500u32 {
        let change = json!({
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": { "uri": uri, "version": n },
                "contentChanges": [{
                    "range": { "start": { "line": n - 1, "character": 0 },
                               "end": { "line": n - 1, "character": 0 } },
                    "text": format!("line {n}\n")
                }]
            }
        });
        burst.extend_from_slice(&support::encode_raw_frame(change.to_string().as_bytes()));
    }
    server.send_raw(&burst);
    let (version, text) = document(&server, &uri);
    let expected: String = (1..=500).map(|n| format!("line {n}\n")).collect();
    assert_eq!(version, 500);
    assert_eq!(text, expected);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn did_open_then_agent_document_returns_the_text_and_version() {
    let server = start_server(&["utf-16"], "utf-16");
    let uri = file_uri(&server.env().mkdir("ws").join("a.md"));
    server.did_open(&uri, "markdown", 7, "héllo 😀\r\n中文\n");
    assert_eq!(
        document(&server, &uri),
        (7, "héllo 😀\r\n中文\n".to_owned())
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn columns_count_utf16_units_or_bytes_as_negotiated() {
    // "a😀b": 😀 is 2 UTF-16 units and 4 bytes, so "after 😀" is column 3 or 5.
    for (encodings, negotiated, column) in
        [(&["utf-16"][..], "utf-16", 3), (&["utf-8"][..], "utf-8", 5)]
    {
        let server = start_server(encodings, negotiated);
        let uri = file_uri(&server.env().mkdir("ws").join("e.txt"));
        server.did_open(&uri, "plaintext", 1, "a😀b\r\nc");
        let at = json!({ "line": 0, "character": column });
        server.did_change(
            &uri,
            2,
            json!([{ "range": { "start": at, "end": at }, "text": "X" }]),
        );
        // Past the last line means the end of the document.
        let far = json!({ "line": 9, "character": 0 });
        server.did_change(
            &uri,
            3,
            json!([{ "range": { "start": far, "end": far }, "text": "!" }]),
        );
        assert_eq!(
            document(&server, &uri),
            (3, "a😀Xb\r\nc!".to_owned()),
            "{negotiated}"
        );
        assert_eq!(server.shutdown_and_exit().code(), Some(0));
    }
}

#[test]
fn agent_document_for_a_document_that_is_not_open_is_invalid_params() {
    let server = start_server(&["utf-16"], "utf-16");
    let uri = file_uri(&server.env().mkdir("ws").join("never-opened.txt"));
    let err = server
        .agent_document(&uri)
        .expect_err("not open must be an error");
    assert_eq!(err.code, INVALID_PARAMS, "{err:?}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn did_close_forgets_the_document() {
    let server = start_server(&["utf-16"], "utf-16");
    let uri = file_uri(&server.env().mkdir("ws").join("closed.txt"));
    server.did_open(&uri, "plaintext", 1, "x");
    assert_eq!(document(&server, &uri), (1, "x".to_owned()));
    server.did_close(&uri);
    let err = server
        .agent_document(&uri)
        .expect_err("closed must be an error");
    assert_eq!(err.code, INVALID_PARAMS, "{err:?}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn did_change_with_an_older_version_is_ignored_and_logged() {
    let server = start_server(&["utf-16"], "utf-16");
    let uri = file_uri(&server.env().mkdir("ws").join("versions.txt"));
    server.did_open(&uri, "plaintext", 3, "three");
    server.did_change(&uri, 5, json!([{ "text": "five" }]));
    // Late or replayed: the editor moved on, older text must not win.
    server.did_change(&uri, 4, json!([{ "text": "four" }]));
    assert_eq!(document(&server, &uri), (5, "five".to_owned()));
    // The same version again is not older: it applies.
    server.did_change(&uri, 5, json!([{ "text": "five again" }]));
    assert_eq!(document(&server, &uri), (5, "five again".to_owned()));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    // The log is read by a thread of its own: wait for the end of the pipe.
    let logged = "with version 4, older than the version 5 held";
    assert!(
        server.stderr_at_end().contains(logged),
        "the ignored change is not logged"
    );
}

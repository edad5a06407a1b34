//! What a run is started on, read from the editor: the document as the
//! server holds it (text, version, language), the selection and the
//! diagnostics, converted from the client's position encoding to the
//! engine's lines and char columns.

use std::path::PathBuf;

use agentls_engine::{FileInput, Inputs, SelectionInput};
use agentls_text::{Document, PositionEncoding};
use agentls_workflow::DiagnosticContext;
use tower_lsp_server::ls_types::{self as lsp, DiagnosticSeverity, NumberOrString, Uri};

use crate::lsp::convert;
use crate::session::Session;

/// The inputs of a run on `uri` (the open document, else the file on disk),
/// with `range` as its selection and `diagnostics` from the editor.
pub fn from_editor(
    session: &Session,
    uri: Option<&Uri>,
    range: Option<lsp::Range>,
    diagnostics: &[lsp::Diagnostic],
    enc: PositionEncoding,
) -> Result<Inputs, String> {
    let Some(uri) = uri else {
        if range.is_some() {
            return Err("`range` needs `uri`: the document the range is in".into());
        }
        return Ok(Inputs {
            diagnostics: diagnostics
                .iter()
                .map(|d| diagnostic(d, None, enc))
                .collect(),
            ..Inputs::default()
        });
    };
    let path = convert::path(uri);
    let (doc, version) = {
        let docs = session.documents();
        match docs.get(uri.as_str()) {
            Some(open) => (open.doc.clone(), Some(open.doc.version())),
            None => {
                let path = path
                    .as_ref()
                    .ok_or_else(|| format!("{} is not open and is not a file", uri.as_str()))?;
                let text = agentls_files::read_to_string(path, agentls_files::Limit::DOCUMENT)
                    .map_err(|e| format!("cannot read {e}"))?;
                (Document::new(&text, 0, language_of(path)), None)
            }
        }
    };
    let selection = range.map(|range| {
        let chars = doc.char_range(convert::range(range), enc);
        let (start_line, start_col) = line_col(&doc, chars.start);
        let (end_line, end_col) = line_col(&doc, chars.end);
        SelectionInput {
            start_line,
            start_col,
            end_line,
            end_col,
            text: doc.rope().slice(chars).to_string(),
        }
    });
    Ok(Inputs {
        file: Some(FileInput {
            path: path.unwrap_or_else(|| PathBuf::from(uri.as_str())),
            text: doc.text(),
            language: doc.language_id().to_owned(),
            version,
            uri: Some(uri.as_str().to_owned()),
        }),
        selection,
        diagnostics: diagnostics
            .iter()
            .map(|d| diagnostic(d, Some(&doc), enc))
            .collect(),
    })
}

fn line_col(doc: &Document, char_idx: usize) -> (usize, usize) {
    let rope = doc.rope();
    let line = rope.char_to_line(char_idx);
    (line, char_idx - rope.line_to_char(line))
}

/// A diagnostic as templates see it: 1-based line and char column.
fn diagnostic(
    d: &lsp::Diagnostic,
    doc: Option<&Document>,
    enc: PositionEncoding,
) -> DiagnosticContext {
    let column = match doc {
        Some(doc) => line_col(doc, doc.char_index(convert::position(d.range.start), enc)).1,
        None => d.range.start.character as usize,
    };
    DiagnosticContext {
        message: d.message.clone(),
        severity: match d.severity {
            Some(DiagnosticSeverity::WARNING) => "warning",
            Some(DiagnosticSeverity::INFORMATION) => "information",
            Some(DiagnosticSeverity::HINT) => "hint",
            _ => "error",
        }
        .into(),
        line: d.range.start.line + 1,
        column: u32::try_from(column).unwrap_or(u32::MAX).saturating_add(1),
        source: d.source.clone(),
        code: d.code.as_ref().map(|c| match c {
            NumberOrString::Number(n) => n.to_string(),
            NumberOrString::String(s) => s.clone(),
        }),
    }
}

/// The editor language id of a file that is not open, from its extension
/// (what editors would say; unknown extensions give "").
pub fn language_of(path: &std::path::Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    match ext {
        "rs" => "rust",
        "py" | "pyi" => "python",
        "ts" => "typescript",
        "tsx" => "typescriptreact",
        "js" | "mjs" | "cjs" => "javascript",
        "jsx" => "javascriptreact",
        "go" => "go",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" => "cpp",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "rb" => "ruby",
        "php" => "php",
        "cs" => "csharp",
        "swift" => "swift",
        "lua" => "lua",
        "sh" | "bash" => "shellscript",
        "md" | "markdown" => "markdown",
        "toml" => "toml",
        "json" => "json",
        "yaml" | "yml" => "yaml",
        "html" | "htm" => "html",
        "css" => "css",
        "sql" => "sql",
        "zig" => "zig",
        "hs" => "haskell",
        "ex" | "exs" => "elixir",
        "ml" | "mli" => "ocaml",
        _ => "",
    }
}

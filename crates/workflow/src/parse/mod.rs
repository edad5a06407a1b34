//! Parsing and validating one workflow file.
//!
//! Owns the path from TOML text to a [`Workflow`] plus [`Diagnostic`]s with
//! exact positions. Never panics, whatever the input (a property test feeds
//! it arbitrary and mutated text). Knows nothing of where files live: the
//! catalog finds them; nothing of how steps run: the engine does that.

mod refs;
mod sandbox;
mod step;
mod value;

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::model::{is_identifier, Applies, ParamSpec, Source, Workflow};
use crate::template::Templates;
use value::Reporter;

/// Files larger than this are refused before parsing: a workflow is a page
/// of TOML, and the limit keeps a stray large file from stalling the editor.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Deepest `[`/`{` nesting accepted; the format needs three levels, and the
/// TOML parser recurses on nesting.
const MAX_NESTING: usize = 64;

const TOP_KEYS: &[&str] = &[
    "title",
    "description",
    "applies",
    "params",
    "steps",
    "sandbox",
    "isolation",
];
const APPLIES_KEYS: &[&str] = &["languages", "selection", "diagnostics"];
const PARAM_KEYS: &[&str] = &["description", "default", "required"];

/// The outcome of [`parse`]: the workflow when the file has no errors, and
/// every diagnostic (errors and warnings) sorted by position.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// `Some` when there are no errors (warnings allowed).
    pub workflow: Option<Workflow>,
    /// Errors and warnings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == crate::Severity::Error)
    }
}

/// Parse and validate the workflow `name` (its file stem) from `source.content`.
/// Never panics.
pub fn parse(name: &str, source: Source) -> Parsed {
    let templates = Templates::new();
    parse_with(name, source, &templates)
}

/// [`parse`] with a caller's [`Templates`], to avoid building one per file.
pub fn parse_with(name: &str, source: Source, templates: &Templates) -> Parsed {
    let text = source.content.as_str();
    let mut r = Reporter::new(text);
    let result = parse_text(name, &mut r, templates);
    let mut diagnostics = r.diagnostics;
    diagnostics.sort_by_key(|d| (d.range.offsets.start, d.range.offsets.end));
    let ok = !diagnostics
        .iter()
        .any(|d| d.severity == crate::Severity::Error);
    let workflow = match result {
        Some(w) if ok => Some(Workflow { source, ..w }),
        _ => None,
    };
    Parsed {
        workflow,
        diagnostics,
    }
}

/// A workflow name: the file stem, used in `agent.run {workflow}`.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Builds a workflow with a placeholder source; the caller fills it in.
fn parse_text(name: &str, r: &mut Reporter<'_>, templates: &Templates) -> Option<Workflow> {
    if !valid_name(name) {
        r.error(
            DiagnosticCode::InvalidId,
            0..0,
            format!(
                "workflow name `{name}` (the file name) must use only letters, digits, `-` and `_`"
            ),
        );
    }
    if r.text.len() > MAX_FILE_BYTES {
        r.error(
            DiagnosticCode::Syntax,
            0..0,
            format!(
                "file is {} bytes; workflow files are limited to {MAX_FILE_BYTES}",
                r.text.len()
            ),
        );
        return None;
    }
    if let Some(at) = too_deep(r.text) {
        r.error(
            DiagnosticCode::Syntax,
            at..at + 1,
            format!("arrays and tables nest deeper than {MAX_NESTING} levels"),
        );
        return None;
    }
    let (doc, errors) = DeTable::parse_recoverable(r.text);
    if !errors.is_empty() {
        // Report syntax errors alone: validating a half-parsed document
        // would add follow-on errors that vanish once the syntax is fixed.
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            r.error(DiagnosticCode::Syntax, span, e.message().to_owned());
        }
        return None;
    }
    let doc = doc.get_ref();
    r.unknown_keys(doc, TOP_KEYS, "a workflow");

    let title = doc.get("title").and_then(|v| r.string("title", v));
    let description = doc
        .get("description")
        .and_then(|v| r.string("description", v));
    let applies = doc
        .get("applies")
        .map(|v| parse_applies(r, v))
        .unwrap_or_default();
    let params = doc
        .get("params")
        .map(|v| parse_params(r, v))
        .unwrap_or_default();
    let sandbox = doc.get("sandbox").and_then(|v| sandbox::parse(r, v));
    let isolation = doc.get("isolation").and_then(|v| parse_isolation(r, v));
    let steps = match doc.get_key_value("steps") {
        None => {
            r.error(
                DiagnosticCode::MissingKey,
                0..0,
                "a workflow needs at least one step: add a `[[steps]]` table".to_owned(),
            );
            Vec::new()
        }
        Some((key, value)) => step::parse_steps(r, key.span(), value, &params, templates),
    };
    Some(Workflow {
        name: name.to_owned(),
        title,
        description,
        applies,
        params,
        steps,
        sandbox,
        isolation,
        source: Source::new(crate::SourceKind::Builtin, None, String::new()),
    })
}

/// `isolation = "none" | "worktree"`.
fn parse_isolation(
    r: &mut Reporter<'_>,
    value: &toml::Spanned<DeValue<'_>>,
) -> Option<crate::Isolation> {
    let text = r.string("isolation", value)?;
    match text.as_str() {
        "none" => Some(crate::Isolation::None),
        "worktree" => Some(crate::Isolation::Worktree),
        other => {
            r.error(
                DiagnosticCode::InvalidValue,
                value.span(),
                format!("`isolation` is \"none\" or \"worktree\", not {other:?}"),
            );
            None
        }
    }
}

/// The offset of the first bracket that opens level `MAX_NESTING + 1`,
/// skipping strings and comments. Not a TOML lexer: it only has to keep the
/// parser's recursion bounded, and errs towards counting too little.
fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let triple = b[i..].starts_with(&[q, q, q]);
                let delim_len = if triple { 3 } else { 1 };
                i += delim_len;
                while i < b.len() {
                    if q == b'"' && b[i] == b'\\' {
                        i += 2;
                    } else if !triple && b[i] == b'\n' {
                        break;
                    } else if b[i..].starts_with(&[q, q, q][..delim_len]) {
                        i += delim_len;
                        break;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn parse_applies(r: &mut Reporter<'_>, value: &Spanned<DeValue<'_>>) -> Applies {
    let mut applies = Applies {
        code_action: true,
        ..Applies::default()
    };
    let Some(t) = r.table(
        "applies",
        value,
        "`[applies]` with `languages = [\"rust\"]`",
    ) else {
        return applies;
    };
    r.unknown_keys(t, APPLIES_KEYS, "`[applies]`");
    if let Some(v) = t.get("languages") {
        applies.languages = r
            .strings("languages", v)
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.into_inner())
            .collect();
    }
    if let Some(v) = t.get("selection") {
        applies.selection = r.boolean("selection", v).unwrap_or(false);
    }
    if let Some(v) = t.get("diagnostics") {
        applies.diagnostics = r.boolean("diagnostics", v).unwrap_or(false);
    }
    applies
}

/// `[params]`: `NAME = "default"` or `[params.NAME]` with description,
/// default and required. Returned in file order.
fn parse_params(r: &mut Reporter<'_>, value: &Spanned<DeValue<'_>>) -> Vec<ParamSpec> {
    let Some(t) = r.table("params", value, "`[params.NAME]`") else {
        return Vec::new();
    };
    let mut entries: Vec<_> = t.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut out = Vec::new();
    for (key, v) in entries {
        let name: &str = key.get_ref();
        if !is_identifier(name) {
            r.error(
                DiagnosticCode::InvalidId,
                key.span(),
                format!("invalid parameter name `{name}`: use letters, digits and `_`, so templates can write `params.NAME`"),
            );
        }
        let spec = match v.get_ref() {
            DeValue::String(s) => ParamSpec {
                name: name.to_owned(),
                description: None,
                default: Some(s.to_string()),
                required: false,
            },
            DeValue::Table(pt) => param_table(r, name, pt),
            _ => {
                r.table(name, v, "`[params.NAME]` or `NAME = \"default\"`");
                continue;
            }
        };
        out.push(spec);
    }
    out
}

fn param_table(r: &mut Reporter<'_>, name: &str, t: &DeTable<'_>) -> ParamSpec {
    r.unknown_keys(t, PARAM_KEYS, &format!("parameter `{name}`"));
    let description = t
        .get("description")
        .and_then(|v| r.string("description", v));
    let default = t.get("default").and_then(|v| r.string("default", v));
    let required = t
        .get_key_value("required")
        .and_then(|(k, v)| r.boolean("required", v).map(|b| (k.span(), b)));
    if let (Some((span, true)), Some(_)) = (&required, &default) {
        r.warning(
            DiagnosticCode::Ignored,
            span.clone(),
            format!("parameter `{name}` has a default, so `required` has no effect"),
        );
    }
    ParamSpec {
        name: name.to_owned(),
        description,
        default,
        required: required.is_some_and(|(_, b)| b),
    }
}

/// A template string and where it came from, checked once all step ids are known.
pub(crate) struct TemplateUse {
    /// Index of the step using it.
    pub step: usize,
    /// Field name as in the file, e.g. `prompt`, `edit.patch`, `when`.
    pub field: String,
    /// The string's value.
    pub value: String,
    /// The string's span in the file.
    pub span: Range<usize>,
    /// A `when` expression rather than a template.
    pub expression: bool,
}

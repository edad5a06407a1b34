//! [`parse`]: a model's [`ToolCall`] to a typed [`Invocation`], or an error
//! text the model can act on (it names the tool and the field).
//!
//! Strict, as the schemas say (`additionalProperties: false`): a field of
//! the wrong type or one the tool does not have is an error rather than a
//! guess, so a model that misremembers a parameter learns the right one at
//! once instead of seeing it silently ignored.

use std::time::Duration;

use agentls_chat::ToolCall;
use serde_json::{Map, Value};

use crate::name::names;
use crate::{ToolError, ToolName};

/// A tool call with its arguments checked and typed.
#[derive(Clone, Debug, PartialEq)]
pub enum Invocation {
    ReadFile {
        path: String,
        start_line: Option<usize>,
        end_line: Option<usize>,
    },
    ListFiles {
        path: Option<String>,
        glob: Option<String>,
    },
    Search {
        pattern: String,
        path: Option<String>,
        glob: Option<String>,
    },
    EditFile {
        path: String,
        old_text: String,
        new_text: String,
    },
    WriteFile {
        path: String,
        content: String,
    },
    RunCommand {
        command: String,
        timeout: Option<Duration>,
    },
}

impl Invocation {
    /// Which tool this calls.
    pub fn tool(&self) -> ToolName {
        match self {
            Invocation::ReadFile { .. } => ToolName::ReadFile,
            Invocation::ListFiles { .. } => ToolName::ListFiles,
            Invocation::Search { .. } => ToolName::Search,
            Invocation::EditFile { .. } => ToolName::EditFile,
            Invocation::WriteFile { .. } => ToolName::WriteFile,
            Invocation::RunCommand { .. } => ToolName::RunCommand,
        }
    }
}

/// Parses a call to any built-in tool. The error is the tool result the
/// model should see ([`ToolError::Arguments`], or
/// [`ToolError::NotAvailable`] for a name that is no tool).
pub fn parse(call: &ToolCall) -> Result<Invocation, ToolError> {
    parse_enabled(call, &ToolName::ALL)
}

/// [`parse`], refusing tools outside `enabled` (the step's `tools`) with a
/// message that lists the ones it may call.
pub fn parse_enabled(call: &ToolCall, enabled: &[ToolName]) -> Result<Invocation, ToolError> {
    let unknown = || {
        ToolError::NotAvailable(format!(
            "unknown tool `{}`; the tools you can call are {}",
            call.name,
            names(enabled)
        ))
    };
    let tool: ToolName = call.name.parse().map_err(|_| unknown())?;
    if !enabled.contains(&tool) {
        return Err(ToolError::NotAvailable(format!(
            "the tool {tool} is not enabled for this step; the tools you can call are {}",
            names(enabled)
        )));
    }
    let mut args = Args::new(tool, &call.input)?;
    let invocation = match tool {
        ToolName::ReadFile => Invocation::ReadFile {
            path: args.string("path")?,
            start_line: args.line("start_line")?,
            end_line: args.line("end_line")?,
        },
        ToolName::ListFiles => Invocation::ListFiles {
            path: args.opt_string("path")?,
            glob: args.opt_string("glob")?,
        },
        ToolName::Search => Invocation::Search {
            pattern: args.string("pattern")?,
            path: args.opt_string("path")?,
            glob: args.opt_string("glob")?,
        },
        ToolName::EditFile => Invocation::EditFile {
            path: args.string("path")?,
            old_text: args.string("old_text")?,
            new_text: args.string("new_text")?,
        },
        ToolName::WriteFile => Invocation::WriteFile {
            path: args.string("path")?,
            content: args.string("content")?,
        },
        ToolName::RunCommand => Invocation::RunCommand {
            command: args.string("command")?,
            timeout: args.seconds("timeout_s")?,
        },
    };
    args.finish()?;
    Ok(invocation)
}

/// The argument object, taken field by field; what is left at the end was
/// not in the schema.
struct Args {
    tool: ToolName,
    fields: Map<String, Value>,
}

impl Args {
    fn new(tool: ToolName, input: &Value) -> Result<Args, ToolError> {
        match input {
            Value::Object(fields) => Ok(Args {
                tool,
                fields: fields.clone(),
            }),
            // A provider keeps arguments that were not valid JSON as the raw text.
            Value::String(raw) => Err(ToolError::Arguments(format!(
                "{tool}: the arguments are not a JSON object: {}",
                preview(raw)
            ))),
            other => Err(ToolError::Arguments(format!(
                "{tool}: the arguments must be a JSON object, not {}",
                kind(other)
            ))),
        }
    }

    fn error(&self, message: String) -> ToolError {
        ToolError::Arguments(format!("{}: {message}", self.tool))
    }

    fn take(&mut self, field: &str) -> Option<Value> {
        // JSON null is how some models say "not given".
        self.fields.remove(field).filter(|value| !value.is_null())
    }

    fn string(&mut self, field: &str) -> Result<String, ToolError> {
        self.opt_string(field)?
            .ok_or_else(|| self.error(format!("missing required field `{field}` (a string)")))
    }

    fn opt_string(&mut self, field: &str) -> Result<Option<String>, ToolError> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.error(format!(
                "field `{field}` must be a string, not {}",
                kind(&other)
            ))),
        }
    }

    fn line(&mut self, field: &str) -> Result<Option<usize>, ToolError> {
        let Some(value) = self.take(field) else {
            return Ok(None);
        };
        match value.as_u64() {
            Some(0) => Err(self.error(format!(
                "field `{field}` must be 1 or more (lines are numbered from 1)"
            ))),
            Some(line) => Ok(Some(usize::try_from(line).unwrap_or(usize::MAX))),
            None => Err(self.error(format!(
                "field `{field}` must be a positive integer (a line number), not {}",
                kind(&value)
            ))),
        }
    }

    fn seconds(&mut self, field: &str) -> Result<Option<Duration>, ToolError> {
        let Some(value) = self.take(field) else {
            return Ok(None);
        };
        match value.as_f64() {
            Some(seconds) if seconds > 0.0 && seconds.is_finite() => {
                Duration::try_from_secs_f64(seconds)
                    .map(Some)
                    .map_err(|_| self.error(format!("field `{field}` is too large")))
            }
            Some(_) => Err(self.error(format!("field `{field}` must be more than 0 (seconds)"))),
            None => Err(self.error(format!(
                "field `{field}` must be a number of seconds, not {}",
                kind(&value)
            ))),
        }
    }

    fn finish(self) -> Result<(), ToolError> {
        if self.fields.is_empty() {
            return Ok(());
        }
        // Sorted: a JSON map's order depends on serde_json's features,
        // which another crate of the build may turn on.
        let mut extra: Vec<String> = self.fields.keys().map(|key| format!("`{key}`")).collect();
        extra.sort();
        let mut known: Vec<String> = crate::spec(self.tool).parameters["properties"]
            .as_object()
            .map(|props| props.keys().map(|key| format!("`{key}`")).collect())
            .unwrap_or_default();
        known.sort();
        Err(self.error(format!(
            "unknown field{} {}; the fields are {}",
            if extra.len() == 1 { "" } else { "s" },
            extra.join(", "),
            known.join(", ")
        )))
    }
}

/// "a number", "an array", ... for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a fractional number",
        Value::Number(number) if number.as_i64().is_some_and(|n| n < 0) => "a negative number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The start of a model's broken arguments, enough to see what went wrong.
fn preview(raw: &str) -> String {
    const MAX: usize = 200;
    match raw.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &raw[..cut]),
        None => raw.to_owned(),
    }
}

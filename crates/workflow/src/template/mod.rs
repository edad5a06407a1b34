//! Rendering step templates and evaluating `when` conditions.
//!
//! Owns the minijinja environment (strict undefined, agentls filters), the
//! [`Context`] it renders over and [`TemplateError`], whose messages name the
//! step, the field and, for undefined variables, the variable. It never runs
//! anything: the engine decides what to do with the rendered strings.

mod context;
mod filters;
mod limits;

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};

pub use context::{Context, DiagnosticContext, FileContext, StepState, WorkspaceContext};
pub(crate) use context::{FILE_FIELDS, MAP_METHODS, ROOTS, STEP_FIELDS, WORKSPACE_FIELDS};
pub use limits::{TEMPLATE_FUEL, TEMPLATE_OUTPUT_CAP};

use crate::model::{EditSpec, Step, StepKind};
use crate::paths::{check_edit_path, EditPathError};

/// Names templates may use that are not context variables: minijinja's
/// loop and macro locals and the global functions.
pub(crate) const NON_CONTEXT_NAMES: &[&str] = &[
    "loop",
    "self",
    "super",
    "caller",
    "varargs",
    "kwargs",
    "range",
    "dict",
    "namespace",
    "debug",
    "lipsum",
    "cycler",
    "joiner",
    "fail",
];

/// A template or condition that could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template uses a variable the context does not have.
    #[error("step `{step}`: {} uses undefined variable `{variable}`", describe(.field))]
    Undefined {
        /// Step id.
        step: String,
        /// Field, e.g. `prompt` or `when`.
        field: String,
        /// The variable as written, e.g. `steps.tset.output`.
        variable: String,
    },
    /// The template does not compile.
    #[error("step `{step}`: {} is not a valid template: {message}", describe(.field))]
    Syntax {
        /// Step id.
        step: String,
        /// Field.
        field: String,
        /// minijinja's explanation, with the template line when it has several.
        message: String,
    },
    /// Rendering failed for another reason (a bad filter argument, a type error).
    #[error("step `{step}`: {} failed: {message}", describe(.field))]
    Render {
        /// Step id.
        step: String,
        /// Field.
        field: String,
        /// minijinja's explanation.
        message: String,
    },
    /// The template called `fail("...")`.
    #[error("step `{step}`: {message}")]
    Failed {
        /// Step id.
        step: String,
        /// Field.
        field: String,
        /// The author's message.
        message: String,
    },
    /// The template did more work than [`TEMPLATE_FUEL`] allows (loops over
    /// loops, usually).
    #[error(
        "step `{step}`: {} ran out of fuel: it took more than {} template \
         instructions (nested loops?)",
        describe(.field),
        limits::thousands(TEMPLATE_FUEL)
    )]
    OutOfFuel {
        /// Step id.
        step: String,
        /// Field.
        field: String,
    },
    /// The rendered text passed [`TEMPLATE_OUTPUT_CAP`].
    #[error(
        "step `{step}`: {} renders more than the {} limit",
        describe(.field),
        limits::human_size(TEMPLATE_OUTPUT_CAP)
    )]
    TooLarge {
        /// Step id.
        step: String,
        /// Field.
        field: String,
    },
    /// Rendering was stopped from outside (the run was cancelled).
    #[error("step `{step}`: rendering {} was stopped", describe(.field))]
    Stopped {
        /// Step id.
        step: String,
        /// Field.
        field: String,
    },
    /// A rendered `edit.file` path escapes the workspace.
    #[error("step `{step}`: {source}")]
    EditPath {
        /// Step id.
        step: String,
        /// Why the path was refused.
        source: EditPathError,
    },
}

/// "`when` condition" or "template of `prompt`".
fn describe(field: &str) -> String {
    if field == "when" {
        "`when` condition".to_owned()
    } else {
        format!("template of `{field}`")
    }
}

/// The template engine: a minijinja environment with strict undefined
/// behaviour and the agentls filters. Cheap to share; create one per session.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    /// The environment with `tail`, `head`, `code`, `shell_quote` and `fail()`.
    pub fn new() -> Templates {
        let mut env = Environment::new();
        // Strict: a typo in `steps.tset.output` must fail the step, not send
        // an empty string to a model or a shell.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Edits write the rendered text to files; dropping the final newline
        // would change every file it touches.
        env.set_keep_trailing_newline(true);
        // Error ranges let the validator point inside the template.
        env.set_debug(true);
        // A workflow comes from a repository: its templates must end, and
        // soon, whatever they loop over.
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.add_filter("tail", |v: &Value, n: Option<usize>| filters::tail(v, n));
        env.add_filter("head", |v: &Value, n: Option<usize>| filters::head(v, n));
        env.add_filter("code", |v: &Value| filters::code(v));
        env.add_filter("shell_quote", |v: &Value| filters::shell_quote(v));
        env.add_function("fail", filters::fail);
        Templates { env }
    }

    pub(crate) fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// Render `template` (the step's `field`) over `ctx`.
    pub fn render(
        &self,
        step: &str,
        field: &str,
        template: &str,
        ctx: &Context,
    ) -> Result<String, TemplateError> {
        let root = Value::from_serialize(ctx);
        self.render_value(step, field, template, &root, &AtomicBool::new(false))
    }

    /// Renders into a buffer that refuses to grow past
    /// [`TEMPLATE_OUTPUT_CAP`] and fails the next write once `stop` is set.
    fn render_value(
        &self,
        step: &str,
        field: &str,
        template: &str,
        root: &Value,
        stop: &AtomicBool,
    ) -> Result<String, TemplateError> {
        let compiled = self
            .env
            .template_from_str(template)
            .map_err(|e| syntax_error(step, field, template, &e))?;
        let mut out = limits::CappedOutput::new(TEMPLATE_OUTPUT_CAP, stop);
        match compiled.render_captured_to(root, &mut out) {
            Ok(_) => Ok(out.into_string()),
            Err(e) => Err(match out.refused() {
                Some(limits::Refused::TooLarge) => TemplateError::TooLarge {
                    step: step.to_owned(),
                    field: field.to_owned(),
                },
                Some(limits::Refused::Stopped) => TemplateError::Stopped {
                    step: step.to_owned(),
                    field: field.to_owned(),
                },
                None => {
                    let vars = compiled.undeclared_variables(true);
                    self.runtime_error(step, field, template, &e, &vars, root)
                }
            }),
        }
    }

    /// Evaluate the `when` expression `expr`: true means the step runs.
    pub fn eval_when(&self, step: &str, expr: &str, ctx: &Context) -> Result<bool, TemplateError> {
        let field = "when";
        let root = Value::from_serialize(ctx);
        if closing_braces_in_expression(expr).is_some() {
            return Err(TemplateError::Syntax {
                step: step.to_owned(),
                field: field.to_owned(),
                message: braces_message(),
            });
        }
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| syntax_error(step, field, expr, &e))?;
        compiled.eval(&root).map(|v| v.is_true()).map_err(|e| {
            let vars = compiled.undeclared_variables(true);
            self.runtime_error(step, field, expr, &e, &vars, &root)
        })
    }

    /// Render every template of `step` and return its kind with the rendered
    /// strings; a rendered `edit.file` path is checked again, since a template
    /// can produce any path.
    pub fn render_kind(&self, step: &Step, ctx: &Context) -> Result<StepKind, TemplateError> {
        self.render_kind_until(step, ctx, &AtomicBool::new(false))
    }

    /// [`Templates::render_kind`] that gives up with
    /// [`TemplateError::Stopped`] at the next write of output once `stop`
    /// is set (by a cancelled run, from another thread).
    pub fn render_kind_until(
        &self,
        step: &Step,
        ctx: &Context,
        stop: &AtomicBool,
    ) -> Result<StepKind, TemplateError> {
        let id = step.id.as_str();
        let root = Value::from_serialize(ctx);
        let r = |field: &str, t: &str| {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(TemplateError::Stopped {
                    step: id.to_owned(),
                    field: field.to_owned(),
                });
            }
            self.render_value(id, field, t, &root, stop)
        };
        Ok(match &step.kind {
            StepKind::Run { command, env } => StepKind::Run {
                command: r("run", command)?,
                env: env
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), r(&format!("env.{k}"), v)?)))
                    .collect::<Result<_, TemplateError>>()?,
            },
            StepKind::Prompt {
                prompt,
                providers,
                pick,
            } => StepKind::Prompt {
                prompt: r("prompt", prompt)?,
                providers: providers.clone(),
                pick: *pick,
            },
            StepKind::Edit(EditSpec::Selection { text }) => StepKind::Edit(EditSpec::Selection {
                text: r("edit.selection", text)?,
            }),
            StepKind::Edit(EditSpec::File { path, text }) => {
                let path = r("edit.file", path)?;
                check_edit_path(&path).map_err(|source| TemplateError::EditPath {
                    step: id.to_owned(),
                    source,
                })?;
                StepKind::Edit(EditSpec::File {
                    path,
                    text: r("edit.text", text)?,
                })
            }
            StepKind::Edit(EditSpec::Patch { patch }) => StepKind::Edit(EditSpec::Patch {
                patch: r("edit.patch", patch)?,
            }),
            StepKind::Approve { message } => StepKind::Approve {
                message: message.as_deref().map(|m| r("approve", m)).transpose()?,
            },
            StepKind::Agent(spec) => StepKind::Agent(crate::model::AgentSpec {
                task: r("agent", &spec.task)?,
                ..spec.clone()
            }),
        })
    }

    fn runtime_error(
        &self,
        step: &str,
        field: &str,
        source: &str,
        err: &minijinja::Error,
        vars: &HashSet<String>,
        root: &Value,
    ) -> TemplateError {
        let (step, field) = (step.to_owned(), field.to_owned());
        if err.kind() == ErrorKind::OutOfFuel {
            return TemplateError::OutOfFuel { step, field };
        }
        if let Some(failure) = user_failure(err) {
            return TemplateError::Failed {
                step,
                field,
                message: failure,
            };
        }
        if err.kind() == ErrorKind::UndefinedError {
            let globals: HashSet<String> = self.env.globals().map(|(k, _)| k.to_owned()).collect();
            if let Some(variable) = undefined_variable(err, source, vars, root, &globals) {
                return TemplateError::Undefined {
                    step,
                    field,
                    variable,
                };
            }
        }
        TemplateError::Render {
            step,
            field,
            message: explain(err, source),
        }
    }
}

/// The offset of a `}}` outside string literals in a `when` expression.
///
/// minijinja 2.24 panics ("empty lexer stack") when an expression contains
/// `}}` (found by this crate's fuzz test), so such expressions are refused
/// before they reach it. The usual cause is writing `{{ ... }}` around a
/// condition, which the message explains.
pub(crate) fn closing_braces_in_expression(expr: &str) -> Option<usize> {
    let b = expr.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Statements that load other templates. minijinja parses them because its
/// `fuel` needs the `multi_template` feature, but a workflow's templates have
/// no other templates to load: the validator refuses them (`block` too, which
/// only means something with `extends`).
const LOADING_STATEMENTS: &[&str] = &["extends", "include", "import", "from", "block"];

/// The offset and name of the first statement in `template` that loads
/// another template (`{% include "x" %}`), outside `{% raw %}` blocks and
/// comments.
pub(crate) fn loading_statement(template: &str) -> Option<(usize, &'static str)> {
    let mut rest = 0;
    while let Some(i) = template.get(rest..)?.find("{") {
        let at = rest + i;
        let tail = &template[at..];
        if tail.starts_with("{#") {
            rest = at + tail.find("#}").map_or(tail.len(), |e| e + 2);
            continue;
        }
        if !tail.starts_with("{%") {
            rest = at + 1;
            continue;
        }
        let inner = tail[2..].trim_start_matches(['-', '+']).trim_start();
        let word: String = inner
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if word == "raw" {
            rest = at + tail.find("endraw").map_or(tail.len(), |e| e + 6);
            continue;
        }
        if let Some(name) = LOADING_STATEMENTS.iter().find(|s| **s == word) {
            return Some((at, name));
        }
        rest = at + 2;
    }
    None
}

/// Why a template that loads others is refused.
pub(crate) fn loading_message(statement: &str) -> String {
    format!(
        "`{{% {statement} %}}` is not supported: a workflow template cannot load \
         other templates (use a macro in the same template)"
    )
}

/// Why an expression with `}}` is refused.
pub(crate) fn braces_message() -> String {
    "`}}` cannot appear in a condition: `when` is a bare expression such as \
     `steps.test.exit_code != 0`, without `{{ }}` (to close two dicts, write `} }`)"
        .to_owned()
}

/// The author's `fail()` message, if that is what stopped rendering.
fn user_failure(err: &minijinja::Error) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = cur {
        if let Some(f) = e.downcast_ref::<filters::UserFailure>() {
            return Some(f.0.clone());
        }
        cur = e.source();
    }
    None
}

fn syntax_error(step: &str, field: &str, source: &str, err: &minijinja::Error) -> TemplateError {
    TemplateError::Syntax {
        step: step.to_owned(),
        field: field.to_owned(),
        message: explain(err, source),
    }
}

/// minijinja's kind and detail, plus the template line when it has several.
pub(crate) fn explain(err: &minijinja::Error, source: &str) -> String {
    let mut msg = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    if let (Some(line), true) = (err.line(), source.contains('\n')) {
        msg.push_str(&format!(" (template line {line})"));
    }
    msg
}

/// Name the undefined variable. minijinja reports only a byte range, which
/// often covers part of the expression, so: find which of the template's
/// variables does not resolve in the context, preferring one written at the
/// error's range, else the first in the text.
fn undefined_variable(
    err: &minijinja::Error,
    source: &str,
    vars: &HashSet<String>,
    root: &Value,
    globals: &HashSet<String>,
) -> Option<String> {
    let mut missing: Vec<(usize, &String)> = vars
        .iter()
        .filter(|v| {
            let first = v.split('.').next().unwrap_or("");
            !NON_CONTEXT_NAMES.contains(&first) && !globals.contains(first)
        })
        .filter(|v| !resolves(root, v))
        .map(|v| (find_reference(source, v).unwrap_or(usize::MAX), v))
        .collect();
    missing.sort();
    if let Some(range) = err.range() {
        let hit = missing
            .iter()
            .find(|(at, v)| *at != usize::MAX && *at < range.end && range.start < at + v.len());
        if let Some((_, v)) = hit {
            return Some((*v).clone());
        }
    }
    if let Some((_, v)) = missing.first() {
        return Some((*v).clone());
    }
    // A variable local to the template (a loop variable's field, say): the
    // text at the error's range is the best name there is.
    let text = err.range().and_then(|r| source.get(r))?.trim_matches('.');
    let is_path = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    is_path.then(|| text.to_owned())
}

/// Whether a dotted path is defined in `root`.
fn resolves(root: &Value, path: &str) -> bool {
    let mut cur = root.clone();
    for seg in path.split('.') {
        match cur.get_attr(seg) {
            Ok(v) if !v.is_undefined() => cur = v,
            _ => return false,
        }
    }
    true
}

/// Byte offset of the first occurrence of `path` in `source` as a whole
/// reference (not part of a longer name).
pub(crate) fn find_reference(source: &str, path: &str) -> Option<usize> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = source.get(from..)?.find(path) {
        let at = from + i;
        let before = source[..at].chars().next_back();
        let after = source[at + path.len()..].chars().next();
        let starts = before.is_none_or(|c| !is_name(c) && c != '.');
        let ends = after.is_none_or(|c| !is_name(c));
        if starts && ends {
            return Some(at);
        }
        from = at + path.len().max(1);
    }
    None
}

#[cfg(test)]
mod tests;

//! Static checks of templates and `when` expressions: they compile, and every
//! variable they name exists by the time the step runs.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::step::StepIdent;
use super::value::{did_you_mean, map_into_source, Reporter};
use super::TemplateUse;
use crate::diagnostic::DiagnosticCode;
use crate::model::ParamSpec;
use crate::template::{
    braces_message, closing_braces_in_expression, explain, find_reference, loading_message,
    loading_statement, Templates, FILE_FIELDS, MAP_METHODS, NON_CONTEXT_NAMES, ROOTS, STEP_FIELDS,
    WORKSPACE_FIELDS,
};

struct Scope<'a> {
    ids: HashMap<&'a str, usize>,
    id_list: Vec<&'a str>,
    params: Vec<&'a str>,
    globals: HashSet<String>,
}

pub(super) fn check(
    r: &mut Reporter<'_>,
    templates: &Templates,
    uses: &[TemplateUse],
    idents: &[StepIdent],
    params: &[ParamSpec],
) {
    let mut ids = HashMap::new();
    for (i, ident) in idents.iter().enumerate() {
        if let Some(id) = ident.id.as_deref() {
            ids.entry(id).or_insert(i);
        }
    }
    let scope = Scope {
        id_list: idents.iter().filter_map(|i| i.id.as_deref()).collect(),
        ids,
        params: params.iter().map(|p| p.name.as_str()).collect(),
        globals: templates
            .env()
            .globals()
            .map(|(k, _)| k.to_owned())
            .collect(),
    };
    for u in uses {
        if u.expression {
            if let Some(at) = closing_braces_in_expression(&u.value) {
                let span = map_into_source(r.text, &u.span, &u.value, at..at + 2)
                    .unwrap_or_else(|| u.span.clone());
                r.error(
                    DiagnosticCode::Template,
                    span,
                    format!("invalid condition in `{}`: {}", u.field, braces_message()),
                );
                continue;
            }
        }
        if !u.expression {
            if let Some((at, statement)) = loading_statement(&u.value) {
                let span = map_into_source(r.text, &u.span, &u.value, at..at + 2)
                    .unwrap_or_else(|| u.span.clone());
                r.error(
                    DiagnosticCode::Template,
                    span,
                    format!(
                        "invalid template in `{}`: {}",
                        u.field,
                        loading_message(statement)
                    ),
                );
                continue;
            }
        }
        let label = idents
            .get(u.step)
            .and_then(|i| i.id.as_deref())
            .map(|i| format!("step `{i}`"))
            .unwrap_or_else(|| "this step".to_owned());
        let compiled = if u.expression {
            templates
                .env()
                .compile_expression(&u.value)
                .map(|e| e.undeclared_variables(true))
        } else {
            templates
                .env()
                .template_from_str(&u.value)
                .map(|t| t.undeclared_variables(true))
        };
        let vars = match compiled {
            Ok(vars) => vars,
            Err(e) => {
                let mapped = e
                    .range()
                    .and_then(|inner| map_into_source(r.text, &u.span, &u.value, inner));
                // With an exact position the template's own line number is
                // noise; without one it is the best pointer there is.
                let explained = match mapped {
                    Some(_) => explain(&e, ""),
                    None => explain(&e, &u.value),
                };
                let span = mapped.unwrap_or_else(|| u.span.clone());
                let what = if u.expression {
                    "condition"
                } else {
                    "template"
                };
                r.error(
                    DiagnosticCode::Template,
                    span,
                    format!("invalid {what} in `{}`: {explained}", u.field),
                );
                continue;
            }
        };
        let mut vars: Vec<String> = vars.into_iter().collect();
        vars.sort_by_key(|v| (find_reference(&u.value, v).unwrap_or(usize::MAX), v.clone()));
        let mut reported = HashSet::new();
        for var in vars {
            if let Some((prefix, code, message)) = check_var(&scope, u, &label, &var) {
                if reported.insert(prefix.clone()) {
                    let span = locate(r.text, u, &prefix);
                    r.error(code, span, message);
                }
            }
        }
    }
}

/// The file span of the first reference to `prefix` in the template, or the
/// whole string when it cannot be mapped exactly.
fn locate(text: &str, u: &TemplateUse, prefix: &str) -> Range<usize> {
    find_reference(&u.value, prefix)
        .and_then(|at| map_into_source(text, &u.span, &u.value, at..at + prefix.len()))
        .unwrap_or_else(|| u.span.clone())
}

/// "; did you mean `x`?" when a candidate is close, else `otherwise`.
fn hint(word: &str, candidates: &[&str], otherwise: String) -> String {
    match did_you_mean(word, candidates) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => otherwise,
    }
}

/// A problem with one variable path: the prefix to point at, and the message.
fn check_var(
    scope: &Scope<'_>,
    u: &TemplateUse,
    label: &str,
    var: &str,
) -> Option<(String, DiagnosticCode, String)> {
    let segs: Vec<&str> = var.split('.').collect();
    let field = &u.field;
    let unknown_field = |root: &str, name: &str, fields: &[&str]| {
        (!fields.contains(&name) && !MAP_METHODS.contains(&name)).then(|| {
            (
                format!("{root}.{name}"),
                DiagnosticCode::UnknownVariable,
                format!(
                    "{label}: `{root}` has no field `{name}` in `{field}`{}",
                    hint(
                        name,
                        fields,
                        format!("; its fields are {}", fields.join(", "))
                    )
                ),
            )
        })
    };
    match (segs[0], segs.get(1).copied()) {
        ("steps", Some(id)) if !MAP_METHODS.contains(&id) => {
            let prefix = format!("steps.{id}");
            let problem = match scope.ids.get(id) {
                None => Some(format!(
                    "{label} refers to unknown step `{id}` in `{field}`{}",
                    hint(id, &scope.id_list, String::new())
                )),
                Some(&j) if j == u.step => Some(format!(
                    "{label} refers to its own output in `{field}`; a step's output exists only after it ran"
                )),
                Some(&j) if j > u.step => Some(format!(
                    "{label} refers to step `{id}` in `{field}`, which runs later: it has no output yet"
                )),
                Some(_) => None,
            };
            if let Some(message) = problem {
                return Some((prefix, DiagnosticCode::StepReference, message));
            }
            let name = segs.get(2)?;
            unknown_field(&prefix, name, STEP_FIELDS)
        }
        ("params", Some(name)) if !MAP_METHODS.contains(&name) => (!scope.params.contains(&name))
            .then(|| {
                (
                    format!("params.{name}"),
                    DiagnosticCode::UnknownVariable,
                    format!(
                        "{label} uses unknown parameter `{name}` in `{field}`{}",
                        hint(
                            name,
                            &scope.params,
                            "; declare it under `[params]`".to_owned()
                        )
                    ),
                )
            }),
        ("file", Some(name)) => unknown_field("file", name, FILE_FIELDS),
        ("workspace", Some(name)) => unknown_field("workspace", name, WORKSPACE_FIELDS),
        (root, _) if ROOTS.contains(&root) => None,
        (root, _) if NON_CONTEXT_NAMES.contains(&root) || scope.globals.contains(root) => None,
        (root, _) => Some((
            root.to_owned(),
            DiagnosticCode::UnknownVariable,
            format!(
                "{label} uses unknown variable `{root}` in `{field}`{}",
                hint(
                    root,
                    ROOTS,
                    format!("; templates can use {}", ROOTS.join(", "))
                )
            ),
        )),
    }
}

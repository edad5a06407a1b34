//! `[[steps]]`: ids, common keys, the four kinds and their keys.

use std::collections::HashMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::value::{did_you_mean, Reporter};
use super::{refs, TemplateUse};
use crate::diagnostic::DiagnosticCode;
use crate::duration::parse_duration;
use crate::model::{
    is_identifier, AgentSpec, AllowRules, EditSpec, ParamSpec, Pick, Step, StepId, StepKind,
    MAX_RETRIES,
};
use crate::paths::check_edit_path;
use crate::template::Templates;

const STEP_KEYS: &[&str] = &[
    "id",
    "title",
    "when",
    "timeout",
    "retries",
    "allow_failure",
    "run",
    "env",
    "prompt",
    "provider",
    "pick",
    "edit",
    "approve",
    "agent",
    "tools",
    "allow",
    "max_turns",
    "token_budget",
];
const KINDS: &[&str] = &["run", "prompt", "edit", "approve", "agent"];
const EDIT_KEYS: &[&str] = &["selection", "file", "text", "patch"];
const EDIT_FORMS: &[&str] = &["selection", "file", "patch"];
/// Keys that belong to some kinds only, with those kinds.
const KIND_KEYS: &[(&str, &[&str])] = &[
    ("env", &["run"]),
    ("provider", &["prompt", "agent"]),
    ("pick", &["prompt"]),
    ("tools", &["agent"]),
    ("allow", &["agent"]),
    ("max_turns", &["agent"]),
    ("token_budget", &["agent"]),
];
const ALLOW_KEYS: &[&str] = &["run", "edit"];

/// What the id check needs about a step, even one that failed to parse.
pub(super) struct StepIdent {
    pub id: Option<String>,
}

pub(super) fn parse_steps(
    r: &mut Reporter<'_>,
    key_span: Range<usize>,
    value: &Spanned<DeValue<'_>>,
    params: &[ParamSpec],
    templates: &Templates,
) -> Vec<Step> {
    let DeValue::Array(items) = value.get_ref() else {
        r.error(
            DiagnosticCode::WrongType,
            value.span(),
            "`steps` must be an array of tables: write each step as a `[[steps]]` table".to_owned(),
        );
        return Vec::new();
    };
    if items.iter().next().is_none() {
        r.error(
            DiagnosticCode::MissingKey,
            key_span,
            "a workflow needs at least one step".to_owned(),
        );
        return Vec::new();
    }
    let mut steps = Vec::new();
    let mut idents = Vec::new();
    let mut uses = Vec::new();
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let DeValue::Table(table) = item.get_ref() else {
            r.error(
                DiagnosticCode::WrongType,
                item.span(),
                "each step must be a table: write it as a `[[steps]]` table".to_owned(),
            );
            idents.push(StepIdent { id: None });
            continue;
        };
        let id = step_id(r, table, item.span(), &mut first_seen);
        let step = parse_step(r, table, item.span(), id.clone(), index, &mut uses);
        idents.push(StepIdent {
            id: id.map(|i| i.as_str().to_owned()),
        });
        steps.extend(step);
    }
    refs::check(r, templates, &uses, &idents, params);
    steps
}

fn step_id(
    r: &mut Reporter<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
    first_seen: &mut HashMap<String, usize>,
) -> Option<StepId> {
    let Some(v) = table.get("id") else {
        r.error(
            DiagnosticCode::MissingKey,
            span,
            "step has no `id`: add e.g. `id = \"test\"` so later steps can use its output"
                .to_owned(),
        );
        return None;
    };
    let text = r.string("id", v)?;
    let id = match StepId::new(&text) {
        Ok(id) => id,
        Err(e) => {
            r.error(DiagnosticCode::InvalidId, v.span(), e.to_string());
            return None;
        }
    };
    if let Some(first) = first_seen.get(&text) {
        let line = r.line_of(*first);
        r.error(
            DiagnosticCode::DuplicateId,
            v.span(),
            format!("duplicate step id `{text}` (first used on line {line})"),
        );
    } else {
        first_seen.insert(text, v.span().start);
    }
    Some(id)
}

fn parse_step(
    r: &mut Reporter<'_>,
    t: &DeTable<'_>,
    span: Range<usize>,
    id: Option<StepId>,
    index: usize,
    uses: &mut Vec<TemplateUse>,
) -> Option<Step> {
    r.unknown_keys(t, STEP_KEYS, "a step");
    let label = id
        .as_ref()
        .map(|i| format!("step `{i}`"))
        .unwrap_or_else(|| "this step".to_owned());
    let mut note = |field: &str, value: &str, span: Range<usize>, expression: bool| {
        uses.push(TemplateUse {
            step: index,
            field: field.to_owned(),
            value: value.to_owned(),
            span,
            expression,
        })
    };

    let title = t.get("title").and_then(|v| r.string("title", v));
    let when = t.get("when").and_then(|v| {
        let s = r.string("when", v)?;
        note("when", &s, v.span(), true);
        Some(s)
    });
    let timeout = t.get("timeout").and_then(|v| timeout(r, v));
    let retries = t.get("retries").and_then(|v| retries(r, v)).unwrap_or(0);
    let allow_failure = t
        .get("allow_failure")
        .and_then(|v| r.boolean("allow_failure", v))
        .unwrap_or(false);

    let present: Vec<(&Spanned<_>, &Spanned<DeValue<'_>>)> = t
        .iter()
        .filter(|(k, _)| KINDS.contains(&k.get_ref().as_ref()))
        .collect();
    let (kind_key, kind_value) = match present.as_slice() {
        [] => {
            r.error(
                DiagnosticCode::StepKind,
                span,
                format!("{label} does nothing: give it exactly one of `run`, `prompt`, `edit`, `approve` or `agent`"),
            );
            return None;
        }
        [one] => *one,
        many => {
            let mut sorted = many.to_vec();
            sorted.sort_by_key(|(k, _)| k.span().start);
            let first: &str = sorted[0].0.get_ref();
            for (k, _) in &sorted[1..] {
                let other: &str = k.get_ref();
                r.error(
                    DiagnosticCode::StepKind,
                    k.span(),
                    format!("{label} has both `{first}` and `{other}`; a step does one thing: split it into two steps"),
                );
            }
            return None;
        }
    };
    let kind_name: &str = kind_key.get_ref();
    for (key, _) in t.iter() {
        let key_name: &str = key.get_ref();
        if let Some((_, owners)) = KIND_KEYS.iter().find(|(k, _)| *k == key_name) {
            if !owners.contains(&kind_name) {
                let owners = owners
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                r.warning(
                    DiagnosticCode::Ignored,
                    key.span(),
                    format!("`{key_name}` applies only to {owners} steps; it is ignored on a `{kind_name}` step"),
                );
            }
        }
    }

    let kind = match kind_name {
        "run" => {
            let command = r.string("run", kind_value)?;
            note("run", &command, kind_value.span(), false);
            let env = match t.get("env") {
                Some(v) => env(r, v, &mut note)?,
                None => Vec::new(),
            };
            StepKind::Run { command, env }
        }
        "prompt" => {
            let prompt = r.string("prompt", kind_value)?;
            note("prompt", &prompt, kind_value.span(), false);
            let providers = t
                .get("provider")
                .map(|v| providers(r, v))
                .unwrap_or_default();
            let pick = t.get("pick").and_then(|v| pick(r, v)).unwrap_or_default();
            StepKind::Prompt {
                prompt,
                providers,
                pick,
            }
        }
        "edit" => StepKind::Edit(edit(r, kind_value, &mut note)?),
        "agent" => {
            let task = r.string("agent", kind_value)?;
            note("agent", &task, kind_value.span(), false);
            StepKind::Agent(agent(r, t, task)?)
        }
        _ => {
            let message = match kind_value.get_ref() {
                DeValue::String(s) => {
                    note("approve", s, kind_value.span(), false);
                    Some(s.to_string())
                }
                DeValue::Boolean(true) => None,
                DeValue::Boolean(false) => {
                    r.error(
                        DiagnosticCode::InvalidValue,
                        kind_value.span(),
                        "`approve = false` makes a step that does nothing: remove the step, or give it a `when`".to_owned(),
                    );
                    return None;
                }
                _ => {
                    r.error(
                        DiagnosticCode::WrongType,
                        kind_value.span(),
                        "`approve` must be a message string or `true`".to_owned(),
                    );
                    return None;
                }
            };
            if let Some((k, _)) = t.get_key_value("retries") {
                r.warning(
                    DiagnosticCode::Ignored,
                    k.span(),
                    "`retries` has no effect on an `approve` step: a rejection is not retried"
                        .to_owned(),
                );
            }
            StepKind::Approve { message }
        }
    };
    Some(Step {
        id: id?,
        title,
        when,
        timeout,
        retries,
        allow_failure,
        kind,
        range: r.range(span),
    })
}

/// The keys of an `agent` step besides its task.
fn agent(r: &mut Reporter<'_>, t: &DeTable<'_>, task: String) -> Option<AgentSpec> {
    let provider = match t.get("provider") {
        None => None,
        Some(v) => {
            let name = r.string("provider", v)?;
            if name.trim().is_empty() {
                r.error(
                    DiagnosticCode::InvalidValue,
                    v.span(),
                    "empty provider name".to_owned(),
                );
                return None;
            }
            Some(name)
        }
    };
    let tools = match t.get("tools") {
        None => AgentSpec::DEFAULT_TOOLS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        Some(v) => {
            let list = r.strings("tools", v)?;
            let mut tools = Vec::new();
            for name in list {
                let text: &str = name.get_ref();
                if AgentSpec::TOOLS.contains(&text) {
                    if !tools.iter().any(|t: &String| t == text) {
                        tools.push(text.to_owned());
                    }
                } else {
                    let hint = did_you_mean(text, AgentSpec::TOOLS)
                        .map(|s| format!("; did you mean \"{s}\"?"))
                        .unwrap_or_default();
                    r.error(
                        DiagnosticCode::InvalidValue,
                        name.span(),
                        format!(
                            "unknown tool \"{text}\"{hint} (the tools: {})",
                            AgentSpec::TOOLS.join(", ")
                        ),
                    );
                }
            }
            tools
        }
    };
    let allow = match t.get("allow") {
        None => AllowRules::default(),
        Some(v) => {
            let table = r.table(
                "allow",
                v,
                "`allow = { run = [\"cargo test*\"], edit = [\"src/**\"] }`",
            )?;
            r.unknown_keys(table, ALLOW_KEYS, "`allow`");
            let list = |r: &mut Reporter<'_>, key: &str| -> Vec<String> {
                table
                    .get(key)
                    .and_then(|v| r.strings(&format!("allow.{key}"), v))
                    .unwrap_or_default()
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect()
            };
            AllowRules {
                run: list(r, "run"),
                edit: list(r, "edit"),
            }
        }
    };
    // Both bounds are checked before giving up, so one pass names both.
    let max_turns = match t.get("max_turns") {
        None => Some(AgentSpec::DEFAULT_MAX_TURNS),
        Some(v) => match r.integer("max_turns", v) {
            None => None,
            Some(n) => match u32::try_from(n) {
                Ok(n) if (1..=AgentSpec::MAX_TURNS).contains(&n) => Some(n),
                _ => {
                    r.error(
                        DiagnosticCode::OutOfRange,
                        v.span(),
                        format!(
                            "`max_turns` must be between 1 and {}, found {n}",
                            AgentSpec::MAX_TURNS
                        ),
                    );
                    None
                }
            },
        },
    };
    let token_budget = match t.get("token_budget") {
        None => Some(None),
        Some(v) => match r.integer("token_budget", v) {
            None => None,
            Some(n) => match u64::try_from(n) {
                Ok(n) if n > 0 => Some(Some(n)),
                _ => {
                    r.error(
                        DiagnosticCode::OutOfRange,
                        v.span(),
                        format!("`token_budget` must be a positive number of tokens, found {n}"),
                    );
                    None
                }
            },
        },
    };
    Some(AgentSpec {
        task,
        provider,
        tools,
        allow,
        max_turns: max_turns?,
        token_budget: token_budget?,
    })
}

fn timeout(r: &mut Reporter<'_>, v: &Spanned<DeValue<'_>>) -> Option<std::time::Duration> {
    if let DeValue::Integer(i) = v.get_ref() {
        r.error(
            DiagnosticCode::Duration,
            v.span(),
            format!(
                "`timeout` needs a unit: write \"{}s\" or \"{}m\"",
                i.as_str(),
                i.as_str()
            ),
        );
        return None;
    }
    let s = r.string("timeout", v)?;
    match parse_duration(&s) {
        Ok(d) => Some(d),
        Err(e) => {
            r.error(DiagnosticCode::Duration, v.span(), e.to_string());
            None
        }
    }
}

fn retries(r: &mut Reporter<'_>, v: &Spanned<DeValue<'_>>) -> Option<u32> {
    let n = r.integer("retries", v)?;
    match u32::try_from(n) {
        Ok(n) if n <= MAX_RETRIES => Some(n),
        _ => {
            r.error(
                DiagnosticCode::OutOfRange,
                v.span(),
                format!("`retries` must be between 0 and {MAX_RETRIES}, found {n}"),
            );
            None
        }
    }
}

type Note<'a> = dyn FnMut(&str, &str, Range<usize>, bool) + 'a;

fn env(
    r: &mut Reporter<'_>,
    v: &Spanned<DeValue<'_>>,
    note: &mut Note<'_>,
) -> Option<Vec<(String, String)>> {
    let t = r.table("env", v, "`env = { RUST_LOG = \"debug\" }`")?;
    let mut entries: Vec<_> = t.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut out = Vec::new();
    for (key, value) in entries {
        let name: &str = key.get_ref();
        if !is_identifier(name) {
            r.error(
                DiagnosticCode::InvalidId,
                key.span(),
                format!("invalid environment variable name `{name}`: use letters, digits and `_`"),
            );
            continue;
        }
        if let Some(s) = r.string(&format!("env.{name}"), value) {
            note(&format!("env.{name}"), &s, value.span(), false);
            out.push((name.to_owned(), s));
        }
    }
    Some(out)
}

fn providers(r: &mut Reporter<'_>, v: &Spanned<DeValue<'_>>) -> Vec<String> {
    let list = match v.get_ref() {
        DeValue::String(s) => vec![Spanned::new(v.span(), s.to_string())],
        DeValue::Array(_) => r.strings("provider", v).unwrap_or_default(),
        _ => {
            r.error(
                DiagnosticCode::WrongType,
                v.span(),
                "`provider` must be a provider name or an array of names, e.g. [\"claude\", \"gpt\"]".to_owned(),
            );
            return Vec::new();
        }
    };
    for p in &list {
        if p.get_ref().trim().is_empty() {
            r.error(
                DiagnosticCode::InvalidValue,
                p.span(),
                "empty provider name".to_owned(),
            );
        }
    }
    list.into_iter().map(Spanned::into_inner).collect()
}

fn pick(r: &mut Reporter<'_>, v: &Spanned<DeValue<'_>>) -> Option<Pick> {
    let s = r.string("pick", v)?;
    match s.as_str() {
        "first" => Some(Pick::First),
        "all" => Some(Pick::All),
        other => {
            let hint = did_you_mean(other, &["first", "all"])
                .map(|s| format!("; did you mean \"{s}\"?"))
                .unwrap_or_default();
            r.error(
                DiagnosticCode::InvalidValue,
                v.span(),
                format!("`pick` must be \"first\" or \"all\", found \"{other}\"{hint}"),
            );
            None
        }
    }
}

fn edit(r: &mut Reporter<'_>, v: &Spanned<DeValue<'_>>, note: &mut Note<'_>) -> Option<EditSpec> {
    let t = r.table("edit", v, "`edit = { patch = \"{{ steps.fix.output }}\" }`")?;
    r.unknown_keys(t, EDIT_KEYS, "`edit`");
    let mut forms: Vec<_> = t
        .iter()
        .filter(|(k, _)| EDIT_FORMS.contains(&k.get_ref().as_ref()))
        .collect();
    forms.sort_by_key(|(k, _)| k.span().start);
    let (key, value) = match forms.as_slice() {
        [] => {
            r.error(
                DiagnosticCode::StepKind,
                v.span(),
                "`edit` needs one of `selection`, `file` (with `text`) or `patch`".to_owned(),
            );
            return None;
        }
        [one] => *one,
        [first, rest @ ..] => {
            let a: &str = first.0.get_ref();
            for (k, _) in rest {
                let b: &str = k.get_ref();
                r.error(
                    DiagnosticCode::StepKind,
                    k.span(),
                    format!("`edit` has both `{a}` and `{b}`; use one edit per step"),
                );
            }
            return None;
        }
    };
    let form: &str = key.get_ref();
    let text = t.get_key_value("text");
    if form != "file" {
        if let Some((k, _)) = text {
            r.error(
                DiagnosticCode::UnknownKey,
                k.span(),
                format!("`text` goes with `file`; with `{form}` the value of `{form}` is the new content"),
            );
        }
    }
    let field = format!("edit.{form}");
    let s = r.string(&field, value)?;
    note(&field, &s, value.span(), false);
    Some(match form {
        "selection" => EditSpec::Selection { text: s },
        "patch" => EditSpec::Patch { patch: s },
        _ => {
            // A literal path is checked now; a templated one after rendering.
            if !s.contains("{{") && !s.contains("{%") {
                if let Err(e) = check_edit_path(&s) {
                    r.error(DiagnosticCode::EditPath, value.span(), e.to_string());
                }
            }
            let Some((_, text_value)) = text else {
                r.error(
                    DiagnosticCode::MissingKey,
                    v.span(),
                    "`edit` with `file` needs `text`, the file's new content".to_owned(),
                );
                return None;
            };
            let body = r.string("edit.text", text_value)?;
            note("edit.text", &body, text_value.span(), false);
            EditSpec::File {
                path: s,
                text: body,
            }
        }
    })
}

//! Code actions: every workflow with an `[applies]` table that fits the
//! request (the document's language, a non-empty selection, diagnostics in
//! the range) is offered, as a `quickfix` when it works on diagnostics and
//! a `refactor.rewrite` otherwise. Workflows without `[applies]` are
//! commands only (`agent.run`).
//!
//! Each action carries its `agent.run` command (the uri, the range and
//! those diagnostics) at once, for every client: resolving it later would
//! buy nothing (everything it needs is in the request), and Helix 25.07
//! resolves an action but then executes the command of the *unresolved*
//! one. `codeAction/resolve` stays for clients that ask: it returns the
//! action as it is, or fills in the command of an action that carries only
//! `data`. Clients without code action literals get bare commands.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

use super::commands;
use super::server::State;
use super::surface::inputs::language_of;

/// What a lazily resolved action remembers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    workflow: String,
    uri: Uri,
    range: Range,
    #[serde(default)]
    diagnostics: Vec<Diagnostic>,
}

pub fn code_actions(state: &State, params: CodeActionParams) -> Vec<CodeActionOrCommand> {
    let uri = params.text_document.uri;
    let session = state.owner(&uri);
    let language = {
        let docs = session.documents();
        match docs.get(uri.as_str()) {
            Some(open) => open.doc.language_id().to_owned(),
            None => super::convert::path(&uri)
                .map(|p| language_of(&p).to_owned())
                .unwrap_or_default(),
        }
    };
    let range = params.range;
    let has_selection = range.start != range.end;
    let diagnostics = params.context.diagnostics;
    let only = params.context.only;
    let caps = state.caps();
    let catalog = session.workflows();
    let mut offered: Vec<(CodeActionKind, &agentls_workflow::Workflow)> = catalog
        .workflows
        .values()
        .filter_map(|workflow| {
            let applies = &workflow.applies;
            if !applies.code_action {
                return None;
            }
            let language_fits =
                applies.languages.is_empty() || applies.languages.contains(&language);
            let fits = language_fits
                && (!applies.selection || has_selection)
                && (!applies.diagnostics || !diagnostics.is_empty());
            if !fits {
                return None;
            }
            let kind = if applies.diagnostics {
                CodeActionKind::QUICKFIX
            } else {
                CodeActionKind::REFACTOR_REWRITE
            };
            wanted(&kind, only.as_deref()).then_some((kind, workflow))
        })
        .collect();
    // Quick fixes first, then what needs a selection, then the rest.
    offered.sort_by_key(|(kind, w)| (*kind != CodeActionKind::QUICKFIX, !w.applies.selection));
    offered
        .into_iter()
        .map(|(kind, workflow)| {
            let data = Data {
                workflow: workflow.name.clone(),
                uri: uri.clone(),
                range,
                diagnostics: diagnostics.clone(),
            };
            let title = format!(
                "agentls: {}",
                workflow.title.as_deref().unwrap_or(&workflow.name)
            );
            if !caps.code_action_literals {
                return CodeActionOrCommand::Command(command(&title, &data));
            }
            let is_quickfix = kind == CodeActionKind::QUICKFIX;
            CodeActionOrCommand::CodeAction(CodeAction {
                title: title.clone(),
                kind: Some(kind),
                diagnostics: is_quickfix.then(|| diagnostics.clone()),
                command: Some(command(&title, &data)),
                ..CodeAction::default()
            })
        })
        .collect()
}

/// Returns an action offered above as it is (it has its command), or fills
/// in the command of one that carries only agentls's `data`.
pub fn resolve(mut action: CodeAction) -> Result<CodeAction> {
    if action.command.is_some() {
        return Ok(action);
    }
    let data = action
        .data
        .clone()
        .ok_or_else(|| Error::invalid_params("this code action has no agentls data to resolve"))?;
    let data: Data = serde_json::from_value(data).map_err(|e| {
        Error::invalid_params(format!("this code action's data is not agentls's: {e}"))
    })?;
    action.command = Some(command(&action.title, &data));
    Ok(action)
}

fn command(title: &str, data: &Data) -> Command {
    let mut argument = json!({
        "workflow": data.workflow,
        "uri": data.uri,
        "range": data.range,
    });
    if !data.diagnostics.is_empty() {
        argument["diagnostics"] = serde_json::to_value(&data.diagnostics).unwrap_or(Value::Null);
    }
    Command {
        title: title.to_owned(),
        command: commands::RUN.to_owned(),
        arguments: Some(vec![argument]),
    }
}

/// Whether `kind` is among the kinds the client asked for (`only`), which
/// are prefixes: `refactor` covers `refactor.rewrite`.
fn wanted(kind: &CodeActionKind, only: Option<&[CodeActionKind]>) -> bool {
    let Some(only) = only else { return true };
    only.iter().any(|want| {
        let (want, kind) = (want.as_str(), kind.as_str());
        want.is_empty() || kind == want || kind.starts_with(&format!("{want}."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_filters_by_hierarchical_kind() {
        let rewrite = CodeActionKind::REFACTOR_REWRITE;
        assert!(wanted(&rewrite, None));
        assert!(wanted(&rewrite, Some(&[CodeActionKind::REFACTOR])));
        assert!(!wanted(&rewrite, Some(&[CodeActionKind::QUICKFIX])));
        assert!(!wanted(
            &CodeActionKind::QUICKFIX,
            Some(&[CodeActionKind::new("quick")])
        ));
    }
}

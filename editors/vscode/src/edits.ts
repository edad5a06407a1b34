/**
 * Applies the server's `workspace/applyEdit` requests as vscode-languageclient
 * does (convert, refuse a document whose version moved on, apply), then keeps
 * the whole replaced text selected in each editor whose selection the edit
 * replaced (selection.ts says why).
 */

import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import {
  ApplyWorkspaceEditParams,
  ApplyWorkspaceEditRequest,
  ApplyWorkspaceEditResult,
  TextDocumentEdit,
} from 'vscode-languageclient';

import { replacedSelection } from './selection';

/** Registers the handler; call before `client.start()` so it replaces the library's. */
export function handleApplyEdit(client: LanguageClient): void {
  client.onRequest(ApplyWorkspaceEditRequest.type, (params) => applyEdit(client, params));
}

async function applyEdit(
  client: LanguageClient,
  params: ApplyWorkspaceEditParams,
): Promise<ApplyWorkspaceEditResult> {
  const edit = await client.protocol2CodeConverter.asWorkspaceEdit(params.edit);
  // The library's own safety check: the server may lag behind the editor.
  for (const change of params.edit.documentChanges ?? []) {
    if (TextDocumentEdit.is(change) && typeof change.textDocument.version === 'number') {
      const uri = client.protocol2CodeConverter.asUri(change.textDocument.uri).toString();
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
      if (document && document.version !== change.textDocument.version) {
        return { applied: false, failureReason: `${uri} changed since the server read it` };
      }
    }
  }
  const selections = plannedSelections(edit);
  const applied = await vscode.workspace.applyEdit(edit);
  if (applied) {
    for (const [editor, range] of selections) {
      const document = editor.document;
      editor.selection = new vscode.Selection(document.positionAt(range.start), document.positionAt(range.end));
    }
  }
  return { applied };
}

/** The selection each visible editor gets once `edit` is applied, computed before it is. */
function plannedSelections(edit: vscode.WorkspaceEdit): [vscode.TextEditor, { start: number; end: number }][] {
  const planned: [vscode.TextEditor, { start: number; end: number }][] = [];
  for (const [uri, textEdits] of edit.entries()) {
    for (const editor of vscode.window.visibleTextEditors) {
      const document = editor.document;
      if (document.uri.toString() !== uri.toString() || editor.selections.length !== 1) {
        continue;
      }
      const selection = {
        start: document.offsetAt(editor.selection.start),
        end: document.offsetAt(editor.selection.end),
      };
      // VS Code turns the new text's line ends into the document's.
      const eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
      const edits = textEdits.map((e) => ({
        start: document.offsetAt(e.range.start),
        end: document.offsetAt(e.range.end),
        newLength: e.newText.replace(/\r?\n/g, eol).length,
      }));
      const range = replacedSelection(selection, edits);
      if (range) {
        planned.push([editor, range]);
      }
    }
  }
  return planned;
}

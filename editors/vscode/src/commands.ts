/**
 * The palette and Runs view commands. Each one turns what the user picked
 * (a workflow, a run row, a step row, nothing) into one `agent.*` call built
 * by args.ts. Invoked from the palette, a command asks for the run it applies
 * to; invoked from a row, it uses that row.
 */

import * as vscode from 'vscode';

import {
  applyCall,
  approveCall,
  cancelCall,
  diffCall,
  discardCall,
  overrideCall,
  rejectCall,
  resumeCall,
  retryCall,
  runCall,
  runIdOf,
  RunTarget,
  skipCall,
  workflowsCall,
} from './args';
import type { Agent } from './extension';
import { OutputDocuments } from './output';
import {
  Action,
  parseDiff,
  parseRun,
  parseWorkflows,
  RunState,
  WorkflowInfo,
  workflowParams,
  WorktreeAction,
} from './protocol';
import { RunNode } from './runs';

/** The active editor's document and selection, in wire form. */
async function activeTarget(agent: Agent): Promise<RunTarget> {
  const editor = vscode.window.activeTextEditor;
  const client = agent.client;
  if (!editor || !client || editor.document.uri.scheme !== 'file') {
    return {};
  }
  const c2p = client.code2ProtocolConverter;
  const selection = editor.selection;
  const touching = vscode.languages
    .getDiagnostics(editor.document.uri)
    .filter((d) => d.range.intersection(selection) !== undefined);
  return {
    uri: c2p.asUri(editor.document.uri),
    range: c2p.asRange(selection),
    diagnostics: await c2p.asDiagnostics(touching),
  };
}

async function pickWorkflow(agent: Agent, uri?: string): Promise<WorkflowInfo | undefined> {
  const result = await agent.execute(workflowsCall(uri));
  if (result === undefined) {
    return undefined;
  }
  const workflows = parseWorkflows(result);
  if (workflows.length === 0) {
    void vscode.window.showInformationMessage(
      'Agent: no workflows found. Add one in .agentls/workflows/ or ~/.config/agentls/workflows/.',
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    workflows.map((workflow) => ({
      label: workflow.title ?? workflow.name,
      description: workflow.title ? workflow.name : undefined,
      detail: [workflow.description, workflow.source].filter((s) => s).join(' · ') || undefined,
      workflow,
    })),
    { title: 'Agent: Run Workflow', placeHolder: 'Workflow to run', matchOnDescription: true },
  );
  return picked?.workflow;
}

/** Asks for each required parameter that has no default; undefined when the user escapes. */
async function askParams(workflow: WorkflowInfo): Promise<Record<string, string> | undefined> {
  const params: Record<string, string> = {};
  for (const param of workflowParams(workflow)) {
    if (!param.required || param.default !== undefined) {
      continue;
    }
    const value = await vscode.window.showInputBox({
      title: `${workflow.title ?? workflow.name}: ${param.name}`,
      prompt: param.description ?? `Value of parameter ${param.name}`,
      ignoreFocusOut: true,
    });
    if (value === undefined) {
      return undefined;
    }
    params[param.name] = value;
  }
  return params;
}

/**
 * The run a command applies to: the row it was invoked on, else one the user
 * picks among the runs whose latest state lists `action`.
 */
async function pickRun(agent: Agent, action: Action, node?: RunNode): Promise<RunState | undefined> {
  if (node) {
    return agent.model.get(node.runId) ?? { runId: node.runId, status: 'running', steps: [], actions: [] };
  }
  const runs = agent.model.accepting(action);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(`Agent: no run to ${action}.`);
    return undefined;
  }
  if (runs.length === 1) {
    return runs[0];
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: run.workflow ?? run.runId,
      description: run.status,
      detail: run.runId,
      run,
    })),
    { title: `Agent: ${action}`, placeHolder: 'Run' },
  );
  return picked?.run;
}

/**
 * The worktree run a diff, apply or discard applies to: the row it was
 * invoked on, else one the user picks among the runs whose worktree accepts
 * `action`. When none is known, `{}`: the server takes the newest run and
 * says why when it cannot.
 */
async function pickWorktreeRun(
  agent: Agent,
  action: WorktreeAction,
  node?: RunNode,
): Promise<{ runId?: string } | undefined> {
  if (node) {
    return { runId: node.runId };
  }
  const runs = agent.model.worktreeAccepting(action);
  if (runs.length === 0) {
    return {};
  }
  if (runs.length === 1) {
    return { runId: runs[0].runId };
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: run.workflow ?? run.runId,
      description: `${run.status} · ${run.isolation?.branch ?? 'worktree'}`,
      detail: run.runId,
      run,
    })),
    { title: `Agent: ${action}`, placeHolder: 'Run isolated in a worktree' },
  );
  return picked ? { runId: picked.run.runId } : undefined;
}

function stepOf(node: RunNode | undefined): string | undefined {
  return node?.kind === 'step' ? node.step : undefined;
}

export function registerCommands(context: vscode.ExtensionContext, agent: Agent): void {
  const register = (name: string, handler: (...args: never[]) => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(name, handler));
  };

  register('agentls.runWorkflow', async (name?: string) => {
    const target = await activeTarget(agent);
    const workflow =
      typeof name === 'string' ? { name } : await pickWorkflow(agent, target.uri);
    if (!workflow) {
      return;
    }
    const params = await askParams(workflow);
    if (!params) {
      return;
    }
    const result = await agent.execute(runCall(workflow.name, target, params));
    const runId = runIdOf(result);
    if (runId) {
      agent.model.noteStarted(runId, workflow.name);
      agent.changed();
      agent.output.show();
    }
  });

  register('agentls.cancel', async (node?: RunNode) => {
    const run = await pickRun(agent, 'cancel', node);
    if (run) {
      await agent.execute(cancelCall(run.runId));
    }
  });

  register('agentls.retry', async (node?: RunNode) => {
    const run = await pickRun(agent, 'retry', node);
    if (run) {
      await agent.execute(retryCall(run.runId, stepOf(node)));
    }
  });

  register('agentls.resume', async (node?: RunNode) => {
    const run = await pickRun(agent, 'resume', node);
    if (run) {
      await agent.execute(resumeCall(run.runId));
    }
  });

  register('agentls.skip', async (node?: RunNode) => {
    const run = await pickRun(agent, 'skip', node);
    if (run) {
      await agent.execute(skipCall(run.runId, stepOf(node)));
    }
  });

  register('agentls.override', async (node?: RunNode) => {
    const run = await pickRun(agent, 'override', node);
    if (!run) {
      return;
    }
    const step = stepOf(node) ?? run.steps.find((s) => s.actions.includes('override'))?.id;
    if (!step) {
      void vscode.window.showInformationMessage('Agent: this run has no failed step to override.');
      return;
    }
    const output = await vscode.window.showInputBox({
      title: `Agent: override the output of ${step}`,
      prompt: 'Later steps see this text as the step’s output.',
      ignoreFocusOut: true,
    });
    if (output !== undefined) {
      await agent.execute(overrideCall(run.runId, step, output));
    }
  });

  register('agentls.approve', async (node?: RunNode) => {
    const run = await pickRun(agent, 'approve', node);
    if (run) {
      await agent.execute(approveCall(run.runId, stepOf(node)));
    }
  });

  register('agentls.reject', async (node?: RunNode) => {
    const run = await pickRun(agent, 'reject', node);
    if (!run) {
      return;
    }
    const reason = await vscode.window.showInputBox({
      title: 'Agent: reject',
      prompt: 'Why? (optional; the run records it)',
      ignoreFocusOut: true,
    });
    if (reason !== undefined) {
      await agent.execute(rejectCall(run.runId, stepOf(node), reason));
    }
  });

  register('agentls.showDiff', async (node?: RunNode) => {
    const run = await pickWorktreeRun(agent, 'diff', node);
    if (!run) {
      return;
    }
    const diff = parseDiff(await agent.execute(diffCall(run.runId)));
    if (!diff) {
      return;
    }
    if (diff.patch === '') {
      void vscode.window.showInformationMessage(`Agent: run ${diff.runId} changed nothing.`);
      return;
    }
    // The file the server wrote, else an untitled diff document with the patch.
    const document = diff.uri
      ? await vscode.workspace.openTextDocument(vscode.Uri.parse(diff.uri))
      : await vscode.workspace.openTextDocument({ language: 'diff', content: diff.patch });
    await vscode.window.showTextDocument(document, { preview: true });
  });

  register('agentls.apply', async (node?: RunNode) => {
    const run = await pickWorktreeRun(agent, 'apply', node);
    if (!run) {
      return;
    }
    // A refusal (a file the user changed where the run did) comes back as
    // an error naming the file; execute shows it. On success the server
    // says when the editor applied it (window/showMessage).
    const result = await agent.execute(applyCall(run.runId));
    const runId = run.runId ?? runIdOf(result);
    if (runId) {
      await agent.learnIsolation(runId);
    }
  });

  register('agentls.discard', async (node?: RunNode) => {
    const run = await pickWorktreeRun(agent, 'discard', node);
    if (!run) {
      return;
    }
    const which = run.runId ? `run ${run.runId}` : 'the newest run';
    const answer = await vscode.window.showWarningMessage(
      `Discard the changes of ${which}?`,
      { modal: true, detail: 'Its worktree, branch and directory are removed; this cannot be undone.' },
      'Discard',
    );
    if (answer !== 'Discard') {
      return;
    }
    const state = parseRun(await agent.execute(discardCall(run.runId)));
    if (state) {
      agent.model.setIsolation(state.runId, state.isolation ?? null);
      agent.changed();
    }
  });

  register('agentls.showOutput', async (node?: RunNode) => {
    if (!node) {
      agent.output.show();
      return;
    }
    const run = agent.model.get(node.runId);
    const step = stepOf(node);
    const label = [run?.workflow ?? 'run', node.runId.slice(0, 8), step].filter((s) => s).join('-');
    const document = await vscode.workspace.openTextDocument(
      OutputDocuments.uri(node.runId, step, label),
    );
    await vscode.window.showTextDocument(document, { preview: true, preserveFocus: false });
  });

  register('agentls.showRuns', async () => {
    await vscode.commands.executeCommand('agentls.runs.focus');
    await agent.refreshRuns();
  });

  register('agentls.refreshRuns', () => agent.refreshRuns());

  register('agentls.restartServer', () => agent.restart());
}

/**
 * The Runs tree view: one row per run, its steps below, with the inline
 * actions package.json attaches by context value. All decisions about what a
 * row says live in runs.ts; this file only converts them to VS Code objects.
 */

import * as vscode from 'vscode';

import { RunNode, RunsModel, runTreeItem, stepTreeItem, TreeItemSpec } from './runs';

export class RunsView implements vscode.TreeDataProvider<RunNode> {
  private readonly changed = new vscode.EventEmitter<RunNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly model: RunsModel) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: RunNode): RunNode[] {
    if (!node) {
      return this.model.list().map((run) => ({ kind: 'run', runId: run.runId }));
    }
    if (node.kind === 'run') {
      const run = this.model.get(node.runId);
      return (run?.steps ?? []).map((step) => ({ kind: 'step', runId: node.runId, step: step.id }));
    }
    return [];
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    const run = this.model.get(node.runId);
    if (!run) {
      return new vscode.TreeItem(node.runId);
    }
    if (node.kind === 'run') {
      const item = toTreeItem(runTreeItem(run));
      item.id = run.runId;
      item.command = {
        command: 'agentls.showOutput',
        title: 'Show Output',
        arguments: [node],
      };
      return item;
    }
    const step = run.steps.find((s) => s.id === node.step);
    if (!step) {
      return new vscode.TreeItem(node.step);
    }
    const item = toTreeItem(stepTreeItem(step));
    item.id = `${run.runId}/${step.id}`;
    item.command = { command: 'agentls.showOutput', title: 'Show Output', arguments: [node] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function toTreeItem(spec: TreeItemSpec): vscode.TreeItem {
  const item = new vscode.TreeItem(
    spec.label,
    spec.collapsible
      ? vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None,
  );
  item.description = spec.description;
  item.tooltip = spec.tooltip;
  item.contextValue = spec.contextValue;
  item.iconPath = new vscode.ThemeIcon(
    spec.icon,
    spec.color ? new vscode.ThemeColor(spec.color) : undefined,
  );
  return item;
}

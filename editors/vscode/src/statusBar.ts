/** The status bar item: the most urgent run at a glance; a click shows the Runs view. */

import * as vscode from 'vscode';

import { RunState } from './protocol';
import { statusBar } from './runs';

export class RunsStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('agentls.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Agent';
    this.item.command = 'agentls.showRuns';
    this.update([]);
    this.item.show();
  }

  update(runs: readonly RunState[]): void {
    const spec = statusBar(runs);
    this.item.text = spec.text;
    this.item.tooltip = spec.tooltip;
    this.item.backgroundColor = spec.background ? new vscode.ThemeColor(spec.background) : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}

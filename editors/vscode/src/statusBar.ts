/**
 * The status bar item: whether the server runs, then the most urgent run at a
 * glance; a click shows the Runs view.
 */

import * as vscode from 'vscode';

import { RunState } from './protocol';
import { ServerState, statusBar } from './runs';

export class RunsStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private runs: readonly RunState[] = [];
  private server: ServerState = 'starting';

  constructor() {
    this.item = vscode.window.createStatusBarItem('agentls.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Agent';
    this.item.command = 'agentls.showRuns';
    this.render();
    this.item.show();
  }

  update(runs: readonly RunState[]): void {
    this.runs = runs;
    this.render();
  }

  setServer(server: ServerState): void {
    this.server = server;
    this.render();
  }

  private render(): void {
    const spec = statusBar(this.runs, this.server);
    this.item.text = spec.text;
    this.item.tooltip = spec.tooltip;
    this.item.backgroundColor = spec.background ? new vscode.ThemeColor(spec.background) : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}

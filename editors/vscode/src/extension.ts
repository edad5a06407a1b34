/**
 * Entry point: wires the language client to the Runs model, the Output
 * channel, the Runs view, the status bar and the palette commands, and
 * restarts the server when a setting that shapes its process changes.
 */

import * as vscode from 'vscode';
import { LanguageClient, State } from 'vscode-languageclient/node';
import { ExecuteCommandRequest, ResponseError } from 'vscode-languageclient';

import { CommandCall, outputCall, runsCall, statusCall } from './args';
import { createClient } from './client';
import { registerCommands } from './commands';
import { OUTPUT_SCHEME, OutputDocuments, RunOutput } from './output';
import { isTrustRequired, Notification, parseOutput, parseRun, parseRunList } from './protocol';
import { RunsModel } from './runs';
import { RunsStatusBar } from './statusBar';
import { RunsView } from './runsView';
import { configurationChange, readSettings, RESTART_KEYS, Settings } from './settings';

function settings(): Settings {
  const config = vscode.workspace.getConfiguration('agentls');
  return readSettings((key) => config.get(key));
}

/** Everything the commands need: the running client and the views it feeds. */
export class Agent implements vscode.Disposable {
  client: LanguageClient | undefined;
  readonly model = new RunsModel();
  readonly output: RunOutput;
  readonly view: RunsView;
  readonly statusBar = new RunsStatusBar();

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = new RunOutput((runId) => this.model.get(runId)?.workflow);
    this.view = new RunsView(this.model);
  }

  async start(): Promise<void> {
    this.statusBar.setServer('starting');
    const client = createClient(this.context, settings(), settings);
    if (!client) {
      this.statusBar.setServer('stopped');
      return;
    }
    this.client = client;
    client.onDidChangeState(({ newState }) => {
      if (this.client === client) {
        this.statusBar.setServer(
          newState === State.Running ? 'ready' : newState === State.Starting ? 'starting' : 'stopped',
        );
      }
    });
    client.onNotification(Notification.output, (params: unknown) => {
      const output = parseOutput(params);
      if (output) {
        this.output.append(output);
      }
    });
    client.onNotification(Notification.state, (params: unknown) => {
      const run = parseRun(params);
      if (run) {
        const before = this.model.get(run.runId)?.status;
        this.model.applyState(run);
        this.changed();
        if (before !== run.status) {
          void this.learnIsolation(run.runId);
        }
      }
    });
    await client.start();
    await this.refreshRuns();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.stop();
    }
    this.output.reset();
  }

  async restart(): Promise<void> {
    await this.stop();
    this.model.clear();
    this.changed();
    await this.start();
  }

  /** Sends one `agent.*` command; an error is shown to the user and returned as undefined. */
  async execute(call: CommandCall): Promise<unknown> {
    if (!this.client) {
      void vscode.window.showErrorMessage(
        'Agent: the agentls language server is not running. Run "Agent: Restart Server" after installing it.',
      );
      return undefined;
    }
    try {
      return await this.client.sendRequest(ExecuteCommandRequest.type, {
        command: call.command,
        arguments: call.arguments,
      });
    } catch (error) {
      if (error instanceof ResponseError && isTrustRequired(error.code, error.data)) {
        return undefined;
      }
      const message = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(`Agent: ${call.command} failed: ${message}`);
      return undefined;
    }
  }

  /** Loads the workspace's run history into the Runs view. */
  async refreshRuns(): Promise<void> {
    const result = await this.execute(runsCall(undefined, 50));
    if (result !== undefined) {
      this.model.mergeHistory(parseRunList(result));
      this.changed();
      await Promise.all(this.model.isolationUnknown().map((run) => this.learnIsolation(run.runId)));
    }
  }

  /**
   * Reads a run's worktree from `agent.status` (`agent/state` and
   * `agent.runs` do not carry it), so the Runs view offers diff, apply and
   * discard where they apply. Quiet: a failure only leaves it unknown.
   */
  async learnIsolation(runId: string): Promise<void> {
    const client = this.client;
    if (!client) {
      return;
    }
    const call = statusCall(runId);
    try {
      const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
        command: call.command,
        arguments: call.arguments,
      });
      const run = parseRunList(result).find((r) => r.runId === runId);
      if (run) {
        this.model.setIsolation(runId, run.isolation ?? null);
        this.changed();
      }
    } catch {
      // Unknown stays unknown; the palette commands still reach the server.
    }
  }

  async fullOutput(runId: string, step?: string): Promise<string> {
    const result = await this.execute(outputCall(runId, step));
    if (typeof result === 'string') {
      return result;
    }
    if (typeof result === 'object' && result !== null && 'text' in result) {
      return String(result.text);
    }
    return '';
  }

  changed(): void {
    this.view.refresh();
    this.statusBar.update(this.model.list());
  }

  dispose(): void {
    void this.stop();
    this.view.dispose();
    this.statusBar.dispose();
    this.output.dispose();
  }
}

let current: Agent | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<Agent> {
  const agent = new Agent(context);
  current = agent;
  context.subscriptions.push(
    agent,
    vscode.window.createTreeView('agentls.runs', {
      treeDataProvider: agent.view,
      showCollapseAll: true,
    }),
    vscode.workspace.registerTextDocumentContentProvider(
      OUTPUT_SCHEME,
      new OutputDocuments((runId, step) => agent.fullOutput(runId, step)),
    ),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration('agentls')) {
        return;
      }
      if (RESTART_KEYS.some((key) => event.affectsConfiguration(key))) {
        await agent.restart();
      } else if (agent.client) {
        await agent.client.sendNotification('workspace/didChangeConfiguration', {
          settings: configurationChange(settings()),
        });
      }
    }),
  );
  registerCommands(context, agent);
  await agent.start();
  return agent;
}

/** VS Code waits for the returned promise, so the server gets a clean shutdown/exit. */
export function deactivate(): Promise<void> | undefined {
  const agent = current;
  current = undefined;
  return agent?.stop();
}

/**
 * Starts the agentls language server for VS Code: finds the binary (the
 * setting, the bundled one, PATH), builds the server options and client
 * options, and says clearly what to do when the binary is missing. Knows
 * nothing of runs or views.
 */

import * as fs from 'fs';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

import { handleApplyEdit } from './edits';
import {
  answerConfiguration,
  bundledServer,
  findServer,
  initializationOptions,
  serverEnv,
  Settings,
} from './settings';

function isExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Tells the user the server binary is missing, with buttons to the setup
 * guide (the extension's README, which ships in the .vsix) and the setting.
 */
async function reportMissing(context: vscode.ExtensionContext, reason: string): Promise<void> {
  const guide = 'Open Setup Guide';
  const settings = 'Set agentls.path';
  const choice = await vscode.window.showErrorMessage(
    `Agent: cannot start the agentls language server. ${reason} ` +
      'Install the platform VSIX, which bundles it, or `cargo install --path server` ' +
      'from the agentls repository, or point agentls.path at the binary.',
    guide,
    settings,
  );
  if (choice === guide) {
    await vscode.commands.executeCommand(
      'markdown.showPreview',
      vscode.Uri.joinPath(context.extensionUri, 'README.md'),
    );
  } else if (choice === settings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'agentls.path');
  }
}

/**
 * Builds the client, or returns undefined (after telling the user) when no
 * binary is found. The binary is `agentls.path`, else the bundled one, else
 * `agentls` on PATH (settings.ts `findServer`); which one runs goes to the
 * client's output channel.
 */
export function createClient(
  context: vscode.ExtensionContext,
  settings: Settings,
  current: () => Settings,
): LanguageClient | undefined {
  const lookup = findServer({
    configured: settings.path,
    bundled: bundledServer(context.extensionPath),
    env: process.env,
    isExecutable,
    remoteName: vscode.env.remoteName,
  });
  if (!lookup.found) {
    void reportMissing(context, lookup.reason);
    return undefined;
  }
  const serverOptions: ServerOptions = {
    command: lookup.path,
    args: ['serve'],
    transport: TransportKind.stdio,
    options: { env: serverEnv(settings, process.env) },
  };
  const clientOptions: LanguageClientOptions = {
    // Workflows run on files; untitled buffers have no path to edit.
    documentSelector: [{ scheme: 'file' }],
    initializationOptions: () => initializationOptions(settings),
    // The server speaks for itself through window/showMessage; its log goes
    // to a channel of its own so the Agent channel holds only run output.
    outputChannelName: 'Agent Language Server',
    middleware: {
      workspace: {
        configuration: (params) => answerConfiguration(params.items, current()),
      },
    },
  };
  const client = new LanguageClient('agentls', 'Agent Language Server', serverOptions, clientOptions);
  handleApplyEdit(client);
  client.info(`agentls binary: ${lookup.path} (${lookup.source})`, undefined, false);
  return client;
}

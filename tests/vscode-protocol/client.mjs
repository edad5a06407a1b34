// A client that behaves like VS Code running the agentls extension: it starts
// the real server over stdio with vscode-languageserver-protocol (the library
// under vscode-languageclient), initializes with VS Code's client capabilities
// and the extension's initializationOptions, syncs documents as VS Code does,
// answers the server's requests as VS Code does, and records every message so
// a test can wait for a condition instead of sleeping.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

import { agentlsBin, repoRoot } from '../support/env.mjs';

const require = createRequire(import.meta.url);
const rpc = require('vscode-languageserver-protocol/node');
const { vscodeClientCapabilities, VSCODE_VERSION } = require('./vscode-capabilities.cjs');

/** The extension's own pure modules (editors/vscode, compiled by `npm run compile`). */
export const extension = {
  args: require(path.join(repoRoot, 'editors/vscode/out/src/args.js')),
  protocol: require(path.join(repoRoot, 'editors/vscode/out/src/protocol.js')),
  runs: require(path.join(repoRoot, 'editors/vscode/out/src/runs.js')),
  settings: require(path.join(repoRoot, 'editors/vscode/out/src/settings.js')),
};

const DEFAULT_TIMEOUT = 20_000;

/** UTF-16 offset of an LSP position in `text` (VS Code negotiates utf-16, as JS strings are). */
function offsetAt(text, position) {
  let line = 0;
  let offset = 0;
  while (line < position.line) {
    const next = text.indexOf('\n', offset);
    if (next < 0) {
      return text.length;
    }
    offset = next + 1;
    line += 1;
  }
  const end = text.indexOf('\n', offset);
  const lineEnd = end < 0 ? text.length : end;
  return Math.min(offset + position.character, lineEnd);
}

export class VsCodeClient {
  constructor(world, child, connection) {
    this.world = world;
    this.child = child;
    this.connection = connection;
    this.documents = new Map(); // uri -> { text, version, languageId }
    this.messages = []; // every notification and server request, in order
    this.waiters = new Set();
    this.stderr = '';
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Spawns `agentls serve --stdio` as vscode-languageclient does and initializes it. */
  static async start(world, settings = extension.settings.DEFAULTS, overrides = {}) {
    const child = spawn(agentlsBin(), ['serve', '--stdio'], {
      cwd: world.workspace,
      env: extension.settings.serverEnv(settings, world.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const connection = rpc.createProtocolConnection(
      new rpc.StreamMessageReader(child.stdout),
      new rpc.StreamMessageWriter(child.stdin),
    );
    const client = new VsCodeClient(world, child, connection);
    child.stderr.on('data', (chunk) => {
      client.stderr += chunk.toString();
    });
    client.listen(settings);
    connection.listen();
    client.initializeResult = await connection.sendRequest(rpc.InitializeRequest.type, {
      processId: process.pid,
      clientInfo: { name: 'Visual Studio Code', version: VSCODE_VERSION },
      locale: 'en',
      rootPath: world.workspace,
      rootUri: world.uri(''),
      capabilities: vscodeClientCapabilities(),
      initializationOptions: extension.settings.initializationOptions(settings),
      ...overrides,
      trace: 'off',
      workspaceFolders: [{ uri: world.uri('').replace(/\/$/, ''), name: 'workspace' }],
    });
    await connection.sendNotification(rpc.InitializedNotification.type, {});
    return client;
  }

  record(kind, method, params) {
    const message = { kind, method, params, at: performance.now() };
    this.messages.push(message);
    for (const waiter of this.waiters) {
      waiter.check();
    }
    return message;
  }

  listen(settings) {
    const c = this.connection;
    for (const method of [
      '$/progress',
      'agent/output',
      'agent/state',
      'window/showMessage',
      'window/logMessage',
      'textDocument/publishDiagnostics',
      'telemetry/event',
    ]) {
      c.onNotification(method, (params) => this.record('notification', method, params));
    }
    c.onRequest('window/workDoneProgress/create', (params) => {
      this.record('request', 'window/workDoneProgress/create', params);
      return null;
    });
    c.onRequest('workspace/applyEdit', (params) => {
      this.record('request', 'workspace/applyEdit', params);
      return this.applyEdit(params.edit);
    });
    c.onRequest('window/showDocument', (params) => {
      this.record('request', 'window/showDocument', params);
      return { success: true };
    });
    c.onRequest('window/showMessageRequest', (params) => {
      this.record('request', 'window/showMessageRequest', params);
      return null; // the user dismissed it
    });
    c.onRequest('client/registerCapability', (params) => {
      this.record('request', 'client/registerCapability', params);
      return null;
    });
    c.onRequest('workspace/configuration', (params) => {
      this.record('request', 'workspace/configuration', params);
      return extension.settings.answerConfiguration(params.items, settings);
    });
  }

  /** textDocument/didOpen of a workspace file, with the text on disk. */
  async open(rel, text, languageId = 'plaintext') {
    const uri = this.world.uri(rel);
    this.documents.set(uri, { text, version: 1, languageId });
    await this.connection.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId, version: 1, text },
    });
    return uri;
  }

  text(uri) {
    return this.documents.get(uri)?.text;
  }

  /**
   * Applies a WorkspaceEdit to the open documents as VS Code's editor does,
   * then sends the resulting didChange (incremental, edits from the end).
   */
  async applyEdit(edit) {
    const perUri = new Map();
    for (const change of edit.documentChanges ?? []) {
      if (!('textDocument' in change)) {
        return { applied: false, failureReason: `resource operation ${change.kind} not expected` };
      }
      const doc = this.documents.get(change.textDocument.uri);
      if (doc && change.textDocument.version !== null && change.textDocument.version !== doc.version) {
        return { applied: false, failureReason: 'document version changed' };
      }
      perUri.set(change.textDocument.uri, change.edits);
    }
    for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
      perUri.set(uri, edits);
    }
    for (const [uri, edits] of perUri) {
      const doc = this.documents.get(uri);
      if (!doc) {
        return { applied: false, failureReason: `${uri} is not open in this test client` };
      }
      const sorted = [...edits].sort(
        (a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character,
      );
      const contentChanges = [];
      for (const e of sorted) {
        const start = offsetAt(doc.text, e.range.start);
        const end = offsetAt(doc.text, e.range.end);
        doc.text = doc.text.slice(0, start) + e.newText + doc.text.slice(end);
        contentChanges.push({ range: e.range, rangeLength: end - start, text: e.newText });
      }
      doc.version += 1;
      await this.connection.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: doc.version },
        contentChanges,
      });
    }
    return { applied: true };
  }

  /** workspace/executeCommand with a call built by the extension's args module. */
  execute(call) {
    return this.connection.sendRequest(rpc.ExecuteCommandRequest.type, {
      command: call.command,
      arguments: call.arguments,
    });
  }

  notify(method, params) {
    return this.connection.sendNotification(method, params);
  }

  /** Messages recorded so far with this method. */
  all(method) {
    return this.messages.filter((m) => m.method === method);
  }

  /** Resolves with `predicate`'s first truthy value, re-checked on every message. */
  waitFor(what, predicate, timeout = DEFAULT_TIMEOUT) {
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          const value = predicate();
          if (value) {
            this.waiters.delete(waiter);
            clearTimeout(timer);
            resolve(value);
          }
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const last = this.messages.slice(-15).map((m) => `${m.method} ${JSON.stringify(m.params).slice(0, 300)}`);
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}\nlast messages:\n${last.join('\n')}\nserver stderr:\n${this.stderr.slice(-3000)}`));
      }, timeout);
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  /** The latest agent/state of a run, parsed by the extension's protocol module. */
  state(runId) {
    const states = this.all('agent/state').filter((m) => m.params.runId === runId);
    return states.length ? extension.protocol.parseRun(states[states.length - 1].params) : undefined;
  }

  waitForStatus(runId, statuses, timeout) {
    const wanted = [].concat(statuses);
    return this.waitFor(`run ${runId} to be ${wanted.join(' or ')}`, () => {
      const s = this.state(runId);
      return s && wanted.includes(s.status) ? s : undefined;
    }, timeout);
  }

  /** The run's live output, in seq order, as the extension's output channel shows it. */
  output(runId) {
    return this.all('agent/output')
      .map((m) => m.params)
      .filter((p) => p.runId === runId)
      .sort((a, b) => a.seq - b.seq)
      .map((p) => p.text)
      .join('');
  }

  /** $/progress values grouped by token. */
  progress() {
    const byToken = new Map();
    for (const m of this.all('$/progress')) {
      const key = JSON.stringify(m.params.token);
      if (!byToken.has(key)) {
        byToken.set(key, []);
      }
      byToken.get(key).push(m.params.value);
    }
    return byToken;
  }

  /** shutdown + exit, as vscode-languageclient's stop() does; resolves with the exit code. */
  async close() {
    if (this.child.exitCode === null) {
      try {
        await this.connection.sendRequest(rpc.ShutdownRequest.type);
        await this.connection.sendNotification(rpc.ExitNotification.type);
      } catch {
        // the server is gone already; the exit code says how it went
      }
    }
    const code = await Promise.race([
      this.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 5000)),
    ]);
    if (code === 'still running') {
      this.child.kill('SIGKILL');
    }
    this.connection.dispose();
    return code;
  }
}

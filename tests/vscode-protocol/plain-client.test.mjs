// What an editor that does not opt in to run events gets, as docs/editors.md
// promises for Helix: workflows as code actions resolved into agent.run, edits
// through workspace/applyEdit, messages, the transcript through
// window/showDocument, and agent.* commands that work without arguments
// (Helix ignores command results and cannot cancel a progress).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { makeWorld } from '../support/env.mjs';
import { cassette, CONFIG, SAMPLE, SHOUT_EDIT, WORKFLOWS } from '../support/workflows.mjs';
import { extension, VsCodeClient } from './client.mjs';

// Client capabilities shaped like Helix's, for what agentls uses: code action
// literals with resolve, applyEdit, showDocument, work-done progress, and no
// run-event opt-in.
const HELIX_CAPABILITIES = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: false },
    workspaceFolders: true,
    applyEdit: true,
    symbol: { dynamicRegistration: false },
    executeCommand: { dynamicRegistration: false },
    workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'], failureHandling: 'abort', normalizesLineEndings: false },
  },
  textDocument: {
    codeAction: {
      codeActionLiteralSupport: {
        codeActionKind: { valueSet: ['', 'quickfix', 'refactor', 'refactor.extract', 'refactor.inline', 'refactor.rewrite', 'source', 'source.organizeImports'] },
      },
      isPreferredSupport: true,
      disabledSupport: true,
      dataSupport: true,
      resolveSupport: { properties: ['edit', 'command'] },
    },
    publishDiagnostics: { versionSupport: true, tagSupport: { valueSet: [1, 2] } },
  },
  window: { workDoneProgress: true, showDocument: { support: true } },
  general: { positionEncodings: ['utf-8', 'utf-32', 'utf-16'] },
};

const SELECTION = { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } };

describe('an editor without run events (Helix)', () => {
  let world;
  let client;
  let uri;

  before(async () => {
    world = makeWorld({ workflows: WORKFLOWS, config: CONFIG, files: { 'src/main.rs': SAMPLE }, cassette: cassette(1) });
    client = await VsCodeClient.start(world, extension.settings.DEFAULTS, {
      clientInfo: { name: 'helix', version: '25.07.1' },
      capabilities: HELIX_CAPABILITIES,
      initializationOptions: undefined,
    });
    uri = await client.open('src/main.rs', SAMPLE, 'rust');
  });

  after(async () => {
    await client.close();
    world.cleanup();
  });

  test('a code action runs the workflow and the edit, message and transcript arrive', async () => {
    const actions = await client.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: SELECTION,
      context: { diagnostics: [], triggerKind: 1 },
    });
    const shout = actions.find((a) => /Shout the selection$/.test(a.title));
    assert.ok(shout, `code actions: ${actions.map((a) => a.title).join(', ')}`);
    const resolved = shout.command ? shout : await client.connection.sendRequest('codeAction/resolve', shout);
    assert.equal(resolved.command.command, 'agent.run');
    await client.connection.sendRequest('workspace/executeCommand', resolved.command);

    await client.waitFor('the edit', () => client.text(uri) === `first line\n${SHOUT_EDIT}last line\n`);
    await client.waitFor('a completion message', () =>
      client.all('window/showMessage').some((m) => /shout.*completed/.test(m.params.message)),
    );
    const shown = await client.waitFor('the transcript', () => client.all('window/showDocument')[0]);
    assert.match(shown.params.uri, /^file:\/\//);
    assert.equal(client.all('agent/output').length, 0, 'no run events without the opt-in');
    assert.equal(client.all('agent/state').length, 0, 'no run events without the opt-in');
  });

  test('agent.cancel without arguments cancels the newest run', async () => {
    const messages = client.messages.length;
    await client.execute(extension.args.runCall('slow', { uri }));
    await client.waitFor('progress of the slow run', () =>
      client.messages.slice(messages).some((m) => m.method === '$/progress' && m.params.value.kind === 'begin'),
    );
    await client.connection.sendRequest('workspace/executeCommand', { command: 'agent.cancel' });
    await client.waitFor('a cancelled message', () =>
      client.messages.slice(messages).some((m) => m.method === 'window/showMessage' && /slow.*cancelled/.test(m.params.message)),
    );
  });
});

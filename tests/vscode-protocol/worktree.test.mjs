// A run isolated in a worktree as a VS Code user meets it, through the
// extension's own modules: the Runs view row offers diff, apply and discard
// once agent.status tells the worktree (agent/state does not carry it);
// agent.diff gives the patch and the .diff file the extension opens;
// agent.apply is refused naming the file while the document changed the
// line the run changed, then applies through workspace/applyEdit;
// agent.discard drops a second run's worktree.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { gitRepo, makeWorld } from '../support/env.mjs';
import { ISOLATED, SAMPLE } from '../support/workflows.mjs';
import { extension, VsCodeClient } from './client.mjs';

const { args, protocol, runs } = extension;
const SHOUTED = 'first line\nHELLO FROM AGENTLS\nlast line\n';

describe('a run isolated in a worktree', () => {
  let world;
  let client;

  before(() => {
    world = makeWorld({ workflows: { isolated: ISOLATED }, files: { 'src/sample.txt': SAMPLE } });
    gitRepo(world);
  });

  after(async () => {
    if (client) {
      await client.close();
    }
    world.cleanup();
  });

  /** Replaces the open document's text, as typing in VS Code does (one didChange). */
  async function type(uri, text) {
    const doc = client.documents.get(uri);
    const lines = doc.text.split('\n').length - 1;
    doc.version += 1;
    await client.notify('textDocument/didChange', {
      textDocument: { uri, version: doc.version },
      contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: lines, character: 0 } }, text }],
    });
    doc.text = text;
  }

  /** What the extension does on a status change: agent.status tells the worktree. */
  async function learn(model, runId) {
    const status = protocol.parseRunList(await client.execute(args.statusCall(runId))).find((r) => r.runId === runId);
    model.setIsolation(runId, status?.isolation ?? null);
    return model.get(runId);
  }

  async function completedRun(model) {
    const runId = args.runIdOf(await client.execute(args.runCall('isolated', {})));
    const state = await client.waitForStatus(runId, ['completed', 'failed', 'cancelled']);
    assert.equal(state.status, 'completed', JSON.stringify(state));
    model.applyState(state);
    return runId;
  }

  test('diff_apply_and_discard_through_the_extensions_calls', async () => {
    client = await VsCodeClient.start(world);
    const uri = await client.open('src/sample.txt', SAMPLE);
    const model = new runs.RunsModel();

    const runId = await completedRun(model);
    assert.equal(client.text(uri), SAMPLE, 'the run works in its worktree, not the document');
    assert.equal(runs.runTreeItem(model.get(runId)).contextValue, 'run', 'agent/state says nothing of the worktree');
    const known = await learn(model, runId);
    assert.equal(known.isolation?.state, 'active', JSON.stringify(known));
    assert.equal(runs.runTreeItem(known).contextValue, 'run:diff:apply:discard');

    const diff = protocol.parseDiff(await client.execute(args.diffCall(runId)));
    assert.ok(diff, 'agent.diff answers a patch');
    assert.deepEqual(diff.files, ['src/sample.txt']);
    assert.match(diff.patch, /-hello from agentls\n\+HELLO FROM AGENTLS\n/);
    assert.ok(diff.uri?.endsWith(`diff-${runId}.diff`), diff.uri);
    assert.equal(readFileSync(fileURLToPath(diff.uri), 'utf8'), diff.patch, 'the file the extension opens is the patch');

    // The user changed the line the run changed: refused, naming the file.
    await type(uri, 'first line\nedited by me\nlast line\n');
    await assert.rejects(client.execute(args.applyCall(runId)), (error) => {
      assert.equal(error.code, -32001);
      assert.match(error.message, /src\/sample\.txt/);
      return true;
    });
    assert.equal(client.all('workspace/applyEdit').length, 0, 'nothing was applied');
    assert.equal((await learn(model, runId)).isolation.state, 'active', 'the worktree stays');

    await type(uri, SAMPLE);
    const applied = await client.execute(args.applyCall(runId));
    assert.equal(args.runIdOf(applied), runId);
    assert.deepEqual(applied.files, ['src/sample.txt']);
    await client.waitFor('the patch in the document', () => client.text(uri) === SHOUTED);
    await client.waitFor('the message that the worktree is removed', () =>
      client.all('window/showMessage').some((m) => m.params.message.includes('its worktree is removed')),
    );
    const after = await learn(model, runId);
    assert.equal(after.isolation.state, 'applied');
    assert.equal(runs.runTreeItem(after).contextValue, 'run', 'an applied run offers nothing more');

    const second = await completedRun(model);
    const worktree = (await learn(model, second)).isolation.worktree;
    assert.ok(existsSync(worktree), worktree);
    assert.deepEqual(model.worktreeAccepting('discard').map((r) => r.runId), [second]);
    const discarded = protocol.parseRun(await client.execute(args.discardCall(second)));
    assert.equal(discarded?.isolation?.state, 'discarded', JSON.stringify(discarded));
    model.setIsolation(second, discarded.isolation);
    assert.equal(runs.runTreeItem(model.get(second)).contextValue, 'run');
    assert.equal(existsSync(worktree), false, 'the worktree directory is removed');
    assert.equal(client.text(uri), SHOUTED, 'discarding leaves the document alone');
  });
});

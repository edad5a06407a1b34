// The VS Code extension's protocol path, end to end: the real agentls server
// driven exactly as the extension drives it (VS Code's client capabilities,
// the extension's initializationOptions and command arguments), checking
// what a VS Code user sees: progress, the Output channel, the edit in the
// editor, and the Runs view rows built from agent/state.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { makeWorld } from '../support/env.mjs';
import { cassette, CONFIG, SAMPLE, SHOUT_ANSWER, SHOUT_EDIT, SHOUT_LOCAL_ANSWER, WORKFLOWS } from '../support/workflows.mjs';
import { extension, VsCodeClient } from './client.mjs';

const { args, protocol, runs } = extension;

// Lines 1..2 of SAMPLE: "hello from agentls\n", selected as VS Code sends a selection.
const SELECTION = { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } };

describe('agentls driven like the VS Code extension', () => {
  let world;
  let client;
  let uri;

  before(async () => {
    world = makeWorld({
      workflows: WORKFLOWS,
      config: CONFIG,
      files: { 'src/sample.txt': SAMPLE },
      cassette: cassette(1),
    });
    client = await VsCodeClient.start(world);
    uri = await client.open('src/sample.txt', SAMPLE);
  });

  after(async () => {
    const code = await client.close();
    world.cleanup();
    assert.equal(code, 0, 'shutdown then exit ends the server with status 0');
  });

  test('server_offers_every_command_the_extension_sends', () => {
    const offered = client.initializeResult.capabilities.executeCommandProvider?.commands ?? [];
    const missing = Object.values(protocol.Command).filter((c) => !offered.includes(c));
    assert.deepEqual(missing, [], `commands offered: ${offered.join(', ')}`);
  });

  test('workflows_feed_the_run_workflow_quick_pick', async () => {
    const list = protocol.parseWorkflows(await client.execute(args.workflowsCall(uri)));
    const shout = list.find((w) => w.name === 'shout');
    assert.ok(shout, `workflows: ${list.map((w) => w.name).join(', ')}`);
    assert.equal(shout.title, 'Shout the selection');
  });

  test('run_streams_progress_and_output_and_edits_the_selection', async () => {
    const result = await client.execute(args.runCall('shout', { uri, range: SELECTION }));
    const runId = args.runIdOf(result);
    assert.ok(runId, `agent.run answered ${JSON.stringify(result)}`);

    const final = await client.waitForStatus(runId, ['completed', 'failed', 'cancelled']);
    assert.equal(final.status, 'completed', `run ended ${JSON.stringify(final)}`);

    // Output channel: the streamed answer, whole and in order.
    assert.equal(client.output(runId), SHOUT_ANSWER);

    // The edit arrived as workspace/applyEdit and VS Code's document holds it.
    await client.waitFor('the edited text', () => client.text(uri) === `first line\n${SHOUT_EDIT}last line\n`);

    // Progress: one token, begun with the workflow's title and ended.
    const created = client.all('window/workDoneProgress/create').map((m) => JSON.stringify(m.params.token));
    const tokens = [...client.progress().entries()].filter(([token]) => created.includes(token));
    assert.equal(tokens.length, 1, `progress tokens: ${JSON.stringify([...client.progress()])}`);
    const values = tokens[0][1];
    assert.equal(values[0].kind, 'begin');
    assert.match(values[0].title, /Shout the selection|shout/);
    await client.waitFor('progress end', () => client.progress().get(tokens[0][0]).some((v) => v.kind === 'end'));

    // Runs view: the row the extension builds from the last agent/state.
    const model = new runs.RunsModel();
    for (const m of client.all('agent/state')) {
      model.applyState(protocol.parseRun(m.params));
    }
    const row = runs.runTreeItem(model.get(runId));
    assert.equal(row.label, 'shout');
    assert.equal(row.description, 'completed · 2/2');
    assert.equal(row.contextValue, 'run');
    assert.deepEqual(
      model.get(runId).steps.map((s) => [s.id, s.status]),
      [['ask', 'completed'], ['apply', 'completed']],
    );
  });

  test('command_workflow_streams_output_and_edits_the_selection', async () => {
    const before = client.text(uri);
    const runId = args.runIdOf(await client.execute(args.runCall('shout_local', { uri, range: SELECTION })));
    const final = await client.waitForStatus(runId, ['completed', 'failed', 'cancelled']);
    assert.equal(final.status, 'completed', `run ended ${JSON.stringify(final)}`);
    assert.match(client.output(runId), new RegExp(SHOUT_LOCAL_ANSWER));
    // The selection is line 1 whatever the document holds now; it is upper-cased.
    const lines = before.split('\n');
    lines[1] = lines[1].toUpperCase();
    await client.waitFor('the edited text', () => client.text(uri) === lines.join('\n'));
  });

  test('cancel_stops_a_long_run', async () => {
    const runId = args.runIdOf(await client.execute(args.runCall('slow', { uri })));
    await client.waitFor('the command to print', () => client.output(runId).includes('waiting'));
    const model = new runs.RunsModel();
    model.applyState(client.state(runId));
    assert.equal(runs.runTreeItem(model.get(runId)).contextValue, 'run:cancel');

    const started = performance.now();
    await client.execute(args.cancelCall(runId));
    const final = await client.waitForStatus(runId, ['cancelled', 'completed', 'failed'], 10_000);
    assert.equal(final.status, 'cancelled');
    assert.ok(performance.now() - started < 5000, 'cancel takes effect within 5 s');
  });

  test('cancelling_the_progress_notification_cancels_the_run', async () => {
    // Progress of earlier runs may still be ending: only tokens created after
    // this run started, and titled with its workflow, are its progress.
    const since = client.messages.length;
    const runId = args.runIdOf(await client.execute(args.runCall('slow', { uri })));
    await client.waitFor('the command to print', () => client.output(runId).includes('waiting'));
    const token = await client.waitFor('the run\'s cancellable progress', () => {
      const created = client.messages
        .slice(since)
        .filter((m) => m.method === 'window/workDoneProgress/create')
        .map((m) => JSON.stringify(m.params.token));
      return created.find((key) =>
        (client.progress().get(key) ?? []).some(
          (v) => v.kind === 'begin' && v.cancellable && /Wait for a long time/.test(v.title),
        ),
      );
    });
    await client.notify('window/workDoneProgress/cancel', { token: JSON.parse(token) });
    const final = await client.waitForStatus(runId, ['cancelled', 'completed', 'failed'], 10_000);
    assert.equal(final.status, 'cancelled');
  });

  test('approve_step_waits_and_then_goes_on', async () => {
    const runId = args.runIdOf(await client.execute(args.runCall('gate', {})));
    const waiting = await client.waitForStatus(runId, 'waiting');
    assert.equal(runs.runTreeItem(waiting).contextValue, 'run:approve:reject:cancel');
    await client.execute(args.approveCall(runId));
    const final = await client.waitForStatus(runId, ['completed', 'failed']);
    assert.equal(final.status, 'completed');
    assert.match(client.output(runId), /approved/);
  });

  test('failed_step_is_retried_without_starting_over', async () => {
    const runId = args.runIdOf(await client.execute(args.runCall('flaky', {})));
    const failed = await client.waitForStatus(runId, 'failed');
    const step = failed.steps[0];
    assert.equal(runs.runTreeItem(failed).contextValue, 'run:retry:skip:override:resume:cancel');
    assert.equal(runs.stepTreeItem(step).contextValue, 'step:retry:skip:override');
    await client.execute(args.retryCall(runId, step.id));
    const final = await client.waitForStatus(runId, ['completed', 'cancelled']);
    assert.equal(final.status, 'completed');
    assert.match(client.output(runId), /first attempt fails[\s\S]*second attempt passes/);
  });
});

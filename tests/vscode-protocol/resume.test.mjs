// An interrupted run as a VS Code user meets it: the server driving a run is
// killed, the next one marks the run `interrupted`, and the Runs view row the
// extension builds from the server's `actions` offers Resume (not Retry);
// resuming runs the cut-short step again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { makeWorld } from '../support/env.mjs';
import { WORKFLOWS } from '../support/workflows.mjs';
import { extension, VsCodeClient } from './client.mjs';

const { args, protocol, runs } = extension;

describe('a run cut short by a server crash', () => {
  let world;
  let client;

  before(() => {
    world = makeWorld({ workflows: WORKFLOWS });
  });

  after(async () => {
    if (client) {
      await client.close();
    }
    world.cleanup();
  });

  test('interrupted_run_offers_resume_and_resumes', async () => {
    const first = await VsCodeClient.start(world);
    const runId = args.runIdOf(await first.execute(args.runCall('slow', {})));
    await first.waitFor('the command to print', () => first.output(runId).includes('waiting'));
    assert.equal(runs.runTreeItem(first.state(runId)).contextValue, 'run:cancel');
    first.child.kill('SIGKILL');
    await first.exited;
    first.connection.dispose();

    client = await VsCodeClient.start(world);
    const model = new runs.RunsModel();
    model.mergeHistory(protocol.parseRunList(await client.execute(args.runsCall())));
    const interrupted = model.get(runId);
    assert.equal(interrupted?.status, 'interrupted', JSON.stringify(interrupted));
    assert.deepEqual(interrupted.actions, ['resume', 'cancel']);
    assert.equal(runs.runTreeItem(interrupted).contextValue, 'run:resume:cancel');
    assert.deepEqual(
      model.accepting('retry').map((r) => r.runId),
      [],
      'an interrupted run is resumed, not retried',
    );
    assert.deepEqual(
      model.accepting('resume').map((r) => r.runId),
      [runId],
    );

    await client.execute(args.resumeCall(runId));
    await client.waitFor('the resumed step to print', () => client.output(runId).includes('waiting'));
    const resumed = client.state(runId);
    assert.equal(resumed.status, 'running');
    assert.equal(runs.runTreeItem(resumed).contextValue, 'run:cancel');
    await client.execute(args.cancelCall(runId));
    const final = await client.waitForStatus(runId, ['cancelled', 'completed', 'failed'], 10_000);
    assert.equal(final.status, 'cancelled');
    assert.equal(runs.runTreeItem(final).contextValue, 'run');
  });
});

// How runs and steps map to Runs view rows, inline actions and the status bar.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RunState } from '../src/protocol';
import { runActions, RunsModel, runTreeItem, statusBar, stepTreeItem } from '../src/runs';

function run(status: RunState['status'], steps: RunState['steps'] = []): RunState {
  return { runId: 'run-0123456789', workflow: 'fix-tests', status, steps };
}

test('failed_run_offers_retry_skip_override_and_cancel', () => {
  const item = runTreeItem(
    run('failed', [
      { id: 'test', status: 'completed' },
      { id: 'fix', title: 'Ask the model', status: 'failed', exitCode: null },
      { id: 'apply', status: 'pending' },
    ]),
  );
  assert.equal(item.label, 'fix-tests');
  assert.equal(item.description, 'failed at Ask the model · 1/3');
  assert.equal(item.contextValue, 'run:retry:skip:override:cancel');
  assert.equal(item.icon, 'error');
  assert.equal(item.collapsible, true);
});

test('waiting_run_offers_approve_and_reject', () => {
  const item = runTreeItem(run('waiting', [{ id: 'confirm', status: 'waiting' }]));
  assert.equal(item.contextValue, 'run:approve:reject:cancel');
  assert.equal(item.icon, 'bell');
});

test('finished_runs_offer_no_action', () => {
  assert.equal(runTreeItem(run('completed')).contextValue, 'run');
  assert.equal(runTreeItem(run('cancelled')).contextValue, 'run');
  assert.deepEqual(runActions('completed'), []);
});

test('interrupted_run_can_be_retried', () => {
  assert.deepEqual(runActions('interrupted'), ['retry', 'cancel']);
});

test('step_rows_carry_actions_only_where_the_run_is_stopped_at_them', () => {
  const failed = run('failed', [
    { id: 'test', status: 'failed', exitCode: 101, attempt: 2 },
  ]);
  const step = stepTreeItem(failed, failed.steps[0]);
  assert.equal(step.contextValue, 'step:retry:skip:override');
  assert.equal(step.description, 'failed · attempt 2 · exit 101');
  // A failed step of a run that went on (allow_failure) takes no action.
  const onward = run('running', [{ id: 'test', status: 'failed' }]);
  assert.equal(stepTreeItem(onward, onward.steps[0]).contextValue, 'step');
});

test('status_bar_shows_the_most_urgent_run', () => {
  assert.equal(statusBar([]).text, '$(hubot) Agent');
  const running = run('running', [
    { id: 'a', status: 'completed' },
    { id: 'b', status: 'running' },
  ]);
  assert.equal(statusBar([running]).text, '$(sync~spin) Agent: fix-tests 1/2');
  const waiting = { ...run('waiting', [{ id: 'confirm', status: 'waiting' }]), runId: 'w' };
  const spec = statusBar([running, waiting]);
  assert.equal(spec.text, '$(bell) Agent: approve confirm');
  assert.equal(spec.background, 'statusBarItem.warningBackground');
});

test('history_never_overrides_a_live_state', () => {
  const model = new RunsModel();
  model.applyState({ runId: 'a', status: 'running', steps: [] });
  model.mergeHistory([
    { runId: 'a', status: 'queued', steps: [], workflow: 'fix' },
    { runId: 'b', status: 'completed', steps: [], workflow: 'test' },
  ]);
  assert.equal(model.get('a')?.status, 'running');
  assert.deepEqual(
    model.list().map((r) => r.runId),
    ['a', 'b'],
  );
});

test('state_without_workflow_keeps_the_known_name', () => {
  const model = new RunsModel();
  model.noteStarted('a', 'fix');
  model.applyState({ runId: 'a', status: 'completed', steps: [] });
  assert.equal(model.get('a')?.workflow, 'fix');
});

test('new_runs_come_first_and_accepting_filters_by_action', () => {
  const model = new RunsModel();
  model.applyState({ runId: 'old', status: 'failed', steps: [] });
  model.applyState({ runId: 'new', status: 'running', steps: [] });
  assert.deepEqual(
    model.list().map((r) => r.runId),
    ['new', 'old'],
  );
  assert.deepEqual(
    model.accepting('retry').map((r) => r.runId),
    ['old'],
  );
  assert.deepEqual(
    model.accepting('cancel').map((r) => r.runId),
    ['new', 'old'],
  );
});

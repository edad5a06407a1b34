// How runs and steps map to Runs view rows, inline actions and the status bar.
// States come in as the server sends them (`agent/state` with `actions`) and
// go through the extension's own parser, as they do in VS Code.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseRun, RunState } from '../src/protocol';
import { RunsModel, runTreeItem, statusBar, stepTreeItem } from '../src/runs';

/** A step of an `agent/state` notification, on the wire. */
interface WireStep {
  id: string;
  status: string;
  actions?: string[];
  title?: string;
  attempt?: number;
  exitCode?: number | null;
}

/** An `agent/state` notification's params, read by the extension's parser. */
function state(
  status: string,
  actions: string[],
  steps: WireStep[] = [],
  runId = 'run-0123456789',
): RunState {
  const run = parseRun({
    runId,
    workflow: 'fix-tests',
    title: null,
    status,
    error: null,
    actions,
    steps: steps.map((s) => ({ title: null, kind: 'run', attempt: null, exitCode: null, error: null, actions: [], ...s })),
  });
  assert.ok(run, `parseRun refused ${status}`);
  return run;
}

test('failed_run_offers_what_the_server_lists', () => {
  const item = runTreeItem(
    state('failed', ['retry', 'skip', 'override', 'resume', 'cancel'], [
      { id: 'test', status: 'completed' },
      { id: 'fix', title: 'Ask the model', status: 'failed', actions: ['retry', 'skip', 'override'] },
      { id: 'apply', status: 'pending' },
    ]),
  );
  assert.equal(item.label, 'fix-tests');
  assert.equal(item.description, 'failed at Ask the model · 1/3');
  assert.equal(item.contextValue, 'run:retry:skip:override:resume:cancel');
  assert.equal(item.icon, 'error');
  assert.equal(item.collapsible, true);
});

test('waiting_run_offers_approve_and_reject', () => {
  const item = runTreeItem(
    state('waiting', ['approve', 'reject', 'cancel'], [{ id: 'confirm', status: 'waiting', actions: ['approve', 'reject'] }]),
  );
  assert.equal(item.contextValue, 'run:approve:reject:cancel');
  assert.equal(item.icon, 'bell');
});

test('finished_runs_offer_no_action', () => {
  assert.equal(runTreeItem(state('completed', [])).contextValue, 'run');
  assert.equal(runTreeItem(state('cancelled', [])).contextValue, 'run');
});

test('interrupted_run_offers_resume_not_retry', () => {
  const item = runTreeItem(state('interrupted', ['resume', 'cancel'], [{ id: 'wait', status: 'running' }]));
  assert.equal(item.contextValue, 'run:resume:cancel');
  assert.equal(item.icon, 'debug-pause');
});

test('rows_offer_the_servers_actions_whatever_the_status', () => {
  // The server alone decides: a failed run it still lets go of accepts
  // nothing yet, and a run whose status this extension would read otherwise
  // offers exactly what the server listed.
  assert.equal(runTreeItem(state('failed', [], [{ id: 'test', status: 'failed' }])).contextValue, 'run');
  assert.equal(runTreeItem(state('running', ['approve', 'cancel'])).contextValue, 'run:approve:cancel');
  const failed = state('failed', ['cancel'], [{ id: 'test', status: 'failed', actions: ['skip'] }]);
  assert.equal(stepTreeItem(failed.steps[0]).contextValue, 'step:skip');
});

test('context_values_list_actions_in_menu_order', () => {
  // package.json's resume menu (`^run:resume\b`) relies on this order.
  assert.equal(runTreeItem(state('interrupted', ['cancel', 'resume'])).contextValue, 'run:resume:cancel');
  assert.equal(
    runTreeItem(state('failed', ['cancel', 'resume', 'override', 'skip', 'retry'])).contextValue,
    'run:retry:skip:override:resume:cancel',
  );
});

test('step_rows_carry_the_actions_that_may_name_them', () => {
  const failed = state('failed', ['retry', 'skip', 'override', 'resume', 'cancel'], [
    { id: 'test', status: 'failed', exitCode: 101, attempt: 2, actions: ['retry', 'skip', 'override'] },
  ]);
  const step = stepTreeItem(failed.steps[0]);
  assert.equal(step.contextValue, 'step:retry:skip:override');
  assert.equal(step.description, 'failed · attempt 2 · exit 101');
  // A failed step of a run that went on (allow_failure) takes no action.
  const onward = state('running', ['cancel'], [{ id: 'test', status: 'failed', actions: [] }]);
  assert.equal(stepTreeItem(onward.steps[0]).contextValue, 'step');
});

test('status_bar_shows_the_most_urgent_run', () => {
  assert.equal(statusBar([]).text, '$(hubot) Agent');
  const running = state('running', ['cancel'], [
    { id: 'a', status: 'completed' },
    { id: 'b', status: 'running' },
  ]);
  assert.equal(statusBar([running]).text, '$(sync~spin) Agent: fix-tests 1/2');
  const waiting = state('waiting', ['approve', 'reject', 'cancel'], [{ id: 'confirm', status: 'waiting' }], 'w');
  const spec = statusBar([running, waiting]);
  assert.equal(spec.text, '$(bell) Agent: approve confirm');
  assert.equal(spec.background, 'statusBarItem.warningBackground');
});

test('status_bar_says_whether_the_server_runs_before_any_run', () => {
  const running = state('running', ['cancel'], [{ id: 'a', status: 'running' }]);
  assert.equal(statusBar([], 'starting').text, '$(loading~spin) Agent');
  const stopped = statusBar([running], 'stopped');
  assert.equal(stopped.text, '$(warning) Agent: no server');
  assert.equal(stopped.background, 'statusBarItem.warningBackground');
  assert.equal(statusBar([running], 'ready').text, '$(sync~spin) Agent: fix-tests 0/1');
});

test('history_never_overrides_a_live_state', () => {
  const model = new RunsModel();
  model.applyState(state('running', ['cancel'], [], 'a'));
  model.mergeHistory([
    { ...state('queued', ['cancel'], [], 'a'), workflow: 'fix' },
    { ...state('completed', [], [], 'b'), workflow: 'test' },
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
  model.applyState({ ...state('completed', [], [], 'a'), workflow: undefined });
  assert.equal(model.get('a')?.workflow, 'fix');
});

test('a_started_run_accepts_nothing_until_its_first_state', () => {
  const model = new RunsModel();
  model.noteStarted('a', 'fix');
  assert.deepEqual(model.accepting('cancel'), []);
  model.applyState(state('running', ['cancel'], [], 'a'));
  assert.deepEqual(
    model.accepting('cancel').map((r) => r.runId),
    ['a'],
  );
});

test('new_runs_come_first_and_accepting_follows_their_actions', () => {
  const model = new RunsModel();
  model.applyState(state('failed', ['retry', 'skip', 'override', 'resume', 'cancel'], [], 'old'));
  model.applyState(state('interrupted', ['resume', 'cancel'], [], 'cut'));
  model.applyState(state('running', ['cancel'], [], 'new'));
  // A failed run the server does not let anyone touch yet: accepts nothing.
  model.applyState(state('failed', [], [], 'held'));
  assert.deepEqual(
    model.list().map((r) => r.runId),
    ['held', 'new', 'cut', 'old'],
  );
  assert.deepEqual(
    model.accepting('retry').map((r) => r.runId),
    ['old'],
  );
  assert.deepEqual(
    model.accepting('resume').map((r) => r.runId),
    ['cut', 'old'],
  );
  assert.deepEqual(
    model.accepting('cancel').map((r) => r.runId),
    ['new', 'cut', 'old'],
  );
});

test('worktree_is_kept_across_states_that_do_not_carry_it', () => {
  // agent/state and agent.runs never carry `isolation`; agent.status does.
  const model = new RunsModel();
  model.applyState(state('running', ['cancel']));
  assert.deepEqual(model.isolationUnknown().map((r) => r.runId), ['run-0123456789']);
  model.setIsolation('run-0123456789', { state: 'active', branch: 'agentls/run-0123456789' });
  model.applyState(state('completed', []));
  const run = model.get('run-0123456789')!;
  assert.equal(run.isolation?.state, 'active');
  assert.equal(runTreeItem(run).contextValue, 'run:diff:apply:discard');
  assert.match(runTreeItem(run).tooltip, /worktree active \(agentls\/run-0123456789\)/);
  assert.deepEqual(model.worktreeAccepting('apply').map((r) => r.runId), ['run-0123456789']);
  assert.deepEqual(model.isolationUnknown(), []);
  // Discarded: nothing left to offer.
  model.setIsolation('run-0123456789', { state: 'discarded' });
  assert.equal(runTreeItem(model.get('run-0123456789')!).contextValue, 'run');
  assert.deepEqual(model.worktreeAccepting('discard'), []);
});

test('a_run_without_a_worktree_offers_no_worktree_action', () => {
  const model = new RunsModel();
  model.applyState(state('completed', []));
  model.setIsolation('run-0123456789', null);
  assert.equal(runTreeItem(model.get('run-0123456789')!).contextValue, 'run');
  assert.deepEqual(model.isolationUnknown(), []);
  assert.deepEqual(model.worktreeAccepting('diff'), []);
});

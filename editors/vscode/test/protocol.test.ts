// Reading server payloads: tolerant of field spellings, strict about types.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  isTrustRequired,
  parseDiff,
  parseOutput,
  parseRun,
  parseRunList,
  parseWorkflows,
  workflowParams,
  worktreeActions,
} from '../src/protocol';

test('state_with_unknown_status_is_ignored', () => {
  assert.equal(parseRun({ runId: 'r', status: 'exploded', steps: [] }), undefined);
});

test('state_steps_accept_camel_and_snake_case', () => {
  const run = parseRun({
    runId: 'r',
    status: 'failed',
    workflow: 'fix',
    steps: [
      { id: 'test', status: 'failed', exit_code: 101, attempt: 2 },
      { step: 'apply', status: 'pending', exitCode: null },
      { id: 'bad', status: 'nope' },
    ],
  });
  assert.deepEqual(run, {
    runId: 'r',
    status: 'failed',
    workflow: 'fix',
    title: null,
    error: null,
    actions: [],
    steps: [
      { id: 'test', title: null, status: 'failed', attempt: 2, exitCode: 101, error: null, actions: [] },
      { id: 'apply', title: null, status: 'pending', attempt: null, exitCode: null, error: null, actions: [] },
    ],
  });
});

test('actions_are_read_from_runs_and_steps_in_menu_order', () => {
  const run = parseRun({
    runId: 'r',
    status: 'failed',
    actions: ['cancel', 'resume', 'override', 'skip', 'retry'],
    steps: [
      { id: 'test', status: 'failed', actions: ['retry', 'skip', 'override'] },
      { id: 'apply', status: 'pending', actions: [] },
    ],
  });
  assert.deepEqual(run?.actions, ['retry', 'skip', 'override', 'resume', 'cancel']);
  assert.deepEqual(
    run?.steps.map((s) => s.actions),
    [['retry', 'skip', 'override'], []],
  );
});

test('absent_or_unknown_actions_offer_nothing', () => {
  // An older server sends no `actions`; a newer one may name actions this
  // extension has no command for.
  assert.deepEqual(parseRun({ runId: 'r', status: 'failed', steps: [] })?.actions, []);
  assert.deepEqual(parseRun({ runId: 'r', status: 'failed', actions: 'retry', steps: [] })?.actions, []);
  assert.deepEqual(
    parseRun({ runId: 'r', status: 'waiting', actions: ['approve', 'teleport', 7, null], steps: [] })?.actions,
    ['approve'],
  );
});

test('run_list_accepts_an_array_an_object_with_runs_or_one_run', () => {
  const one = { runId: 'a', status: 'completed', steps: [] };
  assert.equal(parseRunList([one]).length, 1);
  assert.equal(parseRunList({ runs: [one, one] }).length, 2);
  assert.equal(parseRunList(one)[0].runId, 'a');
  assert.deepEqual(parseRunList(null), []);
});

test('output_needs_every_field', () => {
  assert.deepEqual(parseOutput({ runId: 'r', step: 's', text: 'hi', seq: 1 }), {
    runId: 'r',
    step: 's',
    text: 'hi',
    seq: 1,
  });
  assert.equal(parseOutput({ runId: 'r', step: 's', text: 'hi' }), undefined);
});

test('workflows_without_a_name_are_dropped', () => {
  const list = parseWorkflows([{ name: 'fix', title: 'Fix' }, { title: 'nameless' }, 7]);
  assert.deepEqual(
    list.map((w) => w.name),
    ['fix'],
  );
});

test('params_are_read_from_a_map_or_a_list', () => {
  assert.deepEqual(
    workflowParams({
      name: 'w',
      params: { style: 'concise', target: { description: 'where', required: true } },
    }),
    [
      { name: 'style', default: 'concise', required: false },
      { name: 'target', description: 'where', default: undefined, required: true },
    ],
  );
  assert.deepEqual(workflowParams({ name: 'w', params: [{ name: 'x', default: '1' }] }), [
    { name: 'x', description: undefined, default: '1', required: false },
  ]);
  assert.deepEqual(workflowParams({ name: 'w' }), []);
});

test('a_trust_refusal_is_told_apart_from_other_errors', () => {
  const trust = { trustRequired: { workflow: 'local', path: '.agentls/workflows/local.toml', hash: 'h', actions: ['run `echo`'] } };
  assert.equal(isTrustRequired(-32001, trust), true);
  assert.equal(isTrustRequired(-32001, { trustRequired: null }), false);
  assert.equal(isTrustRequired(-32001, undefined), false);
  assert.equal(isTrustRequired(-32602, trust), false);
});

test('isolation_is_read_only_when_it_names_a_state', () => {
  const wire = { runId: 'r', status: 'completed', actions: [], steps: [] };
  const isolated = parseRun({
    ...wire,
    isolation: { worktree: '/s/worktrees/r', branch: 'agentls/r', base: null, state: 'pending' },
  });
  assert.deepEqual(isolated?.isolation, { state: 'pending', worktree: '/s/worktrees/r', branch: 'agentls/r', base: null });
  assert.equal(parseRun(wire)?.isolation, undefined);
  assert.equal(parseRun({ ...wire, isolation: { worktree: '/x' } })?.isolation, undefined);
});

test('worktree_actions_follow_isolation_state_and_status', () => {
  const at = (status: string, state?: string): string[] =>
    worktreeActions(
      parseRun({ runId: 'r', status, actions: [], steps: [], isolation: state ? { state } : undefined })!,
    );
  assert.deepEqual(at('completed', 'active'), ['diff', 'apply', 'discard']);
  assert.deepEqual(at('failed', 'active'), ['diff', 'discard']);
  assert.deepEqual(at('cancelled', 'active'), ['diff', 'discard']);
  assert.deepEqual(at('running', 'active'), ['diff']);
  assert.deepEqual(at('queued', 'pending'), []);
  assert.deepEqual(at('failed', 'pending'), ['discard']);
  assert.deepEqual(at('completed', 'applied'), []);
  assert.deepEqual(at('completed', 'discarded'), []);
  assert.deepEqual(at('completed'), []);
});

test('diff_result_needs_a_run_and_a_patch', () => {
  const patch = 'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n';
  assert.deepEqual(parseDiff({ runId: 'r', files: ['a.txt', 3], patch, uri: 'file:///s/views/diff-r.diff' }), {
    runId: 'r',
    files: ['a.txt'],
    patch,
    uri: 'file:///s/views/diff-r.diff',
  });
  assert.deepEqual(parseDiff({ runId: 'r', files: [], patch: '' }), { runId: 'r', files: [], patch: '', uri: undefined });
  assert.equal(parseDiff({ runId: 'r', files: [] }), undefined);
  assert.equal(parseDiff(null), undefined);
});

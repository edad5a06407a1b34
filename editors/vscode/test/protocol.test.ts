// Reading server payloads: tolerant of field spellings, strict about types.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseOutput, parseRun, parseRunList, parseWorkflows, workflowParams } from '../src/protocol';

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
    steps: [
      { id: 'test', title: null, status: 'failed', attempt: 2, exitCode: 101, error: null },
      { id: 'apply', title: null, status: 'pending', attempt: null, exitCode: null, error: null },
    ],
  });
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

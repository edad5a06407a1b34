// Command arguments as the extension sends them: one object, no undefined
// fields, an empty selection left out, retry and resume each their own command.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  applyCall,
  approveCall,
  cancelCall,
  diffCall,
  discardCall,
  overrideCall,
  rejectCall,
  resumeCall,
  retryCall,
  runCall,
  runIdOf,
  runsCall,
  skipCall,
  workflowsCall,
} from '../src/args';

const uri = 'file:///work/src/lib.rs';
const range = { start: { line: 2, character: 4 }, end: { line: 5, character: 0 } };

test('run_passes_workflow_uri_and_selection', () => {
  assert.deepEqual(runCall('fix', { uri, range }), {
    command: 'agent.run',
    arguments: [{ workflow: 'fix', uri, range }],
  });
});

test('run_leaves_out_an_empty_selection', () => {
  const cursor = { start: { line: 3, character: 1 }, end: { line: 3, character: 1 } };
  assert.deepEqual(runCall('fix', { uri, range: cursor }).arguments, [{ workflow: 'fix', uri }]);
});

test('run_sends_diagnostics_only_with_a_selection', () => {
  const diagnostic = { range, message: 'unused variable', severity: 2 };
  assert.deepEqual(runCall('fix', { uri, range, diagnostics: [diagnostic] }).arguments, [
    { workflow: 'fix', uri, range, diagnostics: [diagnostic] },
  ]);
  assert.deepEqual(runCall('fix', { uri, diagnostics: [diagnostic] }).arguments, [{ workflow: 'fix', uri }]);
  assert.deepEqual(runCall('fix', { uri, range, diagnostics: [] }).arguments, [{ workflow: 'fix', uri, range }]);
});

test('run_without_editor_sends_only_the_workflow', () => {
  assert.deepEqual(runCall('test').arguments, [{ workflow: 'test' }]);
});

test('run_sends_params_only_when_there_are_some', () => {
  assert.deepEqual(runCall('notes', {}, {}).arguments, [{ workflow: 'notes' }]);
  assert.deepEqual(runCall('notes', {}, { target: 'a.md' }).arguments, [
    { workflow: 'notes', params: { target: 'a.md' } },
  ]);
});

test('retry_and_resume_are_their_own_commands', () => {
  assert.deepEqual(resumeCall('r1'), {
    command: 'agent.resume',
    arguments: [{ runId: 'r1' }],
  });
  assert.deepEqual(retryCall('r1', 'test'), {
    command: 'agent.retry',
    arguments: [{ runId: 'r1', step: 'test' }],
  });
});

test('run_control_commands_take_run_and_optional_step', () => {
  assert.deepEqual(cancelCall('r1').arguments, [{ runId: 'r1' }]);
  assert.deepEqual(skipCall('r1').arguments, [{ runId: 'r1' }]);
  assert.deepEqual(skipCall('r1', 'lint').command, 'agent.skip');
  assert.deepEqual(approveCall('r1', 'confirm').arguments, [{ runId: 'r1', step: 'confirm' }]);
  assert.deepEqual(overrideCall('r1', 'fix', 'diff').arguments, [
    { runId: 'r1', step: 'fix', output: 'diff' },
  ]);
});

test('reject_drops_a_blank_reason', () => {
  assert.deepEqual(rejectCall('r1', undefined, '   ').arguments, [{ runId: 'r1' }]);
  assert.deepEqual(rejectCall('r1', 's', ' too risky ').arguments, [
    { runId: 'r1', step: 's', reason: 'too risky' },
  ]);
});

test('listing_commands_default_to_empty_objects', () => {
  assert.deepEqual(workflowsCall().arguments, [{}]);
  assert.deepEqual(workflowsCall(uri).arguments, [{ uri }]);
  assert.deepEqual(runsCall(undefined, 50).arguments, [{ limit: 50 }]);
});

test('run_id_is_read_from_the_run_answer_only', () => {
  assert.equal(runIdOf({ runId: 'abc' }), 'abc');
  assert.equal(runIdOf({ runId: 3 }), undefined);
  assert.equal(runIdOf(null), undefined);
  assert.equal(runIdOf('abc'), undefined);
});

test('worktree_commands_send_the_run_or_nothing_for_the_newest', () => {
  assert.deepEqual(diffCall('r1'), { command: 'agent.diff', arguments: [{ runId: 'r1' }] });
  assert.deepEqual(applyCall('r1'), { command: 'agent.apply', arguments: [{ runId: 'r1' }] });
  assert.deepEqual(discardCall('r1'), { command: 'agent.discard', arguments: [{ runId: 'r1' }] });
  assert.deepEqual(diffCall(), { command: 'agent.diff', arguments: [{}] });
  assert.deepEqual(applyCall(undefined), { command: 'agent.apply', arguments: [{}] });
  // agent.apply answers {runId, files}: the run it applied is read from it.
  assert.equal(runIdOf({ runId: 'r1', files: ['a.txt'] }), 'r1');
});

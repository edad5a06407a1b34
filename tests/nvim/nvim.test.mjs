// Neovim 0.11 headless, configured exactly as docs/editors.md tells a user,
// driving the real agentls server: a visual selection and `:Agent run` of a
// workflow served by the replay provider edit the buffer and stream the
// answer into the output buffer; `:Agent cancel` stops a long run; approve,
// retry, resume of a run a crash interrupted, commands that follow the
// server's `actions`, the workflow picker, :checkhealth, range encoding, and
// :Agent diff / apply / discard of a run isolated in a worktree.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { agentlsBin, gitRepo } from '../support/env.mjs';
import { cassette, CONFIG, ISOLATED, SAMPLE, SHOUT_ANSWER, SHOUT_EDIT, SHOUT_LOCAL_ANSWER, WORKFLOWS } from '../support/workflows.mjs';
import { INIT_ENABLE, nvimWorld, runNvim } from './world.mjs';

const SECRET = 'sk-test-never-shown-0123456789';

const version = execFileSync(agentlsBin(), ['--version']).toString().trim().split(/\s+/).pop();

/**
 * Leaves an interrupted run in the world's workspace, as a crash does:
 * `agentls run slow` is killed with SIGKILL once its command prints.
 */
async function crashedRun(world) {
  const child = spawn(agentlsBin(), ['run', 'slow'], { cwd: world.workspace, env: world.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agentls run slow printed no "waiting":\n${seen}`)), 20_000);
    const look = (chunk) => {
      seen += chunk;
      if (seen.includes('waiting')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Runs one scenario of driver.lua in a fresh world and asserts its checks. */
async function scenario(
  name,
  { env = {}, workflow = 'shout', answer = SHOUT_ANSWER, prepare, init, workflows = {} } = {},
) {
  const world = nvimWorld({
    init,
    workflows: { ...WORKFLOWS, ...workflows },
    config: CONFIG,
    files: { 'src/sample.txt': SAMPLE },
    cassette: cassette(1),
  });
  if (prepare) {
    await prepare(world);
  }
  const expect = {
    workflow,
    answer: answer.replace(/\n$/, ''),
    edited: ['first line', ...SHOUT_EDIT.split('\n').filter((l) => l !== ''), 'last line'],
    version,
    state_dir: path.join(world.env.XDG_STATE_HOME, 'agentls'),
    secret: SECRET,
    workspace: world.workspace,
  };
  const { result, code, context } = await runNvim(world, name, { expect, env });
  world.cleanup();
  assert.ok(result, `the driver wrote no result\n${context}`);
  assert.equal(result.error, null, `${result.error}\n${context}`);
  const failed = result.checks.filter((c) => !c.ok);
  assert.deepEqual(
    failed.map((c) => `${c.name}: ${c.detail ?? ''}`),
    [],
    `checks failed\n${context}`,
  );
  assert.ok(result.checks.length > 0, 'the scenario checked something');
  assert.equal(code, 0, context);
}

test('visual_run_of_a_replay_workflow_edits_selection_and_streams_answer', () =>
  scenario('visual_run_edits_selection_and_streams_answer'));
test('visual_run_of_a_command_workflow_edits_selection_and_streams_output', () =>
  scenario('visual_run_edits_selection_and_streams_answer', { workflow: 'shout_local', answer: SHOUT_LOCAL_ANSWER }));
test('run_without_name_picks_and_approve_goes_on', () => scenario('run_without_name_picks_and_approve_goes_on'));
test('cancel_stops_a_long_run', () => scenario('cancel_stops_a_long_run'));
test('failed_step_is_retried', () => scenario('failed_step_is_retried'));
test('interrupted_run_is_offered_resume_and_resumes', () =>
  scenario('interrupted_run_is_offered_resume_and_resumes', { prepare: crashedRun }));
test('commands_follow_the_actions_the_server_sends', () => scenario('commands_follow_the_actions_the_server_sends'));
test('checkhealth_reports_binary_state_and_keys', () =>
  scenario('checkhealth_reports_binary_state_and_keys', { env: { OPENAI_API_KEY: SECRET } }));
test('range_follows_selection_and_encoding', () => scenario('range_follows_selection_and_encoding'));
test('worktree_run_diff_apply_discard', () =>
  scenario('worktree_run_diff_apply_discard', { prepare: gitRepo, workflows: { isolated: ISOLATED } }));
test('lsp_enable_alone_attaches_and_runs_a_workflow', () =>
  scenario('lsp_enable_alone_attaches_and_runs_a_workflow', { init: INIT_ENABLE }));

// package.json and the code agree: menus name declared commands, every
// registered command is declared, and the inline actions' `viewItem`
// conditions match exactly the rows that accept those actions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { parseRun, RunState } from '../src/protocol';
import { runTreeItem, stepTreeItem } from '../src/runs';

const root = path.join(__dirname, '..', '..');
interface MenuItem {
  command: string;
  when?: string;
  group?: string;
}
interface Manifest {
  main: string;
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus: Record<string, MenuItem[]>;
    configuration: { properties: Record<string, { type: string; default: unknown; scope?: string }> };
  };
}
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
const declared = new Set(manifest.contributes.commands.map((c) => c.command));

test('menus_only_name_declared_commands', () => {
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) {
      assert.ok(declared.has(item.command), `${menu} names ${item.command}`);
    }
  }
});

test('every_registered_command_is_declared_and_in_the_agent_category', () => {
  const source = readFileSync(path.join(root, 'src', 'commands.ts'), 'utf8');
  const registered = [...source.matchAll(/register\('([\w.]+)'/g)].map((m) => m[1]);
  assert.ok(registered.length >= 10);
  for (const name of registered) {
    assert.ok(declared.has(name), `${name} is registered but not declared`);
  }
  for (const command of manifest.contributes.commands) {
    assert.equal(command.category, 'Agent', command.command);
  }
});

test('palette_has_the_commands_the_issue_names', () => {
  const titles = manifest.contributes.commands.map((c) => `${c.category}: ${c.title}`);
  for (const wanted of ['Agent: Run Workflow…', 'Cancel', 'Retry', 'Resume', 'Skip', 'Override', 'Approve', 'Reject', 'Show Output', 'Show Runs', 'Show Run Diff', 'Apply Run', 'Discard Run']) {
    assert.ok(titles.some((t) => t.includes(wanted)), `${wanted} in ${titles.join(', ')}`);
  }
});

/** The `viewItem =~ /.../` regex of a menu item's when clause. */
function viewItemRegex(item: MenuItem): RegExp {
  const match = /viewItem =~ \/(.+)\/$/.exec(item.when ?? '');
  assert.ok(match, `no viewItem regex in ${item.when}`);
  return new RegExp(match[1]);
}

/** A run with one step, as the server's `agent/state` sends it, read by the extension. */
function run(
  status: string,
  actions: string[],
  step: string,
  stepActions: string[],
  worktree?: string,
): RunState {
  const state = parseRun({
    runId: 'r',
    workflow: 'w',
    status,
    actions,
    steps: [{ id: 's', status: step, actions: stepActions }],
    isolation: worktree ? { worktree: '/state/worktrees/r', branch: 'agentls/r', base: 'abc', state: worktree } : undefined,
  });
  assert.ok(state);
  return state;
}

test('row_menus_show_exactly_the_actions_the_server_lists', () => {
  // The actions are those docs/protocol.md gives for each status. A run that
  // takes both retry and resume (a failed one) shows Retry only: Resume is
  // for runs that cannot be retried (interrupted ones).
  const rows = [
    {
      state: run('failed', ['retry', 'skip', 'override', 'resume', 'cancel'], 'failed', ['retry', 'skip', 'override']),
      runMenus: ['retry', 'skip', 'override', 'cancel'],
      stepMenus: ['retry', 'skip', 'override'],
    },
    {
      state: run('waiting', ['approve', 'reject', 'cancel'], 'waiting', ['approve', 'reject']),
      runMenus: ['approve', 'reject', 'cancel'],
      stepMenus: ['approve', 'reject'],
    },
    { state: run('interrupted', ['resume', 'cancel'], 'running', []), runMenus: ['resume', 'cancel'], stepMenus: [] },
    { state: run('running', ['cancel'], 'running', []), runMenus: ['cancel'], stepMenus: [] },
    { state: run('completed', [], 'completed', []), runMenus: [], stepMenus: [] },
    // Whatever the status says, the menus follow the server's list.
    { state: run('failed', [], 'failed', []), runMenus: [], stepMenus: [] },
    { state: run('failed', ['resume', 'cancel'], 'failed', ['skip']), runMenus: ['resume', 'cancel'], stepMenus: ['skip'] },
    // A run isolated in a worktree (docs/protocol.md "Run state"): its
    // patch while the worktree exists, apply once completed, discard unless
    // a task drives it; nothing once applied or discarded.
    { state: run('completed', [], 'completed', [], 'active'), runMenus: ['diff', 'apply', 'discard'], stepMenus: [] },
    {
      state: run('failed', ['retry', 'skip', 'override', 'resume', 'cancel'], 'failed', ['retry'], 'active'),
      runMenus: ['retry', 'skip', 'override', 'cancel', 'diff', 'discard'],
      stepMenus: ['retry'],
    },
    { state: run('running', ['cancel'], 'running', [], 'active'), runMenus: ['cancel', 'diff'], stepMenus: [] },
    { state: run('completed', [], 'completed', [], 'applied'), runMenus: [], stepMenus: [] },
    { state: run('cancelled', [], 'cancelled', [], 'discarded'), runMenus: [], stepMenus: [] },
  ];
  const items = manifest.contributes.menus['view/item/context'].filter((i) => i.command !== 'agentls.showOutput');
  const actionOf = (command: string): string => command.replace('agentls.', '').replace('showDiff', 'diff');
  const menus = new Set(items.map((i) => actionOf(i.command)));
  assert.deepEqual([...menus].sort(), [
    'apply',
    'approve',
    'cancel',
    'diff',
    'discard',
    'override',
    'reject',
    'resume',
    'retry',
    'skip',
  ]);
  for (const item of items) {
    const action = actionOf(item.command);
    const regex = viewItemRegex(item);
    for (const row of rows) {
      const runRow = runTreeItem(row.state).contextValue;
      const stepRow = stepTreeItem(row.state.steps[0]).contextValue;
      assert.equal(regex.test(runRow), row.runMenus.includes(action), `${item.command} (${item.group}) on ${runRow}`);
      assert.equal(regex.test(stepRow), row.stepMenus.includes(action), `${item.command} (${item.group}) on ${stepRow}`);
    }
  }
});

test('settings_have_defaults_matching_the_code', () => {
  const properties = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(properties).sort(), [
    'agentls.coalescingInterval',
    'agentls.defaultProvider',
    'agentls.logLevel',
    'agentls.path',
    'agentls.trace.server',
  ]);
  assert.equal(properties['agentls.coalescingInterval'].default, 50);
  assert.equal(properties['agentls.logLevel'].default, 'info');
});

test('only_the_machine_chooses_the_server_binary', () => {
  // Not machine-overridable: a workspace's .vscode/settings.json must not
  // pick the program the extension starts when the window opens.
  assert.equal(manifest.contributes.configuration.properties['agentls.path'].scope, 'machine');
});

test('main_points_at_the_compiled_entry_point', () => {
  assert.equal(manifest.main, './out/src/extension.js');
  assert.ok(readFileSync(path.join(root, 'out', 'src', 'extension.js'), 'utf8').includes('activate'));
});

// Settings to server options, and finding the binary.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import {
  answerConfiguration,
  bundledServer,
  configurationChange,
  DEFAULTS,
  findServer,
  initializationOptions,
  outputPerSecond,
  readSettings,
  serverEnv,
} from '../src/settings';

test('defaults_opt_in_to_run_events_and_send_nothing_else', () => {
  assert.deepEqual(initializationOptions(DEFAULTS), { agentls: { runEvents: true } });
  assert.deepEqual(configurationChange(DEFAULTS), { agentls: {} });
});

test('provider_and_interval_become_server_keys', () => {
  const settings = { ...DEFAULTS, defaultProvider: 'gpt', coalescingInterval: 200 };
  assert.deepEqual(initializationOptions(settings), {
    agentls: { default_provider: 'gpt', stream: { output_per_second: 5 }, runEvents: true },
  });
});

test('interval_maps_to_at_least_one_update_a_second', () => {
  assert.equal(outputPerSecond(50), 20);
  assert.equal(outputPerSecond(3000), 1);
});

test('bad_setting_values_fall_back_to_defaults', () => {
  const values: Record<string, unknown> = {
    path: 42,
    logLevel: 'loud',
    coalescingInterval: -5,
    defaultProvider: ' claude ',
  };
  assert.deepEqual(
    readSettings((key) => values[key]),
    { ...DEFAULTS, defaultProvider: 'claude' },
  );
});

test('log_level_goes_to_the_server_environment', () => {
  assert.equal(serverEnv({ ...DEFAULTS, logLevel: 'debug' }, { PATH: '/bin' }).AGENTLS_LOG, 'debug');
});

const BUNDLED = '/ext/server/agentls';

/** findServer on Linux with these executable files. */
function lookup(configured: string, executables: string[], env: { PATH?: string; HOME?: string } = { PATH: '/a:/b' }, remoteName?: string) {
  const exists = new Set(executables);
  return findServer({ configured, bundled: BUNDLED, env, isExecutable: (f) => exists.has(f), platform: 'linux', remoteName });
}

test('bundled_binary_lives_in_the_extensions_server_folder', () => {
  assert.equal(bundledServer('/ext', 'linux'), BUNDLED);
  assert.equal(bundledServer('/ext', 'darwin'), BUNDLED);
  assert.equal(bundledServer('/ext', 'win32'), path.join('/ext', 'server', 'agentls.exe'));
});

test('agentls_path_wins_over_the_bundled_binary_and_path', () => {
  assert.deepEqual(lookup('/opt/agentls', ['/opt/agentls', BUNDLED, '/a/agentls']), {
    found: true,
    path: '/opt/agentls',
    source: 'agentls.path',
  });
});

test('bundled_binary_wins_over_path_when_agentls_path_is_not_set', () => {
  assert.deepEqual(lookup('', [BUNDLED, '/a/agentls']), { found: true, path: BUNDLED, source: 'bundled' });
});

test('path_is_searched_in_order_without_a_bundled_binary', () => {
  assert.deepEqual(lookup('', ['/b/agentls', '/c/agentls'], { PATH: '/a::/b:/c' }), {
    found: true,
    path: '/b/agentls',
    source: 'PATH',
  });
});

test('configured_path_expands_home', () => {
  assert.deepEqual(lookup('~/bin/agentls', ['/home/u/bin/agentls', BUNDLED], { PATH: '/b', HOME: '/home/u' }), {
    found: true,
    path: '/home/u/bin/agentls',
    source: 'agentls.path',
  });
});

test('a_wrong_agentls_path_is_reported_not_replaced_by_another_binary', () => {
  const bad = lookup('/opt/agentls', [BUNDLED, '/a/agentls']);
  assert.deepEqual(bad, {
    found: false,
    reason: 'agentls.path is set to "/opt/agentls", but no executable file is there.',
  });
});

test('no_binary_says_each_place_looked_and_where_to_set_the_path', () => {
  const none = lookup('', []);
  assert.equal(none.found, false);
  assert.equal(
    !none.found && none.reason,
    'No agentls binary was found: this extension bundles none (it is the universal VSIX, not a platform one), ' +
      'there is none on PATH, and agentls.path is not set. ' +
      'Set agentls.path in your User settings; in a remote window (Remote-SSH, WSL, Dev Containers, code-server) ' +
      'in its Remote settings instead (Preferences: Open Remote Settings), as VS Code ignores it in User settings there.',
  );
});

test('in_a_remote_window_the_message_points_at_remote_settings', () => {
  const none = lookup('', [], { PATH: '/a' }, 'ssh-remote');
  assert.equal(
    !none.found && none.reason,
    'No agentls binary was found: this extension bundles none (it is the universal VSIX, not a platform one), ' +
      'there is none on PATH, and agentls.path is not set. ' +
      'This is a remote window (ssh-remote): set agentls.path in the Remote settings ' +
      '(Preferences: Open Remote Settings), the machine the server runs on; VS Code ignores it in User settings here.',
  );
});

test('configuration_requests_get_server_keys_not_editor_settings', () => {
  const settings = { ...DEFAULTS, path: '/x/agentls', defaultProvider: 'gpt' };
  assert.deepEqual(answerConfiguration([{ section: 'agentls' }, { section: 'editor' }, {}], settings), [
    { default_provider: 'gpt' },
    null,
    { default_provider: 'gpt' },
  ]);
});

// Settings to server options, and finding the binary.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  answerConfiguration,
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

test('binary_is_found_on_path_in_order', () => {
  const exists = new Set(['/b/agentls', '/c/agentls']);
  assert.deepEqual(findServer('', { PATH: '/a::/b:/c' }, (f) => exists.has(f), 'linux'), {
    found: true,
    path: '/b/agentls',
  });
});

test('configured_path_wins_and_expands_home', () => {
  assert.deepEqual(
    findServer('~/bin/agentls', { PATH: '/b', HOME: '/home/u' }, (f) => f === '/home/u/bin/agentls', 'linux'),
    { found: true, path: '/home/u/bin/agentls' },
  );
});

test('missing_binary_says_which_lookup_failed', () => {
  const none = findServer('', { PATH: '/a' }, () => false, 'linux');
  assert.equal(none.found, false);
  assert.match(!none.found ? none.reason : '', /not found on PATH/);
  const bad = findServer('/opt/agentls', { PATH: '/a' }, () => false, 'linux');
  assert.match(!bad.found ? bad.reason : '', /agentls.path is set to "\/opt\/agentls"/);
});

test('configuration_requests_get_server_keys_not_editor_settings', () => {
  const settings = { ...DEFAULTS, path: '/x/agentls', defaultProvider: 'gpt' };
  assert.deepEqual(answerConfiguration([{ section: 'agentls' }, { section: 'editor' }, {}], settings), [
    { default_provider: 'gpt' },
    null,
    { default_provider: 'gpt' },
  ]);
});

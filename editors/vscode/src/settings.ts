/**
 * The extension's settings (`agentls.*` in package.json) and what they become
 * on the wire: how to find the server binary, its environment, and the
 * `initializationOptions` / `workspace/didChangeConfiguration` settings.
 *
 * Pure: never imports `vscode`; file-system checks are passed in, so the
 * binary lookup is unit-tested.
 */

import * as path from 'path';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface Settings {
  /** `agentls.path`: the server binary; empty means "agentls" from PATH. */
  path: string;
  /** `agentls.defaultProvider`: provider for prompt steps that name none; empty keeps the server's. */
  defaultProvider: string;
  /** `agentls.logLevel`: the server's log level (AGENTLS_LOG). */
  logLevel: LogLevel;
  /** `agentls.coalescingInterval`: shortest gap between two output updates of a run, in ms. */
  coalescingInterval: number;
}

export const DEFAULTS: Settings = {
  path: '',
  defaultProvider: '',
  logLevel: 'info',
  coalescingInterval: 50,
};

const LOG_LEVELS: readonly string[] = ['error', 'warn', 'info', 'debug', 'trace'];

/** Reads settings through `get` (a `WorkspaceConfiguration.get`), falling back to defaults on bad values. */
export function readSettings(get: (key: string) => unknown): Settings {
  const text = (key: string, fallback: string): string => {
    const value = get(key);
    return typeof value === 'string' ? value.trim() : fallback;
  };
  const level = text('logLevel', DEFAULTS.logLevel);
  const interval = get('coalescingInterval');
  return {
    path: text('path', DEFAULTS.path),
    defaultProvider: text('defaultProvider', DEFAULTS.defaultProvider),
    logLevel: LOG_LEVELS.includes(level) ? (level as LogLevel) : DEFAULTS.logLevel,
    coalescingInterval:
      typeof interval === 'number' && Number.isFinite(interval) && interval > 0
        ? interval
        : DEFAULTS.coalescingInterval,
  };
}

/**
 * The server configuration these settings stand for, in the server's own keys
 * (docs/configuration.md): `default_provider` and `stream.output_per_second`.
 * Only what the user set is sent, so files keep deciding the rest.
 */
export function serverSettings(settings: Settings): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (settings.defaultProvider !== '') {
    result.default_provider = settings.defaultProvider;
  }
  if (settings.coalescingInterval !== DEFAULTS.coalescingInterval) {
    result.stream = { output_per_second: outputPerSecond(settings.coalescingInterval) };
  }
  return result;
}

/** `stream.output_per_second` for an interval in ms: at least 1, rounded. */
export function outputPerSecond(intervalMs: number): number {
  return Math.max(1, Math.round(1000 / intervalMs));
}

/**
 * `initializationOptions`: the server settings plus the opt-in to run events
 * (`agent/output`, `agent/state`), which the Output channel and the Runs view need.
 */
export function initializationOptions(settings: Settings): { agentls: Record<string, unknown> } {
  return { agentls: { ...serverSettings(settings), runEvents: true } };
}

/** `workspace/didChangeConfiguration` settings after the user changed a setting. */
export function configurationChange(settings: Settings): { agentls: Record<string, unknown> } {
  return { agentls: serverSettings(settings) };
}

/** Environment of the server process: the log level, nothing else changed. */
export function serverEnv(
  settings: Settings,
  base: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  return { ...base, AGENTLS_LOG: settings.logLevel };
}

/** Settings whose change needs a server restart (they shape the process, not the session). */
export const RESTART_KEYS = ['agentls.path', 'agentls.logLevel'] as const;

export type BinaryLookup =
  | { found: true; path: string }
  | { found: false; reason: string };

/**
 * Finds the server binary: `agentls.path` when set (a `~/` prefix is the
 * home directory), else the first `agentls` on PATH.
 */
export function findServer(
  configured: string,
  env: { PATH?: string; HOME?: string },
  isExecutable: (file: string) => boolean,
  platform: NodeJS.Platform = process.platform,
): BinaryLookup {
  if (configured !== '') {
    const expanded =
      configured.startsWith('~/') && env.HOME ? path.join(env.HOME, configured.slice(2)) : configured;
    return isExecutable(expanded)
      ? { found: true, path: expanded }
      : {
          found: false,
          reason: `agentls.path is set to "${configured}", but no executable file is there.`,
        };
  }
  const names = platform === 'win32' ? ['agentls.exe', 'agentls'] : ['agentls'];
  const separator = platform === 'win32' ? ';' : ':';
  for (const dir of (env.PATH ?? '').split(separator)) {
    if (dir === '') {
      continue;
    }
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) {
        return { found: true, path: candidate };
      }
    }
  }
  return {
    found: false,
    reason: 'The agentls binary was not found on PATH, and agentls.path is not set.',
  };
}

/**
 * The answer to a `workspace/configuration` request. VS Code would answer
 * with its own `agentls.*` settings (path, logLevel, ...), which are not
 * server keys, so the extension answers with the server settings instead.
 */
export function answerConfiguration(
  items: readonly { section?: string }[],
  settings: Settings,
): unknown[] {
  return items.map((item) =>
    item.section === undefined || item.section === 'agentls'
      ? serverSettings(settings)
      : null,
  );
}

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

/** Where the server binary came from, in the order they are tried. */
export type ServerSource = 'agentls.path' | 'bundled' | 'PATH';

export type BinaryLookup =
  | { found: true; path: string; source: ServerSource }
  | { found: false; reason: string };

/**
 * Where a platform VSIX (`scripts/package-vsix.sh`) puts the server:
 * `server/agentls`, `server/agentls.exe` on Windows, in the extension.
 */
export function bundledServer(extensionPath: string, platform: NodeJS.Platform = process.platform): string {
  return path.join(extensionPath, 'server', platform === 'win32' ? 'agentls.exe' : 'agentls');
}

export interface ServerSearch {
  /** `agentls.path`, trimmed; empty when not set. */
  configured: string;
  /** The path the bundled binary has when the extension is a platform VSIX (`bundledServer`). */
  bundled: string;
  env: { PATH?: string; HOME?: string };
  isExecutable: (file: string) => boolean;
  platform?: NodeJS.Platform;
  /** `vscode.env.remoteName`: the kind of remote window (`ssh-remote`, `wsl`, ...), undefined in a local one. */
  remoteName?: string;
}

/**
 * Finds the server binary, as rust-analyzer does: `agentls.path` when set (a
 * `~/` prefix is the home directory; a wrong path is an error, not a reason
 * to run another binary), else the binary a platform VSIX bundles, else the
 * first `agentls` on PATH.
 */
export function findServer(search: ServerSearch): BinaryLookup {
  const { configured, bundled, env, isExecutable } = search;
  const platform = search.platform ?? process.platform;
  if (configured !== '') {
    const expanded =
      configured.startsWith('~/') && env.HOME ? path.join(env.HOME, configured.slice(2)) : configured;
    return isExecutable(expanded)
      ? { found: true, path: expanded, source: 'agentls.path' }
      : {
          found: false,
          reason: `agentls.path is set to "${configured}", but no executable file is there.`,
        };
  }
  if (isExecutable(bundled)) {
    return { found: true, path: bundled, source: 'bundled' };
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
        return { found: true, path: candidate, source: 'PATH' };
      }
    }
  }
  return {
    found: false,
    reason:
      'No agentls binary was found: this extension bundles none (it is the universal VSIX, ' +
      'not a platform one), there is none on PATH, and agentls.path is not set. ' +
      whereToSetPath(search.remoteName),
  };
}

/**
 * Where `agentls.path` takes effect. It is a machine setting, so a remote
 * window (Remote-SSH, WSL, Dev Containers, code-server) ignores it in User
 * settings and reads it from the Remote settings of the machine the server
 * runs on.
 */
export function whereToSetPath(remoteName: string | undefined): string {
  if (remoteName) {
    return (
      `This is a remote window (${remoteName}): set agentls.path in the Remote settings ` +
      '(Preferences: Open Remote Settings), the machine the server runs on; ' +
      'VS Code ignores it in User settings here.'
    );
  }
  return (
    'Set agentls.path in your User settings; in a remote window (Remote-SSH, WSL, ' +
    'Dev Containers, code-server) in its Remote settings instead ' +
    '(Preferences: Open Remote Settings), as VS Code ignores it in User settings there.'
  );
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

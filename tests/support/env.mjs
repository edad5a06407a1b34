// A hermetic world for one end-to-end test: a temporary HOME with XDG
// directories, user workflows and a user config (user workflows are trusted,
// so run steps need no approval), a workspace folder with files, and the
// agentls binary to start. Nothing of the developer's own configuration,
// state or API keys leaks in.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The server under test: $AGENTLS_BIN, else the debug build. */
export function agentlsBin() {
  const bin = process.env.AGENTLS_BIN || path.join(repoRoot, 'target', 'debug', 'agentls');
  if (!existsSync(bin)) {
    throw new Error(`agentls binary not found at ${bin}: run \`cargo build -p agentls\` or set AGENTLS_BIN`);
  }
  return path.resolve(bin);
}

const SECRET_VARS = /^(ANTHROPIC|OPENAI|GEMINI|GOOGLE|AZURE)_|_API_KEY$|_TOKEN$/;

/**
 * Creates the world. `workflows` maps names to TOML text (user workflows),
 * `config` is the user config.toml, `files` maps workspace-relative paths to
 * text, `cassette` is written to <home>/cassette.json (its path is in `cassettePath`).
 */
export function makeWorld({ workflows = {}, config = '', files = {}, cassette } = {}) {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'agentls-e2e-')));
  const home = path.join(root, 'home');
  const xdg = {
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
  };
  for (const dir of Object.values(xdg)) {
    mkdirSync(dir, { recursive: true });
  }
  const workspace = path.join(root, 'workspace');
  mkdirSync(path.join(workspace, '.git'), { recursive: true });
  const cassettePath = path.join(home, 'cassette.json');
  if (cassette) {
    writeFileSync(cassettePath, JSON.stringify(cassette, null, 2));
  }
  const agentlsConfig = path.join(xdg.XDG_CONFIG_HOME, 'agentls');
  mkdirSync(path.join(agentlsConfig, 'workflows'), { recursive: true });
  for (const [name, text] of Object.entries(workflows)) {
    writeFileSync(path.join(agentlsConfig, 'workflows', `${name}.toml`), text);
  }
  if (config) {
    writeFileSync(path.join(agentlsConfig, 'config.toml'), config.replaceAll('@CASSETTE@', cassettePath));
  }
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(workspace, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!SECRET_VARS.test(key) && !key.startsWith('XDG_') && !key.startsWith('AGENTLS_') && !key.startsWith('NVIM')) {
      env[key] = value;
    }
  }
  Object.assign(env, xdg, { HOME: home, AGENTLS_LOG: process.env.AGENTLS_TEST_LOG || 'info' });
  return {
    root,
    home,
    workspace,
    cassettePath,
    env,
    uri: (rel) => pathToFileURL(path.join(workspace, rel)).href,
    path: (rel) => path.join(workspace, rel),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Makes a world's workspace a git repository with one commit of its files. */
export function gitRepo(world) {
  rmSync(path.join(world.workspace, '.git'), { recursive: true, force: true });
  const git = (...args) =>
    execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
      cwd: world.workspace,
      env: world.env,
    });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'sample');
}

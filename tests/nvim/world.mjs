// A user's machine for the Neovim tests, set up the way docs/editors.md tells
// a user: the agentls checkout at ~/src/agentls, `agentls` on PATH from
// ~/.cargo/bin, the plugin linked into Neovim's packages by the documented
// shell commands, and ~/.config/nvim/init.lua being the documented block,
// unchanged.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { agentlsBin, makeWorld, repoRoot } from '../support/env.mjs';

/** The fenced block that follows the HTML comment containing `marker` in docs/editors.md. */
export function docsBlock(marker) {
  const text = readFileSync(path.join(repoRoot, 'docs', 'editors.md'), 'utf8');
  const at = text.indexOf(marker);
  if (at < 0) {
    throw new Error(`docs/editors.md has no block marked "${marker}"`);
  }
  const match = /```(\w+)\n([\s\S]*?)```/.exec(text.slice(at));
  if (!match) {
    throw new Error(`no fenced block after "${marker}" in docs/editors.md`);
  }
  return match[2];
}

/** Markers of the docs/editors.md blocks a world can use as init.lua. */
export const INIT_SETUP = 'tests/nvim uses this block as init.lua, unchanged';
export const INIT_ENABLE = 'tests/nvim uses this vim.lsp.enable block as init.lua';

/**
 * A fresh user set up as docs/editors.md says; `init` is the marker of the
 * block that becomes init.lua: the setup() block by default.
 */
export function nvimWorld({ init = INIT_SETUP, ...options }) {
  const world = makeWorld(options);
  // The checkout and `cargo install` of docs/editors.md section 1.
  mkdirSync(path.join(world.home, 'src'), { recursive: true });
  symlinkSync(repoRoot, path.join(world.home, 'src', 'agentls'));
  const cargoBin = path.join(world.home, '.cargo', 'bin');
  mkdirSync(cargoBin, { recursive: true });
  symlinkSync(agentlsBin(), path.join(cargoBin, 'agentls'));
  world.env.PATH = `${cargoBin}:${world.env.PATH}`;

  // The install commands, run by a shell as the user would.
  execFileSync('sh', ['-eu', '-c', docsBlock('tests/nvim runs this block')], {
    env: world.env,
    cwd: world.home,
  });
  const initFile = path.join(world.env.XDG_CONFIG_HOME, 'nvim', 'init.lua');
  mkdirSync(path.dirname(initFile), { recursive: true });
  writeFileSync(initFile, docsBlock(init));
  return world;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Neovim under test: $NVIM_BIN, else `nvim` from PATH. */
export const NVIM = process.env.NVIM_BIN || 'nvim';

/**
 * Starts `nvim --headless` on the world's src/sample.txt, runs `scenario` of
 * driver.lua and returns its JSON result (undefined when it wrote none), the
 * exit code, and text to show when something went wrong.
 */
export async function runNvim(world, scenario, { expect = {}, env = {}, timeout = 90_000 } = {}) {
  const resultFile = path.join(world.root, `${scenario}.json`);
  const child = spawn(NVIM, ['--headless', '-c', `luafile ${path.join(here, 'driver.lua')}`, world.path('src/sample.txt')], {
    cwd: world.workspace,
    env: {
      ...world.env,
      ...env,
      AGENTLS_TEST_SCENARIO: scenario,
      AGENTLS_TEST_RESULT: resultFile,
      AGENTLS_TEST_EXPECT: JSON.stringify(expect),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('killed after timeout');
    }, timeout);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const log = path.join(world.env.XDG_STATE_HOME, 'nvim', 'lsp.log');
  const lspLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '';
  const result = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : undefined;
  return { result, code, context: `nvim exit ${code}\n${output.slice(-4000)}\nlsp.log:\n${lspLog}` };
}

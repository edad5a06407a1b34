#!/usr/bin/env bash
# Real ACP agents from npm against agentls, each through a whole turn that
# reads and edits a file, with the vendor a fake Anthropic Messages API on
# 127.0.0.1 (tests/acp-real/fake_anthropic.py), which is also the agent's
# HTTPS proxy (Claude Code fetches plugin lists from GitHub and more: those
# CONNECTs are refused there): nothing reaches the network but the npm
# registry, at install time. Where strace is installed every connect(2) is
# traced and must go to 127.0.0.1.
#
# tests/acp-real/package-lock.json pins (npm ci, once; a stamp skips it when
# the lock is what is installed):
#   - @zed-industries/claude-agent-acp 0.23.1, what the `claude-code`
#     built-in starts. Its Claude Code uses its own Read and Edit tools on
#     the disk; agentls answers its permission request for the edit from
#     `allow.edit`.
#   - @zed-industries/claude-code-acp 0.16.2, the same adapter under its
#     previous name, whose Read and Edit are its own MCP tools
#     (mcp__acp__Read, mcp__acp__Edit) that go through ACP fs/read_text_file
#     and fs/write_text_file, so agentls serves the read and writes the edit.
#
# For each: `agentls run` of an `acp = "claude-code"` step whose fake vendor
# asks for a read of src/lib.rs, then an edit of its `41` to `42`, then says
# "Done.". Checked: agentls's log has the agent's answers to `initialize`
# and `session/new`, and no warning (a message it refused); the run exits 0
# and is `completed` with the agent's text as the step's output;
# src/lib.rs says 42; the fake vendor got the read's tool_result with the
# file's text, and the edit's; the live output shows agentls's part (the
# permission it granted; `▸ read`/`▸ wrote` where it served fs/*); no
# process of the agent outlives the run. The workflow requires the
# sandbox, so the agent's process runs confined (writes to the workspace,
# its TMPDIR and its own ~/.claude paths only); for the built-in, after
# the edit the fake vendor asks for a Write outside the workspace with
# Claude Code's own tool, which its own settings let through unasked: it
# must fail with EACCES and leave nothing. A third run has no `allow` rule
# for the edit: the step waits for a person and `agentls approve` from
# another process answers. About 10 s once installed. See
# docs/agents.md ("Tested with").
#
#   scripts/test-acp-real.sh [--bin PATH] [--keep]
#
# --keep leaves the scratch directory (logs, the fake vendor's request log)
# and prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=""
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--bin PATH] [--keep]" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  cargo build --locked -p agentls
  bin="$root/target/debug/agentls"
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

here=$root/tests/acp-real
# npm ci wipes node_modules; skip it when the lock file is what is installed.
stamp=$here/node_modules/.agentls-installed
if [ ! -f "$stamp" ] || ! cmp -s "$here/package-lock.json" "$stamp"; then
  echo "== install: claude-agent-acp, claude-code-acp (npm ci, tests/acp-real)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$stamp"
fi

scratch="$(mktemp -d)"
fake_pid=""
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  if [ -n "$keep" ]; then echo "kept: $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

failures=()
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAIL: $what" >&2
    failures+=("$what")
  fi
}

# The fake vendor's log: did a request carry a tool_result of TOOL whose text
# has TEXT (the conversation's tool_use names the tool; the log keeps the last
# message, so the result is matched by the tool_use id's prefix).
vendor_saw() {
  python3 - "$1" "$2" "$3" "${4:-}" <<'PY'
import json, sys
log, prefix, text, error = sys.argv[1:]
for line in open(log, encoding="utf-8"):
    entry = json.loads(line)
    last = entry.get("last_message") or {}
    for block in last.get("content") or []:
        if (isinstance(block, dict) and block.get("type") == "tool_result"
                and str(block.get("tool_use_id", "")).startswith(prefix)
                and bool(block.get("is_error")) == (error == "error")
                and text in block.get("text", "")):
            sys.exit(0)
sys.exit(1)
PY
}

# The newest run of the workspace, from `agentls show --json`: its status,
# then its one step's output, on one line each.
newest_run() {
  local id
  id=$("$@" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
  # `show` exits 1 for a failed run; its JSON is what is wanted.
  { "$@" show "$id" --json || true; } | python3 -c '
import json, sys
run = json.load(sys.stdin)
print(run["status"])
print(json.dumps(run["steps"][0].get("output") or ""))'
}

# Processes carrying this HOME: the agent, the `claude` it starts, their children.
survivors() {
  local home=$1 environ found=""
  for environ in /proc/[0-9]*/environ; do
    if { tr '\0' '\n' < "$environ"; } 2>/dev/null | grep -qx "HOME=$home"; then
      found="$found ${environ#/proc/}"
    fi
  done
  echo "${found% /environ}"
}

# The id of the run whose step waits for a person, once it does (the
# agent's permission request outside `allow`); waits up to 60 s.
question() {
  local i shown
  for i in $(seq 600); do
    shown=$("$@" runs --json 2>/dev/null | python3 -c '
import json, sys
runs = json.load(sys.stdin)
print(runs[0]["id"] if runs else "")' 2>/dev/null || true)
    # `show` exits non-zero for a run that is not completed.
    if [ -n "$shown" ] && { "$@" show "$shown" --json 2>/dev/null || true; } | python3 -c '
import json, sys
run = json.load(sys.stdin)
sys.exit(0 if run["status"] == "running" and run["steps"][0]["status"] == "waiting" else 1)'; then
      echo "$shown"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# one_agent NAME PROGRAM VIA [asked]: VIA is `fs` when the agent's reads and
# writes go through ACP fs/*, `own` when it uses its own tools on the disk.
# `asked`: no `allow` rule covers the edit, so the step waits for a person,
# and `agentls approve` from another process answers.
one_agent() {
  local name=$1 program=$2 via=$3 asked=${4:-}
  local dir=$scratch/$name
  local allow='allow = { edit = ["src/**"] }'
  [ -n "$asked" ] && allow=''
  echo "== $name ($(basename "$program"))"
  mkdir -p "$dir/config/agentls/workflows" "$dir/ws/src" "$dir/home" "$dir/state"
  # As for someone who has run Claude Code before: its ~/.claude.json
  # exists (agentls creates the built-in's directories, not its files).
  echo "{}" > "$dir/home/.claude.json"
  # The built-in (Claude Code's own tools): after the edit the vendor asks
  # for a Write outside the workspace, which Claude Code's own rule lets
  # through without asking anyone: only the agent's sandbox can stop it.
  local escape=()
  if [ "$via" = own ] && [ -z "$asked" ]; then
    escape=(--escape "$dir/outside.txt")
    mkdir -p "$dir/home/.claude"
    printf '{ "permissions": { "allow": ["Write"] } }\n' > "$dir/home/.claude/settings.json"
  fi
  printf 'pub fn answer() -> u32 {\n    41\n}\n' > "$dir/ws/src/lib.rs"
  python3 "$here/fake_anthropic.py" --workspace "$dir/ws" --log "$dir/vendor.jsonl" \
    --port-file "$dir/port" "${escape[@]}" &
  fake_pid=$!
  for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
  local port
  port=$(cat "$dir/port")

  cat > "$dir/config/agentls/config.toml" <<TOML
[agents.claude-code]
command = ["$program"]
env = { ANTHROPIC_BASE_URL = "http://127.0.0.1:$port", ANTHROPIC_API_KEY = "sk-ant-fake-key-for-a-fake-vendor", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1", DISABLE_TELEMETRY = "1", DISABLE_AUTOUPDATER = "1", HTTPS_PROXY = "http://127.0.0.1:$port", HTTP_PROXY = "http://127.0.0.1:$port", NO_PROXY = "127.0.0.1" }
TOML
  # Sandboxed (the agent's process too: writes confined to the workspace,
  # its TMPDIR and the built-in's own paths such as ~/.claude).
  cat > "$dir/config/agentls/workflows/fix.toml" <<'TOML'
sandbox = { required = true }

[[steps]]
id = "fix"
agent = "src/lib.rs answers 41; make it answer 42."
acp = "claude-code"
timeout = "120s"
TOML
  echo "$allow" >> "$dir/config/agentls/workflows/fix.toml"

  # With strace there, every connect(2) of agentls and all it starts is
  # recorded, to show that none left 127.0.0.1 (nor asked a DNS server).
  local trace=()
  if command -v strace >/dev/null && strace -f -qq -e trace=connect -o /dev/null true 2>/dev/null; then
    trace=(strace -f -qq -e trace=connect -o "$dir/connect.trace")
  fi
  local rc=0 started=$SECONDS
  local as_user=(env -i PATH="$PATH" HOME="$dir/home" XDG_CONFIG_HOME="$dir/config"
    AGENTLS_STATE_DIR="$dir/state")
  (cd "$dir/ws" && "${as_user[@]}" AGENTLS_LOG="info,agent_client_protocol=debug" \
    "${trace[@]}" "$bin" run fix) > "$dir/run.out" 2>&1 &
  local agentls_pid=$!
  if [ -n "$asked" ]; then
    local run_id approved=""
    if run_id=$(cd "$dir/ws" && question "${as_user[@]}" "$bin"); then
      (cd "$dir/ws" && "${as_user[@]}" "$bin" approve "$run_id") > "$dir/approve.out" 2>&1 \
        && approved=1
    fi
    check "$name: the edit waited for a person and agentls approve (another process) answered" \
      test -n "$approved"
  fi
  wait "$agentls_pid" || rc=$?
  local left
  left=$(survivors "$dir/home")
  sed 's/^/  | /' "$dir/run.out"
  echo "  (agentls run: exit $rc after $((SECONDS - started)) s)"
  kill "$fake_pid" 2>/dev/null || true
  wait "$fake_pid" 2>/dev/null || true
  fake_pid=""

  local log=$dir/state/agentls.log
  local method
  for method in initialize session/new; do
    check "$name answered $method" grep -q "into_typed_dispatch method=\"$method\"" "$log"
  done
  # A message of the agent's that agentls's ACP SDK refused (an update it
  # cannot parse is dropped with a warning, and the agent is not told).
  local warned
  warned=$(grep -E '^[^ ]+ +(WARN|ERROR) ' "$log" | cut -c1-300 || true)
  check "$name: agentls's log has no warning or error${warned:+: $warned}" test -z "$warned"
  check "$name: agentls run exits 0" test "$rc" = 0
  local shown status output
  shown=$(cd "$dir/ws" && newest_run env -i PATH="$PATH" HOME="$dir/home" \
    XDG_CONFIG_HOME="$dir/config" AGENTLS_STATE_DIR="$dir/state" "$bin") || shown=""
  status=$(sed -n 1p <<<"$shown")
  output=$(sed -n 2p <<<"$shown")
  check "$name: the run is completed (agentls show: ${status:-nothing})" test "$status" = completed
  check "$name: the step's output is the agent's text, ending in Done. ($output)" \
    grep -q 'Done\."$' <<<"$output"
  check "$name: the vendor got the read's tool_result with the file's text" \
    vendor_saw "$dir/vendor.jsonl" toolu_read_ "    41"
  check "$name: the vendor got the edit's tool_result" \
    vendor_saw "$dir/vendor.jsonl" toolu_edit_ ""
  check "$name: src/lib.rs now says 42" grep -qx "    42" "$dir/ws/src/lib.rs"
  if [ ${#escape[@]} -gt 0 ]; then
    check "$name: its own Write outside the workspace failed in its sandbox" \
      vendor_saw "$dir/vendor.jsonl" toolu_escape_ "EACCES" error
    check "$name: nothing was written outside the workspace" test ! -e "$dir/outside.txt"
  fi
  if [ "$via" = fs ]; then
    check "$name: agentls served the read (fs/read_text_file)" grep -q "▸ read src/lib.rs" "$dir/run.out"
    check "$name: agentls wrote the edit (fs/write_text_file)" grep -q "▸ wrote src/lib.rs" "$dir/run.out"
  fi
  if [ -n "$asked" ]; then
    check "$name: the question and its answer are in the live output" \
      grep -q "▸ approved: Edit .*src/lib.rs" "$dir/run.out"
  else
    # claude-code-acp 0.16 asks with a bare toolCall (title and rawInput;
    # the kind `edit` and the file came in its `tool_call` update before):
    # agentls decides with both, so `allow.edit` answers it too.
    check "$name: agentls's allow.edit granted the edit's permission request" \
      grep -q "▸ allowed: Edit .*src/lib.rs" "$dir/run.out"
  fi
  check "$name: no process of the agent outlived the run (${left:-none left})" test -z "$left"
  if [ -f "$dir/connect.trace" ]; then
    local away
    away=$(grep -o 'sa_family=AF_INET6\?, [^}]*}' "$dir/connect.trace" \
      | grep -v 'inet_addr("127\.0\.0\.1")\|inet_pton(AF_INET6, "::1"' | sort -u || true)
    check "$name: every connection went to 127.0.0.1 (strace)${away:+: $away}" test -z "$away"
  else
    echo "note: no working strace here; the connections were not traced"
  fi
}

start=$SECONDS
one_agent claude-agent-acp "$here/node_modules/.bin/claude-agent-acp" own
one_agent claude-code-acp "$here/node_modules/.bin/claude-code-acp" fs
one_agent claude-agent-acp-asked "$here/node_modules/.bin/claude-agent-acp" own asked
echo "== acp-real: $((SECONDS - start)) s"
if [ ${#failures[@]} -gt 0 ]; then
  echo "== acp-real FAILED: ${#failures[@]} check(s)" >&2
  exit 1
fi
echo "== acp-real passed"

#!/usr/bin/env bash
# The README's main job: builds agentls and runs the demo workflow in a
# scratch copy of examples/demo, with its own state directory. Offline by
# default (the model's answer is replayed from a recorded cassette); with
# ANTHROPIC_API_KEY set, the same workflow asks Claude for real.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p agentls
bin="$PWD/target/release/agentls"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export AGENTLS_STATE_DIR="$scratch/state"
cp -r examples/demo "$scratch/workspace"
if [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  echo "ANTHROPIC_API_KEY is set: the demo asks Claude live."
  rm "$scratch/workspace/.agentls/config.toml"
fi
cd "$scratch/workspace"
# The workflow comes with the workspace, so it runs commands only once
# approved; --trust approves this exact file content (see docs/cli.md).
"$bin" run tour --trust
echo
"$bin" runs

#!/usr/bin/env bash
# The test command of README.md: sets up what the tests need on a fresh
# machine, then runs every check CI runs. Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check

echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
cargo test --workspace --locked --no-fail-fast

echo "== editors"
AGENTLS_BIN="$PWD/target/debug/agentls" ./scripts/test-editors.sh

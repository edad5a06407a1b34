#!/usr/bin/env bash
# The test command of README.md: sets up what the tests need on a fresh
# machine, then runs every check CI runs. Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check

echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== unused dependencies"
# cargo-machete reads each crate's sources for the dependencies its manifest
# names; a few seconds, no network once installed (a pinned version, from
# crates.io, the first time: about 3 minutes of build).
if ! cargo machete --version >/dev/null 2>&1; then
    cargo install cargo-machete --version 0.9.2 --locked
fi
cargo machete
# machete looks at crates only: an entry of [workspace.dependencies] that no
# crate takes any more is checked here.
for dep in $(sed -n '/^\[workspace\.dependencies\]/,/^\[/s/^\([A-Za-z0-9_-]*\) *=.*/\1/p' Cargo.toml); do
    if ! grep -qE "^$dep(\.workspace *= *true| *= *\{.*workspace *= *true)" server/Cargo.toml crates/*/Cargo.toml; then
        echo "[workspace.dependencies] $dep: no crate uses it" >&2
        exit 1
    fi
done

echo "== tests"
cargo test --workspace --locked --no-fail-fast

echo "== editors"
AGENTLS_BIN="$PWD/target/debug/agentls" ./scripts/test-editors.sh

#!/usr/bin/env bash
# Packages a platform VSIX of the VS Code extension, as rust-analyzer ships
# its own: `vsce package --target TARGET` with the agentls binary for that
# platform at server/agentls (server/agentls.exe on Windows) inside the
# extension, which the extension starts unless agentls.path is set.
#
#   scripts/package-vsix.sh [--target TARGET] [--bin PATH] [--out FILE] [--keep-debug]
#
#   --target      VS Code platform: linux-x64, linux-arm64, linux-armhf,
#                 alpine-x64, alpine-arm64, darwin-x64, darwin-arm64,
#                 win32-x64, win32-arm64. Default: this machine's.
#   --bin PATH    bundle this agentls binary (built for TARGET) instead of
#                 building one; stripped of debug info when it is a Linux
#                 binary for this machine.
#   --out FILE    the VSIX to write. Default: editors/vscode/agentls-TARGET.vsix.
#   --keep-debug  bundle the binary with its debug info.
#
# Without --bin it builds `cargo build --release --locked -p agentls
# --target TRIPLE` (the rustup target must be installed). The bundled copy of
# an ELF binary (Linux targets) is stripped of debug info; for a release
# build for this machine, its line tables go to agentls-TARGET.debug beside
# the VSIX, linked with .gnu_debuglink, for symbolising crash backtraces
# (for another architecture rustc strips them). The universal VSIX
# (no binary, agentls from PATH) stays `npm run package` in editors/vscode.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ext=$root/editors/vscode

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit "$1"
}

target=""
bin=""
out=""
keep_debug=0
while [ $# -gt 0 ]; do
  case $1 in
    --target) target=${2:?--target needs a value}; shift 2 ;;
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    --out) out=${2:?--out needs a file}; shift 2 ;;
    --keep-debug) keep_debug=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "package-vsix.sh: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done

if [ -z "$target" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=linux-x64 ;;
    Linux-aarch64) target=linux-arm64 ;;
    Darwin-x86_64) target=darwin-x64 ;;
    Darwin-arm64) target=darwin-arm64 ;;
    *) echo "package-vsix.sh: no VS Code target for $(uname -s)-$(uname -m); pass --target" >&2; exit 2 ;;
  esac
fi

# VS Code's platform names (vsce's --target) and the Rust targets they run.
case $target in
  linux-x64) triple=x86_64-unknown-linux-gnu ;;
  linux-arm64) triple=aarch64-unknown-linux-gnu ;;
  linux-armhf) triple=armv7-unknown-linux-gnueabihf ;;
  alpine-x64) triple=x86_64-unknown-linux-musl ;;
  alpine-arm64) triple=aarch64-unknown-linux-musl ;;
  darwin-x64) triple=x86_64-apple-darwin ;;
  darwin-arm64) triple=aarch64-apple-darwin ;;
  win32-x64) triple=x86_64-pc-windows-msvc ;;
  win32-arm64) triple=aarch64-pc-windows-msvc ;;
  *) echo "package-vsix.sh: unsupported target $target" >&2; exit 2 ;;
esac
case $target in
  win32-*) exe=agentls.exe ;;
  *) exe=agentls ;;
esac
case $target in
  linux-* | alpine-*) elf=1 ;;
  *) elf=0 ;;
esac

out=${out:-$ext/agentls-$target.vsix}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p' || true)
if [ -z "$host" ] && [ "$(uname -sm)" = "Linux x86_64" ]; then
  host=x86_64-unknown-linux-gnu
fi

debug_file=""
if [ -z "$bin" ]; then
  echo "== build agentls for $target ($triple, release)"
  if [ "$elf" = 1 ] && [ "$keep_debug" = 0 ] && [ "$triple" != "$host" ]; then
    # This machine's objcopy may not know another architecture's ELF:
    # let rustc strip the debug info, and keep no line tables.
    CARGO_PROFILE_RELEASE_STRIP=debuginfo cargo build --release --locked -p agentls --target "$triple"
  else
    cargo build --release --locked -p agentls --target "$triple"
    if [ "$elf" = 1 ]; then
      debug_file=${out%.vsix}.debug
    fi
  fi
  bin=$root/target/$triple/release/$exe
fi
if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
  echo "package-vsix.sh: $bin is not an executable file" >&2
  exit 1
fi

# The binary goes where the extension looks for it (settings.ts
# bundledServer), only for as long as vsce packages: a later universal
# `npm run package` must not pick it up.
staged=$ext/server
if [ -e "$staged" ]; then
  echo "package-vsix.sh: $staged exists; remove it (a packaging that did not finish?)" >&2
  exit 1
fi
trap 'rm -rf "$staged"' EXIT
trap 'exit 1' INT TERM HUP
mkdir "$staged"
cp "$bin" "$staged/$exe"
chmod 755 "$staged/$exe"
if [ "$elf" = 1 ] && [ "$keep_debug" = 0 ] && [ "$triple" = "$host" ]; then
  if [ -n "$debug_file" ]; then
    objcopy --only-keep-debug "$staged/$exe" "$debug_file"
    objcopy --strip-debug --add-gnu-debuglink="$debug_file" "$staged/$exe"
    echo "== line tables: $debug_file"
  else
    strip --strip-debug "$staged/$exe"
  fi
fi

# A binary this machine can run must answer before it is shipped.
if [ "$triple" = "$host" ]; then
  echo "== bundled: $("$staged/$exe" --version)"
fi

echo "== vsce package --target $target"
if [ ! -x "$ext/node_modules/.bin/vsce" ]; then
  (cd "$ext" && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd "$ext" && ./node_modules/.bin/vsce package --skip-license --allow-missing-repository --target "$target" -o "$out")
echo "== wrote $out ($(du -h "$out" | cut -f1))"

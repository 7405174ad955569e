#!/usr/bin/env bash
# Builds the Worker (worker/ → worker/build/) once; skips when the build is newer
# than every source it depends on. Usage: scripts/build-worker.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
# The pages load edgepay/bridge from www/vendor/ (git-ignored; no CDN): refresh the copy.
mkdir -p www/vendor && cmp -s pkg/bridge.js www/vendor/edgepay-bridge.js || cp pkg/bridge.js www/vendor/edgepay-bridge.js
out=worker/build/index_bg.wasm
if [ "${1:-}" != "--force" ] && [ -f "$out" ] && [ -f worker/build/index.js ]; then
  newer=$(find worker/src worker/Cargo.toml worker/Cargo.lock src Cargo.toml -newer "$out" -print -quit 2>/dev/null || true)
  if [ -z "$newer" ]; then
    echo "[build-worker] up to date ($out)"
    exit 0
  fi
fi
command -v worker-build >/dev/null || { echo "worker-build not found: run scripts/setup.sh worker" >&2; exit 2; }
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || true)}"
[ -n "$WASM_BINDGEN_BIN" ] || { echo "wasm-bindgen not found: run scripts/setup.sh worker" >&2; exit 2; }
export WASM_BINDGEN_BIN
start=$(date +%s)
echo "[build-worker] worker-build --release"
(cd worker && worker-build --release)
# Stamp the build with its start time: a source edited during the build is newer and rebuilds next time.
touch -d "@$start" "$out"

#!/usr/bin/env bash
# Builds the signing wasm of the npm package into pkg/wasm/ (generated, git-ignored).
#   wasm-pack build --target web  (one output that loads in Node ≥ 20 ESM, a browser
#   <script type=module> and a Cloudflare Worker; pkg/index.js does the init per host)
#   then wasm-opt -Oz from the npm package `binaryen` (Debian's is too old), if installed.
# Usage: scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=--release
[ "${1:-}" = "--dev" ] && profile=--dev

wasm=pkg/wasm/edgepay_bg.wasm
# Build once: skip when the wasm is newer than every input (set FORCE=1 to rebuild).
if [ -z "${FORCE:-}" ] && [ "$profile" = --release ] && [ -f "$wasm" ] && [ -f pkg/wasm/edgepay.js ] \
   && [ -z "$(find src Cargo.toml Cargo.lock scripts/build-wasm.sh -newer "$wasm" -print -quit)" ]; then
  echo "[build-wasm] up to date: $wasm"
  exit 0
fi

# opt-level z (size) for the wasm only; the native release profile keeps "s".
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-z}"
wasm-pack build "$profile" --target web --out-dir pkg/wasm --out-name edgepay \
  --mode no-install --no-pack . -- --features wasm
# wasm-pack writes these for a standalone package; ours is pkg/package.json.
rm -f pkg/wasm/.gitignore pkg/wasm/package.json pkg/wasm/README.md pkg/wasm/LICENSE*

opt="${WASM_OPT_BIN:-node_modules/.bin/wasm-opt}"
if [ "$profile" = --release ] && [ -x "$opt" ]; then
  before=$(wc -c < "$wasm")
  "$opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --strip-debug --strip-producers "$wasm" -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
  echo "[build-wasm] wasm-opt -Oz: $before -> $(wc -c < "$wasm") bytes"
else
  echo "[build-wasm] wasm-opt skipped (run npm ci for the binaryen package)"
fi
echo "[build-wasm] $(wc -c < "$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzipped: $wasm"

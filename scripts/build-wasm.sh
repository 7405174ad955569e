#!/usr/bin/env bash
# Builds the two WebAssembly modules of the npm package (generated, git-ignored):
#   pkg/wasm/      the signing module (feature `wasm`): everything but RSA arithmetic,
#                  which the package does with WebCrypto. This is the module every
#                  host loads; its gzipped size has a budget (scripts/size-budget.mjs).
#   pkg/wasm-rsa/  the fallback (feature `wasm-rsa`): the same plus pure-Rust RSA, loaded
#                  only for the 'wasm' backend (no crypto.subtle, or setBackend('wasm')).
# Each: cargo build (release, opt-level z) → wasm-bindgen --target web (one output that
# loads in Node ≥ 20 ESM, a browser <script type=module> and a Cloudflare Worker) →
# wasm-opt -Oz from the npm package `binaryen` (Debian's is too old), if installed.
#
# Nightly (with its rust-src: scripts/setup.sh wasm adds it when nightly is present)
# rebuilds std for a smaller module, ~20 KB gzipped less in all:
#   -Cpanic=immediate-abort  a panic traps at once, as it already does on wasm32
#                            (panic=abort), without the code that formats panic messages;
#   -Zlocation-detail=none   no file/line strings for panic locations;
#   -Zfmt-debug=none         `{:?}` prints nothing. The core never uses `Debug` in a
#                            message (error::quoted instead), so messages read the same;
#                            third-party messages that use it (serde's "invalid type:
#                            string …") lose the quoted value in this module only.
# Without nightly, stable builds the same code with ordinary panic=abort (set
# EDGEPAY_WASM_TOOLCHAIN=stable to force); the module is then over its size budget.
#
# Usage: scripts/build-wasm.sh [--dev]      (FORCE=1 rebuilds even when up to date)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
[ "${1:-}" = "--dev" ] && profile=dev

outputs=(pkg/wasm/edgepay_bg.wasm pkg/wasm/edgepay.js pkg/wasm-rsa/edgepay_bg.wasm pkg/wasm-rsa/edgepay.js)
oldest=pkg/wasm/edgepay_bg.wasm
up_to_date() {
  for f in "${outputs[@]}"; do [ -f "$f" ] || return 1; done
  for f in "${outputs[@]}"; do [ "$f" -ot "$oldest" ] && oldest=$f; done
  [ -z "$(find src Cargo.toml Cargo.lock scripts/build-wasm.sh -newer "$oldest" -print -quit)" ]
}
if [ -z "${FORCE:-}" ] && [ "$profile" = release ] && up_to_date; then
  echo "[build-wasm] up to date: pkg/wasm/, pkg/wasm-rsa/"
  exit 0
fi

command -v wasm-bindgen >/dev/null || { echo "wasm-bindgen not found: run scripts/setup.sh wasm" >&2; exit 2; }

toolchain="${EDGEPAY_WASM_TOOLCHAIN:-}"
if [ -z "$toolchain" ]; then
  if rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
    toolchain=nightly
  else
    toolchain=stable
  fi
fi
cargo_args=(build --lib --target wasm32-unknown-unknown --target-dir target/wasm-pkg)
[ "$profile" = release ] && cargo_args+=(--release)
if [ "$toolchain" = nightly ]; then
  cargo_args+=(-Zbuild-std=std,panic_abort)
  export RUSTFLAGS="${RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"
else
  echo "[build-wasm] stable toolchain: panic messages stay in (install nightly + rust-src for the smaller build)"
fi
# opt-level z (size) for the wasm only; the native release profile keeps "s".
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-z}"
opt="${WASM_OPT_BIN:-node_modules/.bin/wasm-opt}"

build() { # build <feature> <out dir>
  local feature=$1 dir=$2
  echo "[build-wasm] cargo +$toolchain --features $feature → $dir"
  cargo "+$toolchain" "${cargo_args[@]}" --features "$feature"
  mkdir -p "$dir"
  wasm-bindgen --target web --out-dir "$dir" --out-name edgepay \
    "target/wasm-pkg/wasm32-unknown-unknown/$profile/edgepay.wasm"
  local wasm=$dir/edgepay_bg.wasm
  if [ "$profile" = release ] && [ -x "$opt" ]; then
    local before
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
}

build wasm pkg/wasm
build wasm-rsa pkg/wasm-rsa
# Which toolchain built them (scripts/size-budget.mjs holds the nightly build to the budget).
echo "$toolchain" > target/wasm-pkg/toolchain

#!/usr/bin/env bash
# Idempotent setup for a fresh machine: installs only what is missing.
# Usage: scripts/setup.sh [rust|node|chromium|wasm|worker|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"

say() { printf '[setup] %s\n' "$*"; }

need_rust() {
  command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 2; }
  for c in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
      say "rustup component add $c"; rustup component add "$c"
    fi
  done
}

need_node() {
  command -v node >/dev/null || { echo "node not found: install Node.js >= 20" >&2; exit 2; }
  if [ -f package-lock.json ]; then
    # npm ci only when node_modules is missing or older than the lock file.
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      say "npm ci"; npm ci --no-audit --no-fund --loglevel=error
    fi
  fi
}

need_chromium() {
  # Debian's Chromium + matching chromedriver (browser tests, wasm-pack test --chrome).
  # Never `npx playwright install`: it downloads a browser build, which cannot be fetched here.
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi micro"; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "apt-get install chromium chromium-driver fonts-wqy-microhei"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null
  fi
}

# The wasm toolchain for the npm package (pkg/): target, wasm-bindgen CLI pinned to the
# library's exact version (=0.2.130 in Cargo.toml), wasm-pack (always run with --mode no-install).
WASM_BINDGEN_VERSION=0.2.130
need_wasm() {
  need_rust
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    # Not --locked: the CLI's lock file pins a webpki-roots release the registry no longer serves.
    say "cargo install wasm-bindgen-cli --version $WASM_BINDGEN_VERSION"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  if ! command -v wasm-pack >/dev/null; then
    say "cargo install wasm-pack --locked"; cargo install wasm-pack --locked
  fi
  # The npm package's signing wasm is smallest built by nightly with std rebuilt
  # (scripts/build-wasm.sh); nightly itself is part of the machine image, not installed
  # here. Without it (or when rust-src cannot be fetched) the build uses stable.
  if rustup toolchain list 2>/dev/null | grep -q '^nightly' \
     && ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
    say "rustup component add rust-src --toolchain nightly"
    rustup component add rust-src --toolchain nightly || say "rust-src unavailable: the wasm builds with stable"
  fi
}

# The Worker (worker/): the wasm toolchain above plus worker-build 0.8.7; wrangler comes from
# `npm ci` (root package.json).
need_worker() {
  need_wasm
  if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "0.8.7" ]; then
    say "cargo install worker-build 0.8.7"
    cargo install worker-build --version 0.8.7 --locked || cargo install worker-build --version 0.8.7
  fi
  need_node
}

case "$what" in
  rust) need_rust ;;
  node) need_node ;;
  chromium) need_chromium ;;
  wasm) need_wasm; need_node ;;
  worker) need_worker ;;
  all) need_rust; need_node; need_chromium; need_wasm; need_worker ;;
  *) echo "usage: $0 [rust|node|chromium|wasm|worker|all]" >&2; exit 2 ;;
esac

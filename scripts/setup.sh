#!/usr/bin/env bash
# Idempotent setup for a fresh machine: installs only what is missing.
# Usage: scripts/setup.sh [rust|node|worker|chromium|all]   (default: all)
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

# The Worker (worker/): wasm32 target, wasm-bindgen 0.2.130 (must equal the crate pin),
# worker-build 0.8.7; wrangler comes from `npm ci` (root package.json).
need_worker() {
  need_rust
  if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
    say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen 0.2.130" ]; then
    # --locked fails (its lock pins a webpki-roots version the registry no longer serves).
    say "cargo install wasm-bindgen-cli 0.2.130"
    cargo install wasm-bindgen-cli --version 0.2.130 --locked 2>/dev/null || cargo install wasm-bindgen-cli --version 0.2.130
  fi
  if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "0.8.7" ]; then
    say "cargo install worker-build 0.8.7"
    cargo install worker-build --version 0.8.7 --locked || cargo install worker-build --version 0.8.7
  fi
  need_node
}

need_chromium() {
  # Debian's Chromium + matching chromedriver (browser tests, wasm-pack test --chrome).
  # Never `npx playwright install`: it downloads a browser build, which cannot be fetched here.
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "apt-get install chromium chromium-driver"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  # A CJK font, so that screenshots of the demo pages (tests/e2e) show Chinese text, not boxes.
  if ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk'; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "apt-get install fonts-wqy-microhei"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null \
      || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; }
  fi
}

case "$what" in
  rust) need_rust ;;
  node) need_node ;;
  worker) need_worker ;;
  chromium) need_chromium ;;
  all) need_rust; need_node; need_worker; need_chromium ;;
  *) echo "usage: $0 [rust|node|worker|chromium|all]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Idempotent setup for a fresh machine: installs only what is missing.
# Usage: scripts/setup.sh [rust|node|all]   (default: all)
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

case "$what" in
  rust) need_rust ;;
  node) need_node ;;
  all) need_rust; need_node ;;
  *) echo "usage: $0 [rust|node|all]" >&2; exit 2 ;;
esac

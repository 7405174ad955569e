#!/usr/bin/env bash
# Every benchmark in one go, then BENCHMARKS.md's generated blocks are refreshed
# (scripts/bench-update.mjs: date, machine, the new tables; prose is kept).
#   scripts/bench.sh            all of them (~10 minutes on 2 cores)
#   scripts/bench.sh --quick    shorter runs (for checking the script, not for the record)
# Outputs go to target/bench/ (NAME.md per block, logs). Loopback only; every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
[ "${1:-}" = "--quick" ] && quick=1
out=target/bench
mkdir -p "$out"
rm -f "$out"/*.md
say() { printf '\n[bench] %s\n' "$*" >&2; }
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(date -u '+%Y-%m-%d %H:%M UTC')"

scripts/setup.sh worker >&2
scripts/build-wasm.sh >&2
scripts/build-worker.sh >&2

# 1. Core, native (criterion + node:crypto + openssl speed), when the script is on this branch.
if [ -x scripts/bench-core.sh ]; then
  say "core (scripts/bench-core.sh)"
  scripts/bench-core.sh > "$out/core.log"
  cp target/bench-core.md "$out/core.md"
fi

# 2. npm package against node:crypto and the peer SDKs.
say "npm package (scripts/bench-pkg.mjs)"
node scripts/bench-pkg.mjs ${quick:+--quick} | tee "$out/pkg.log" >&2
{ grep -E '^\|' "$out/pkg.log"; echo; grep -E '^RSA sign:' "$out/pkg.log" || true; } > "$out/pkg.md"

# 3. Gateway throughput and latency per scenario.
say "gateway (scripts/bench-gateway.mjs)"
secs=8; [ -n "$quick" ] && secs=2
node scripts/bench-gateway.mjs --seconds "$secs" --concurrency 16 | tee "$out/gateway.log" >&2
{ echo "\`node scripts/bench-gateway.mjs --seconds $secs --concurrency 16\`"; echo; grep -E '^\|' "$out/gateway.log"; } > "$out/gateway.md"

# 4. Duplicate-notify storm (exits 1 on a lost or double-applied payment).
say "duplicate-notify storm (scripts/bench-gateway-storm.mjs)"
if [ -n "$quick" ]; then storm=(--orders 100 --duplicates 50); else storm=(--orders 700 --duplicates 350); fi
node scripts/bench-gateway-storm.mjs "${storm[@]}" --concurrency 64 --json "$out/storm.json" --md "$out/storm.md" | tee "$out/storm.log" >&2

# 5. CPU per request against the 10 ms budget.
say "CPU per request (scripts/bench-gateway-cpu.mjs)"
n=150; [ -n "$quick" ] && n=30
node scripts/bench-gateway-cpu.mjs --requests "$n" --json "$out/cpu.json" --md "$out/cpu.md" | tee "$out/cpu.log" >&2

# 6. CPU per request of the Worker itself (bare workerd, stand-in bindings outside the process).
say "Worker CPU per request (scripts/bench-worker-cpu.mjs)"
n=300; [ -n "$quick" ] && n=40
node scripts/bench-worker-cpu.mjs --no-build --requests "$n" --json "$out/workercpu.json" --md "$out/workercpu.md" | tee "$out/workercpu.log" >&2

# 7. Sizes.
say "sizes (scripts/bench-sizes.mjs)"
node scripts/bench-sizes.mjs --json "$out/sizes.json" --md "$out/sizes.md" >&2

node scripts/bench-update.mjs

#!/usr/bin/env bash
# Core, native benchmarks side by side with their physical anchors, in one run:
#   1. edgepay (criterion, benches/core.rs, release build),
#   2. node:crypto doing the same operations on the same inputs
#      (scripts/bench-node-anchor.mjs),
#   3. `openssl speed -seconds 3 rsa2048` (the raw RSA-2048 cost).
# Prints a Markdown table (also written to target/bench-core.md) for BENCHMARKS.md.
#   scripts/bench-core.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-core
mkdir -p "$out"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" >&2
echo "== edgepay (criterion)" >&2
cargo bench --bench core -- --output-format bencher 2>/dev/null | tee "$out/criterion.txt" >&2
echo "== node:crypto $(node --version)" >&2
node scripts/bench-node-anchor.mjs 3 | tee "$out/node.json" >&2
echo "== $(openssl version)" >&2
openssl speed -seconds 3 rsa2048 2>/dev/null | tee "$out/openssl.txt" >&2

python3 - "$out" <<'EOF' | tee target/bench-core.md
import json, re, sys, os, datetime, subprocess
out = sys.argv[1]
ours = {}
for line in open(os.path.join(out, "criterion.txt")):
    m = re.match(r"test (\S+)\s+\.\.\. bench:\s+([\d,]+) ns/iter", line)
    if m:
        ours[m.group(1)] = float(m.group(2).replace(",", ""))
node = json.load(open(os.path.join(out, "node.json")))
sign = verify = None
for line in open(os.path.join(out, "openssl.txt")):
    m = re.match(r"rsa\s+2048 bits\s+([\d.]+)s\s+([\d.]+)s", line)
    if m:
        sign, verify = float(m.group(1)) * 1e9, float(m.group(2)) * 1e9

def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns < 1e6 else f"{ns / 1e6:.2f} ms"

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}); "
      f"{subprocess.run(['rustc', '--version'], capture_output=True, text=True).stdout.strip()}, "
      f"node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}, "
      f"{subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.split(' (')[0].strip()}.")
print()
print("| operation | edgepay (native) | node:crypto | edgepay ÷ node | RSA-2048 in `openssl speed` | edgepay ÷ openssl |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
anchor = {
    "v3_authorization_rsa2048": ("sign", sign),
    "alipay_rsa2_sign": ("sign", sign),
    "v3_notify_verify_decrypt": ("verify", verify),
    "alipay_rsa2_verify_notify": ("verify", verify),
}
for name, ns in ours.items():
    n = node.get(name)
    row = [name, fmt(ns), fmt(n) if n else "–", f"{ns / n:.2f}×" if n else "–"]
    if name in anchor and anchor[name][1]:
        kind, a = anchor[name]
        row += [f"{fmt(a)} ({kind})", f"{ns / a:.1f}×"]
    else:
        row += ["–", "–"]
    print("| " + " | ".join(row) + " |")
EOF

#!/usr/bin/env bash
# Fuzzes every target (or those named) for SECS seconds each, one job, niced,
# starting from the committed corpus plus the seeds; logs go to fuzz/logs/.
#   fuzz/run.sh [SECS] [target...]        (needs nightly + cargo-fuzz)
set -u
cd "$(dirname "$0")"
secs=${1:-180}; shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(wechat_xml wechat_v2 wechat_v3_notify wechat_v3_responses alipay_notify alipay_response keys)
fi
[ -d seeds ] || python3 make_seeds.py
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== $t ($secs s)"
  nice -n 10 cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    > "logs/$t.log" 2>&1
  echo "   exit $?; $(grep -E '^(stat::number_of_executed_units|Done)' "logs/$t.log" | tr '\n' ' ')"
  grep -E 'cov:' "logs/$t.log" | tail -1
  grep -E 'SUMMARY|panicked|Test unit written' "logs/$t.log" | head -5
done

#!/usr/bin/env bash
# Claim latency and drain rate over an inbox with a long finished history, without
# ("before") and with ("after") the claim index of migration 0005, in alternating pairs
# on one database per backend: FINISHED done events, then WAITING pending events per run,
# drained through the store (claims of 32, each event completed).
#
# Usage: bench/claim.sh [FINISHED] [WAITING] [PAIRS] [BACKENDS]
#        (defaults: 1000000, 5000, 2, "sqlite postgres")
# BENCH_PROFILE=dev builds without the release profile (dependencies are still built at
# -O2 in dev, and a claim's time is spent in the database), sparing a release build.
# PostgreSQL needs a server on 127.0.0.1:5432 with trust auth (as on the dev machines);
# each run creates and drops its own database.
set -euo pipefail
cd "$(dirname "$0")/.."
finished=${1:-1000000}
waiting=${2:-5000}
pairs=${3:-2}
backends=${4:-sqlite postgres}
profile=${BENCH_PROFILE:-release}
cargo build --profile "$profile" --locked --example claim_bench
dir=$profile
[ "$profile" = dev ] && dir=debug
bin=${CARGO_TARGET_DIR:-target}/$dir/examples/claim_bench

echo "# $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), profile $profile, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| backend | claim index | finished rows | events drained | claims | claim p50 ms | claim p95 ms | claim max ms | drain s | events/s |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for backend in $backends; do
  if [ "$backend" = postgres ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "postgres: no server on 127.0.0.1:5432; skipped" >&2
    continue
  fi
  "$bin" "$backend" "$finished" "$waiting" "$pairs"
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

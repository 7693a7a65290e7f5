#!/usr/bin/env bash
# Resident memory (VmRSS) of the service, release binary on SQLite, around a burst:
#   idle     10 s after start, nothing received yet
#   burst    right after EVENTS signed Tovuti webhooks (each about a learner of its own)
#            were stored with the worker off, and again WAIT s later, all still pending
#   drained  the same store served again with the worker on, against a GHL stand-in
#            without a quota (a process of its own): when nothing is open any more, and
#            again WAIT s later
#
# Usage: bench/memory.sh [EVENTS] [WAIT]        (defaults: 100000, 300)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-100000}
wait_s=${2:-300}
port=${BENCH_PORT:-18182}
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
service_pid="" standin_pid=""
location=bench-location

cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
  [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null && wait "$standin_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --locked --bin tovuti-ghl-bridge --example bench_sign --example bench_ghl_standin
bin=$target/release/tovuti-ghl-bridge

secret="whsec_$(openssl rand -base64 32)"
BENCH_DISTINCT_LEARNERS=1 "$target/release/examples/bench_sign" tovuti "$events" 2 "$work/tovuti" "$secret" "$location"

"$target/release/examples/bench_ghl_standin" "$location" >"$work/standin" &
standin_pid=$!
for _ in $(seq 1 100); do [ -s "$work/standin" ] && break; sleep 0.1; done
read -r ghl_url ghl_token <"$work/standin"

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$service_pid/status"; }

metric() {
  curl -fsS "http://127.0.0.1:$port/metrics" | awk -v name="$1" '$1 ~ "^"name {n += $NF} END {printf "%d", n}'
}

# serve WORKER_ENABLED: the service on the bench store, with the widened timestamp
# tolerance of intake.sh (deliveries are signed before the run) and no backlog bound.
serve() {
  BRIDGE_DATABASE_URL="sqlite://$work/bench.db" BRIDGE_LISTEN="127.0.0.1:$port" \
  BRIDGE_GHL_LOCATION_ID="$location" BRIDGE_GHL_BASE_URL="$ghl_url" BRIDGE_GHL_TOKEN="$ghl_token" \
  BRIDGE_GHL__RATE_LIMIT_MAX=4000000000 BRIDGE_GHL__RATE_LIMIT_INTERVAL_MS=1 \
  BRIDGE_TOVUTI_WEBHOOK_SECRET="$secret" BRIDGE_WORKER__ENABLED="$1" \
  BRIDGE_WORKER__CONCURRENCY="${BENCH_CONCURRENCY:-256}" \
  BRIDGE_WEBHOOKS__MAX_BACKLOG=0 BRIDGE_TELEMETRY__LOG_LEVEL=warn \
  BRIDGE_WEBHOOKS__TOVUTI__TIMESTAMP_TOLERANCE_SECS=3600 \
    "$bin" serve >>"$work/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" && return 0; sleep 0.1; done
  echo "the service did not come up" >&2; cat "$work/service.log" >&2; return 1
}

stop() { kill "$service_pid" && wait "$service_pid" 2>/dev/null || true; service_pid=""; }

row() { printf '| %-44s | %8s |\n' "$1" "$2"; }

echo "# $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); $(date -u '+%Y-%m-%d %H:%M UTC'); $(git rev-parse --short HEAD)"
echo
echo "| moment | RSS MiB |"
echo "|---|---:|"
serve false
sleep 10
row "idle, 10 s after start" "$(rss_mb)"
BENCH_FILES="$work/tovuti" BENCH_KIND=tovuti BENCH_DELAY_MS=0 \
  wrk -t 2 -c 64 -d "${BENCH_BURST_SECS:-15}s" -s bench/wrk-signed.lua "http://127.0.0.1:$port/webhooks/tovuti" >"$work/wrk.out"
pending=$(metric 'bridge_inbox_events\\{status="pending"')
row "after the burst ($pending pending)" "$(rss_mb)"
sleep "$wait_s"
row "${wait_s} s later, still pending" "$(rss_mb)"
stop

serve true
started=$(date +%s)
while [ "$(metric 'bridge_inbox_events\\{status="(pending|processing|retrying)"')" -gt 0 ]; do sleep 1; done
row "worker on: drained in $(( $(date +%s) - started )) s" "$(rss_mb)"
sleep "$wait_s"
row "${wait_s} s after the drain" "$(rss_mb)"
echo
echo "dead events after the drain: $(metric 'bridge_inbox_events\\{status="dead"')"

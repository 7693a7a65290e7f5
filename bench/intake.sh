#!/usr/bin/env bash
# Webhook intake: signed GHL (Ed25519) and Tovuti (HMAC) webhooks verified and durably
# stored per second, with latency percentiles, on SQLite and on PostgreSQL, side by side in
# the same run with two reference endpoints built only for the benchmark:
#   ref-ok      answers 200 without reading anything (the HTTP stack's ceiling here)
#   ref-verify  runs the service's GHL verification and answers 200, storing nothing
#               (the ceiling for verified intake)
# plus a fixed-rate run (~1,000 webhooks/s) for p99 latency.
#
# Usage: bench/intake.sh [SECONDS] [CONNECTIONS]     (defaults: 10 s, 64 connections)
# Load comes from wrk (installed from Debian if missing) on the same cores as the service.
# wrk cannot sign, so every request is pre-signed and unique (examples/bench_sign.rs);
# PostgreSQL needs a server on 127.0.0.1:5432 with trust auth (as on the dev machines).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-64}
threads=${BENCH_THREADS:-2}
port=${BENCH_PORT:-18181}
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
service_pid=""

cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi
cargo build --release --locked --bin tovuti-ghl-bridge --example bench_reference --example bench_sign
bin=$target/release/tovuti-ghl-bridge
reference=$target/release/examples/bench_reference
sign=$target/release/examples/bench_sign

# A throwaway GHL key pair and Tovuti secret; the service is configured with their public
# halves exactly as an operator would with GHL's.
openssl genpkey -algorithm ed25519 -out "$work/ghl.pem" 2>/dev/null
openssl pkey -in "$work/ghl.pem" -pubout -out "$work/ghl.pub.pem"
secret="whsec_$(openssl rand -base64 32)"
location=bench-location

# Enough unique deliveries for the longest run at up to 40,000/s.
count=${BENCH_REQUESTS:-$((duration * 40000))}
echo "# pre-signing $count GHL and $count Tovuti deliveries"
"$sign" ghl "$count" "$threads" "$work/ghl" "$work/ghl.pem" "$location"
"$sign" tovuti "$count" "$threads" "$work/tovuti" "$secret" "$location"

wait_ready() {
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/$1" -X "${2:-GET}" && return 0
    sleep 0.1
  done
  echo "the server on port $port did not come up" >&2
  return 1
}

stop_service() {
  kill "$service_pid" && wait "$service_pid" 2>/dev/null || true
  service_pid=""
}

start_reference() {
  "$reference" "127.0.0.1:$port" "$work/ghl.pub.pem" &
  service_pid=$!
  wait_ready ok POST
}

# The real service, worker off (intake only), fresh store given by URL. The timestamp
# tolerance is widened so deliveries signed at the start stay fresh for the whole run. With
# the worker off every stored delivery stays pending, so the backlog bound is lifted: a
# 30-s run would otherwise reach the default 1,000,000 and measure 429s, not intake.
start_service() {
  BRIDGE_DATABASE_URL="$1" BRIDGE_LISTEN="127.0.0.1:$port" BRIDGE_GHL_LOCATION_ID="$location" \
  BRIDGE_GHL_WEBHOOK_PUBLIC_KEY="$(cat "$work/ghl.pub.pem")" BRIDGE_TOVUTI_WEBHOOK_SECRET="$secret" \
  BRIDGE_WORKER__ENABLED=false BRIDGE_WEBHOOKS__MAX_BACKLOG=0 BRIDGE_TELEMETRY__LOG_LEVEL=warn \
  BRIDGE_WEBHOOKS__GHL__TIMESTAMP_TOLERANCE_SECS=3600 BRIDGE_WEBHOOKS__TOVUTI__TIMESTAMP_TOLERANCE_SECS=3600 \
    "$bin" serve >"$work/service.log" 2>&1 &
  service_pid=$!
  wait_ready readyz
}

# Deliveries the service has stored as new events so far (from its own metrics).
accepted() {
  curl -fsS "http://127.0.0.1:$port/metrics" |
    awk '/^bridge_webhooks_received_total/ && /outcome="accepted"/ {n += $NF} END {printf "%d", n}'
}

# CPU time the server process has used so far, in clock ticks (user + system).
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$service_pid/stat"
}

# run NAME KIND PATH [DELAY_MS CONNECTIONS]: one wrk run, one table row.
run() {
  local name=$1 kind=$2 path=$3 delay=${4:-0} conns=${5:-$connections}
  local out before=0 cpu_before
  [[ $path == /webhooks/* ]] && before=$(accepted)
  cpu_before=$(cpu_ticks)
  out=$(BENCH_FILES="$work/$kind" BENCH_KIND="$kind" BENCH_DELAY_MS="$delay" \
    wrk -t "$threads" -c "$conns" -d "${duration}s" --latency -s bench/wrk-signed.lua \
    "http://127.0.0.1:$port$path")
  local rps stats stored="" requests cpu_us
  rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
  stats=$(grep '^BENCH' <<<"$out")
  # The server's CPU per request: steadier than req/s on a shared VM, whose speed drifts.
  requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$stats")
  cpu_us=$((($(cpu_ticks) - cpu_before) * 1000000 / $(getconf CLK_TCK) / (requests > 0 ? requests : 1)))
  [[ $path == /webhooks/* ]] && stored=$(($(accepted) - before))
  printf '| %-22s | %8s | %8s | %8s | %7s | %9s | %s |\n' "$name" "$rps" \
    "$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$stats")" "$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$stats")" \
    "$cpu_us" "${stored:--}" "$(sed -E 's/BENCH (non2xx=[0-9]+ errors=[0-9]+ replays=[0-9]+).*/\1/' <<<"$stats")"
}

echo
echo "# $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "# wrk $threads threads, $connections connections, ${duration}s per run, on the same cores"
echo
echo "| run                    |    req/s |  p50 µs |  p99 µs | cpu µs/req |    stored | notes |"
echo "|------------------------|---------:|--------:|--------:|--------:|----------:|-------|"

start_reference
run "ref-ok (200 only)" ghl /ok
run "ref-verify (Ed25519)" ghl /verify
stop_service

start_service "sqlite://$work/bench.db"
run "sqlite ghl" ghl /webhooks/ghl
run "sqlite tovuti" tovuti /webhooks/tovuti
stop_service
start_service "sqlite://$work/bench-rate.db"
run "sqlite ghl ~1k/s" ghl /webhooks/ghl 10 10
stop_service

if pg_isready -q -h 127.0.0.1 -p 5432; then
  for db in bridge_bench_a_$$ bridge_bench_b_$$; do
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
  done
  drop_pg() {
    for db in bridge_bench_a_$$ bridge_bench_b_$$; do
      psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
    done
  }
  trap 'cleanup; drop_pg' EXIT
  start_service "postgres://postgres@127.0.0.1:5432/bridge_bench_a_$$"
  run "postgres ghl" ghl /webhooks/ghl
  run "postgres tovuti" tovuti /webhooks/tovuti
  stop_service
  # The load runs leave PostgreSQL flushing dirty buffers for a while; a checkpoint now
  # keeps that disk work out of the latency run.
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CHECKPOINT"
  start_service "postgres://postgres@127.0.0.1:5432/bridge_bench_b_$$"
  run "postgres ghl ~1k/s" ghl /webhooks/ghl 10 10
  stop_service
else
  echo "| postgres               | skipped: no server on 127.0.0.1:5432 |"
fi
echo
echo "cpu µs/req: the server process's CPU time (user + system) per request of the run;"
echo "stored: deliveries the service stored as new inbox rows during the run (its own metric);"
echo "replays > 0 means a run outlasted its pre-signed deliveries and resent some (duplicates)."

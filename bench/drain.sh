#!/usr/bin/env bash
# Worker drain rate and GHL requests per contact change, against the fake GHL without a
# quota and the fake Tovuti, on SQLite and on PostgreSQL:
#   drain  a backlog of EVENTS Tovuti events (user.updated, then note.created,
#          EVENTS_PER_USER per user) filled straight into the inbox after HISTORY finished
#          events, drained by the service's worker loop at each concurrency; once with
#          the real sync engine, once with a no-op processor (the ceiling the worker and
#          the store set alone)
#   burst  10 edits to each of 100 linked users within a second, then one drain: how many
#          requests reach GHL (the goal is about 100, not 1,000)
#
# Usage: bench/drain.sh [EVENTS] [CONCURRENCIES] [PROCESSORS] [EVENTS_PER_USER] [HISTORY]
#        (defaults: 10000, "8 32", "noop drain", 10, 0; a backlog of 100,000 events over
#        100,000 learners behind 1,000,000 finished ones is
#        `bench/drain.sh 100000 256 drain 1 1000000`)
# PostgreSQL needs a server on 127.0.0.1:5432 with trust auth (as on the dev machines);
# each run creates and drops its own database.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-10000}
concurrencies=${2:-8 32}
processors=${3:-noop drain}
per_user=${4:-10}
history=${5:-0}
cargo build --release --locked --example drain_bench
bin=${CARGO_TARGET_DIR:-target}/release/examples/drain_bench

backends=(sqlite)
if pg_isready -q -h 127.0.0.1 -p 5432; then
  backends+=(postgres)
else
  echo "postgres: no server on 127.0.0.1:5432; skipped" >&2
fi

echo "# $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| backend | processor | concurrency | events | users | history | drain s | events/s | wall µs/event | engine µs/event | process CPU µs/event | machine cores busy | GHL req/event | Tovuti req/event | fill k/s |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for backend in "${backends[@]}"; do
  for concurrency in $concurrencies; do
    for processor in $processors; do
      "$bin" "$processor" "$backend" "$events" "$concurrency" "$per_user" "$history"
    done
  done
done
echo "# load average after the drains: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "| backend | concurrency | contact changes | recorded within | events drained | drain | GHL requests | per contact | per change | contacts at the last edit |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for backend in "${backends[@]}"; do
  "$bin" burst "$backend" 32
done

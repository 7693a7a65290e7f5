#!/usr/bin/env bash
# Durable inbox inserts per second with concurrent writers, on SQLite (group commit)
# and PostgreSQL. Usage: bench/record_event.sh [EVENTS]   (default 100000)
# One writer is left out on purpose: it measures only the disk's fsync latency.
# PostgreSQL needs a server on 127.0.0.1:5432 with trust auth (as on the dev machines).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-100000}
cargo build --release --locked --example record_event_bench
bin=target/release/examples/record_event_bench

echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for writers in 16 256 1024; do
  "$bin" sqlite "$writers" "$events"
done

if pg_isready -q -h 127.0.0.1 -p 5432; then
  db="bridge_bench_$$"
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
  trap 'psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
  for writers in 16 64 256; do
    psql -q -h 127.0.0.1 -U postgres -d "$db" -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public"
    BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" "$bin" postgres "$writers" "$events"
  done
else
  echo "postgres: no server on 127.0.0.1:5432; skipped"
fi

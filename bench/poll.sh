#!/usr/bin/env bash
# One full poll scan of a 100,000-user in-memory Tovuti tenant (no throttle): first the
# baseline scan (setup), then unchanged, then with 1 % of users changed, then unchanged
# again; on SQLite and, when a URL is given, PostgreSQL.
#
# Usage: bench/poll.sh [USERS] [POSTGRES_ADMIN_URL]
#        (defaults: 100000, none; e.g. postgres://postgres@127.0.0.1:5432/postgres)
# BENCH_PROFILE=dev skips the release build (numbers are then not comparable).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
admin=${2:-}
profile=${BENCH_PROFILE:-release}
cargo build --profile "$profile" --locked --example poll_bench
dir=$profile
[ "$profile" = dev ] && dir=debug
bin=${CARGO_TARGET_DIR:-target}/$dir/examples/poll_bench

echo "# $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr)"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), profile $profile, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" "$users" sqlite
if [ -n "$admin" ]; then
  name="poll_bench_$$"
  psql "$admin" -qc "CREATE DATABASE $name"
  trap 'psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"' EXIT
  "$bin" "$users" "${admin%/*}/$name"
fi

#!/usr/bin/env bash
# GHL throttle: share of the burst quota used while a backlog exists (target >= 95 %)
# and 429s received (target 0), against the fake GHL enforcing 100 requests / 10 s per
# location on the wall clock. Usage: bench/ghl_throttle.sh [CALLS]  (default 700, ~71 s)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-700}
# Time, not CPU, bounds this benchmark; the dev profile builds dependencies at -O2.
cargo build --locked --example ghl_throttle_bench
echo "# machine: $(nproc) cores, $(uname -sr)"
"${CARGO_TARGET_DIR:-target}/debug/examples/ghl_throttle_bench" "$calls"

#!/usr/bin/env bash
# Contract test of the GHL client against GHL's official v2 spec: installs Prism
# (npm @stoplight/prism-cli) if missing, mocks the official apps/all-v2.json (in GHL_SPEC_DIR, else
# ../shared/specs/ghl, else target/ghl-spec where .ci/ghl-spec.sh fetches it) on a free port,
# runs `cargo test --test ghl_contract` with PRISM_URL set, and stops Prism.
# Prism answers 422 to any request that violates the spec, so a pass means every
# operation the client sends is one GHL's spec accepts.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${GHL_SPEC_DIR:-}" ]; then spec_dir="$GHL_SPEC_DIR"
elif [ -d ../shared/specs/ghl ]; then spec_dir=../shared/specs/ghl
else spec_dir=target/ghl-spec; fi
spec="$spec_dir/apps/all-v2.json"
[ -f "$spec" ] || { echo "$spec not found: set GHL_SPEC_DIR to GHL's spec files, or run .ci/ghl-spec.sh to fetch them"; exit 1; }

prism_home="${PRISM_HOME:-$HOME/.cache/tovuti-ghl-bridge/prism}"
prism="$prism_home/node_modules/.bin/prism"
if [ ! -x "$prism" ]; then
  command -v npm >/dev/null || { echo "npm is required for the GHL contract test"; exit 1; }
  mkdir -p "$prism_home"
  npm install --prefix "$prism_home" --no-audit --no-fund --loglevel=error @stoplight/prism-cli@5
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$(mktemp)"
"$prism" mock --host 127.0.0.1 --port "$port" --errors=false "$spec" >"$log" 2>&1 &
prism_pid=$!
trap 'kill "$prism_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 60); do
  grep -q "Prism is listening" "$log" && break
  kill -0 "$prism_pid" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 1
done
grep -q "Prism is listening" "$log" || { cat "$log"; echo "Prism did not start"; exit 1; }

export PRISM_URL="http://127.0.0.1:$port"
cargo test --locked --test ghl_contract -- --test-threads=1

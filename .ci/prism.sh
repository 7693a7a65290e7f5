#!/usr/bin/env bash
# Contract test of the GHL client against GHL's official v2 spec: installs Prism
# (npm @stoplight/prism-cli) if missing, mocks the official all-v2.json (../shared/specs, beside the clone) on a free port,
# runs `cargo test --test ghl_contract` with PRISM_URL set, and stops Prism.
# Prism answers 422 to any request that violates the spec, so a pass means every
# operation the client sends is one GHL's spec accepts.
set -euo pipefail
cd "$(dirname "$0")/.."
spec="../shared/specs/ghl/apps/all-v2.json"
[ -f "$spec" ] || { echo "$spec not found: shared/ must sit beside the clone"; exit 1; }

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

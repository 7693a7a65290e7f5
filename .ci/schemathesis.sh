#!/usr/bin/env bash
# Property-based test of the admin API against openapi.yaml: builds the service, starts it
# on a fresh SQLite file with an admin token and a few stored events, and runs Schemathesis
# (PyPI `schemathesis`, installed into a virtual environment if missing) over the /api/v1 operations. It fails on any
# server error, any answer the document does not describe (status, content type, schema)
# and any other Schemathesis check failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installed once into its own virtual environment (as .ci/prism.sh keeps Prism), so the
# system Python is left alone.
st_home="${SCHEMATHESIS_HOME:-$HOME/.cache/tovuti-ghl-bridge/schemathesis}"
st="$st_home/bin/schemathesis"
if [ ! -x "$st" ]; then
  python3 -m venv "$st_home" 2>/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$st_home"
  }
  "$st_home/bin/python" -m pip install --quiet --disable-pip-version-check 'schemathesis>=4.32,<5'
fi

cargo build --locked --quiet
bin=target/debug/tovuti-ghl-bridge
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
token="schemathesis-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
secret="$("$bin" keys generate | sed -n 's/^BRIDGE_TOVUTI_WEBHOOK_SECRET=//p')"

export BRIDGE_DATABASE_URL="sqlite://$work/bridge.db"
export BRIDGE_LISTEN="127.0.0.1:$port"
export BRIDGE_ADMIN_TOKEN="$token"
export BRIDGE_TOVUTI_WEBHOOK_SECRET="$secret"
# A key, so connections with tokens can be created; GHL at a closed local port, so a
# connection's check fails fast instead of waiting on the network.
export BRIDGE_ENCRYPTION_KEY="$("$bin" keys generate | sed -n 's/^BRIDGE_ENCRYPTION_KEY=//p')"
export BRIDGE_GHL_BASE_URL="http://127.0.0.1:9"
export BRIDGE_WORKER__ENABLED=false
export BRIDGE_POLLER__ENABLED=false
# Schemathesis also sends requests without the token (to check they are refused); they
# must not trip the failed-authentication limit.
export BRIDGE_ADMIN__AUTH_FAILURES_PER_MINUTE=1000000
export BRIDGE_TELEMETRY__LOG_FORMAT=json
"$bin" serve >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$port/readyz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 1
done

# A few stored events, so listings and details have something to show.
for type in user.created enrollment.created note.created; do
  "$bin" send-test-event tovuti "$type" --url "http://127.0.0.1:$port" --secret "$secret" >/dev/null
done

# Run from the scratch directory, so Schemathesis's own caches never land in the checkout.
spec="$PWD/openapi.yaml"
settings="$PWD/.ci/schemathesis.toml"
cd "$work"
"$st" --config-file "$settings" run "$spec" \
  --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" \
  --include-path-regex '^/api/v1/' \
  --checks all \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-50}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 1 \
  --generation-database none

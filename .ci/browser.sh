#!/usr/bin/env bash
# The operator console in a real headless Chromium (Debian's package), driven by
# playwright-core and scanned by axe-core (npm, pinned in tests/browser/package-lock.json),
# against the debug binary `cargo test` built. Screenshots: target/console-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

command -v chromium >/dev/null || apt_install chromium fonts-dejavu-core
command -v npm >/dev/null || apt_install npm
[ -x target/debug/tovuti-ghl-bridge ] || cargo build --locked

cd tests/browser
npm ci --no-audit --no-fund --silent
timeout 300 node --test console.test.mjs backfill.test.mjs

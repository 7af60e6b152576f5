#!/usr/bin/env bash
# Brings a fresh machine to a built workspace: pnpm, dependencies, build.
# Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1
if ! command -v pnpm >/dev/null 2>&1; then
  echo "==> installing pnpm"
  npm install --global --no-fund --no-audit "pnpm@12" >/dev/null
fi
# node-gyp compiles pkcs11js (PKCS#11 signing) during install; with Debian's
# nodejs, point it at the headers Debian ships instead of downloading them.
if [ -z "${npm_config_nodedir:-}" ] && [ "$(command -v node)" = /usr/bin/node ] && [ -f /usr/include/node/common.gypi ]; then
  export npm_config_nodedir=/usr
fi
echo "==> installing dependencies"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3
echo "==> building"
node_modules/.bin/turbo run build --output-logs=errors-only

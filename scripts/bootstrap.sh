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
echo "==> installing dependencies"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3
echo "==> building"
node_modules/.bin/turbo run build --output-logs=errors-only

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
# Not --frozen-lockfile: pnpm 12 then insists on recording the packageManager
# pin in the lockfile, which it cannot do because the registry lacks that
# pnpm build. The committed lockfile is up to date, so nothing is re-resolved.
pnpm install --no-frozen-lockfile --reporter=append-only 2>&1 | grep -v 'packageManager pin' | tail -n 3
echo "==> building"
# turbo is called directly: `pnpm exec` re-checks the packageManager pin under CI=true and fails.
node_modules/.bin/turbo run build --output-logs=errors-only

#!/usr/bin/env bash
# Installs Debian's Chromium at /usr/bin/chromium for the browser tests of
# packages/core (driven by playwright-core with executablePath; Playwright's
# own browser download cannot be fetched on the project's machines).
# Idempotent and quiet: does nothing when Chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# apt's output is shown only when it fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup-browser: installing chromium failed" >&2
  exit 1
fi
echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')"

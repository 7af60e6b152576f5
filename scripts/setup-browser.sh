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
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')"

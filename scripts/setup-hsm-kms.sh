#!/usr/bin/env bash
# Installs what the PKCS#11 and AWS KMS tests need: SoftHSM2 (a software
# PKCS#11 token) and OpenSC's pkcs11-tool from Debian, and moto's server (a
# real implementation of the AWS KMS API on loopback) into .venv-ref.
# Idempotent and quiet; run after scripts/setup-reference.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || missing+=(opensc)
if [ ${#missing[@]} -gt 0 ]; then
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi
VENV=.venv-ref
if ! "$VENV/bin/python" -c 'import moto.server, flask' 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]>=5,<6"
fi
echo "hsm/kms: $(softhsm2-util --version | head -1 | sed 's/^/softhsm2 /'), moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)')"

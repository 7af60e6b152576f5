#!/usr/bin/env bash
# Installs the reference implementation, Python model-signing 1.1.1, into
# .venv-ref so the interop tests and benchmarks can run it, with
# huggingface_hub, whose model card parser the claims tests cross-check. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-ref
if [ -x "$VENV/bin/model_signing" ] && "$VENV/bin/python" -c 'import model_signing, OpenSSL, huggingface_hub' 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
# pyOpenSSL is imported by model_signing 1.1.1 but not declared as a dependency.
"$VENV/bin/pip" install --quiet --disable-pip-version-check "model-signing==1.1.1" pyopenssl "huggingface_hub==2.5.0"
"$VENV/bin/model_signing" --help >/dev/null
echo "reference: $("$VENV/bin/pip" show model-signing | grep ^Version)"

#!/usr/bin/env bash
# Runs every test of every package on a fresh machine, install included:
# pnpm + dependencies + build, the Python reference (for interop tests),
# the tests, the runnable examples, the benchmark's smoke mode and the
# packed packages installed as a user would (scripts/check-packages.mjs). The last
# line is the total: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
echo "==> installing the reference implementation (Python model-signing 1.1.1)"
scripts/setup-reference.sh
echo "==> installing SoftHSM2, OpenSC and moto (PKCS#11 and KMS tests)"
scripts/setup-hsm-kms.sh
echo "==> building the Go servers and tools the tests run (TSA, Rekor v2, Fulcio, OCI registry, ORAS, actionlint; cached)"
scripts/setup-go-tools.sh
echo "==> installing Chromium for the browser tests (Debian package, if missing)"
scripts/setup-browser.sh

echo "==> testing"
rm -f packages/*/.vitest-report.json
set +e
node_modules/.bin/turbo run test --concurrency=2 --continue --output-logs=new-only

# Each example and the benchmark's smoke run count as one check, so they cannot rot.
checks_passed=0
checks_failed=0
check() {
  echo "==> $1"
  shift
  if "$@"; then checks_passed=$((checks_passed + 1)); else checks_failed=$((checks_failed + 1)); echo "!! failed: $*"; fi
}
check "lint: tsc, ESLint (type-aware), Prettier" pnpm lint
check "example: onnx" node examples/onnx/run.mjs
check "example: tfjs" node examples/tfjs/sign-and-load.mjs
check "example: hf-hub" node examples/hf-hub/sign-upload-download.mjs
check "example: transformers" node examples/transformers/run.mjs
check "example: browser" node examples/browser/run.mjs
check "example: transformers in the browser" node examples/transformers/browser/run.mjs
check "benchmark smoke run" node scripts/bench/run.mjs --smoke
check "packages: packed, installed into fresh npm projects, README examples run" node scripts/check-packages.mjs
set -e
node scripts/test-summary.mjs --checks-passed "$checks_passed" --checks-failed "$checks_failed"

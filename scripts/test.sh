#!/usr/bin/env bash
# Runs every test of every package on a fresh machine, install included:
# pnpm + dependencies + build, the Python reference (for interop tests),
# the tests on every supported Node line (20, 22, 24, 26: all of them on the
# default `node`, all but the Chromium ones on the others), the runnable
# examples, the benchmark's smoke mode and the packed packages installed as a
# user would (scripts/check-packages.mjs). The last line is the total:
# "N passed, N failed".
#
# MODEL_SIGNING_NODE_LINES: the lines to test besides the default `node`
# (default: every supported line but the default's; "none" for none, as the
# GitHub workflow does, where each job of its Node matrix is one line).
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

supported_lines="20 22 24 26"
default_line=$(node -p 'process.versions.node.split(".")[0]')
if [ "${MODEL_SIGNING_NODE_LINES:-}" = none ]; then
  other_lines=""
elif [ -n "${MODEL_SIGNING_NODE_LINES:-}" ]; then
  other_lines=$MODEL_SIGNING_NODE_LINES
else
  other_lines=$(for line in $supported_lines; do [ "$line" = "$default_line" ] || echo "$line"; done | xargs)
fi
if [ -n "$other_lines" ]; then
  echo "==> fetching Node $other_lines from the npm registry (cached)"
  # shellcheck disable=SC2086 # one argument per line
  scripts/setup-node-lines.sh $other_lines
fi

echo "==> testing on Node $(node --version), the default line"
rm -f packages/*/.vitest-report*.json action/.vitest-report*.json
set +e
node_modules/.bin/turbo run test --concurrency=2 --continue --output-logs=new-only
for line in $other_lines; do scripts/test-node-line.sh "$line"; done

# Each example and the benchmark's smoke run count as one check, so they cannot rot.
checks_passed=0
checks_failed=0
check() {
  echo "==> $1"
  shift
  if "$@"; then checks_passed=$((checks_passed + 1)); else checks_failed=$((checks_failed + 1)); echo "!! failed: $*"; fi
}
check "lint: tsc, ESLint (type-aware), Prettier" pnpm lint
# GitHub cannot run here: its workflows are checked with actionlint (built by setup-go-tools.sh),
# which also checks the inputs they pass to ./action against action/action.yml.
check "workflows: actionlint .github/workflows" sh -c '. scripts/tools.env && "$MODEL_SIGNING_TOOL_ACTIONLINT" -no-color'
check "example: onnx" node examples/onnx/run.mjs
check "example: tfjs" node examples/tfjs/sign-and-load.mjs
check "example: hf-hub" node examples/hf-hub/sign-upload-download.mjs
check "example: transformers" node examples/transformers/run.mjs
check "example: browser" node examples/browser/run.mjs
check "example: transformers in the browser" node examples/transformers/browser/run.mjs
check "benchmark smoke run" node scripts/bench/run.mjs --smoke
check "packages: packed, installed into fresh npm projects, README examples run" node scripts/check-packages.mjs
set -e
node scripts/test-summary.mjs --checks-passed "$checks_passed" --checks-failed "$checks_failed" --node-lines "$other_lines"

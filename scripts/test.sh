#!/usr/bin/env bash
# Runs every test of every package on a fresh machine, install included:
# pnpm + dependencies + build, the Python reference (for interop tests),
# the tests, and the benchmark's smoke mode. The last line is the total:
# "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
echo "==> installing the reference implementation (Python model-signing 1.1.1)"
scripts/setup-reference.sh

echo "==> testing"
rm -f packages/*/.vitest-report.json
set +e
node_modules/.bin/turbo run test --concurrency=2 --continue --output-logs=new-only
echo "==> benchmark smoke run"
node scripts/bench/run.mjs --smoke
bench_status=$?
set -e
node scripts/test-summary.mjs --extra-failed "$([ "$bench_status" -eq 0 ] && echo 0 || echo 1)"

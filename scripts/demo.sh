#!/usr/bin/env bash
# The main job, end to end on a fresh machine: set up, then sign the example
# model with a freshly generated key, verify it, and show a tampered copy
# being refused.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cli() { node packages/cli/dist/bin.js "$@"; }

echo
echo "==> generating a P-256 key pair in $work"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem"
openssl ec -in "$work/key.pem" -pubout -out "$work/key.pub" 2>/dev/null

echo "==> signing examples/tiny-model"
cli sign key examples/tiny-model --private-key "$work/key.pem" --signature "$work/tiny-model.sig"

echo "==> verifying it"
cli verify key examples/tiny-model --signature "$work/tiny-model.sig" --public-key "$work/key.pub"

echo "==> tampering with a copy (one byte of the weights) and verifying again"
cp -r examples/tiny-model "$work/tampered-model"
printf '\x01' | dd of="$work/tampered-model/model.safetensors" bs=1 seek=100 conv=notrunc status=none
if cli verify key "$work/tampered-model" --signature "$work/tiny-model.sig" --public-key "$work/key.pub"; then
  echo "!! the tampered model was accepted" >&2
  exit 1
fi
echo
echo "Done: the signed model verified, and the tampered copy was refused."

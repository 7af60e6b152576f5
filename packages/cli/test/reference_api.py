"""Drives the reference's Python API for what its CLI cannot do: shards and
blake2. Usage:
  reference_api.py sign|verify MODEL SIGNATURE KEY [--method files|shards]
                   [--hash sha256|blake2] [--shard-size N]
For `sign`, KEY is the private key; for `verify`, the public key.
"""
import argparse
import sys

from model_signing import hashing, signing, verifying


def hashing_config(args):
    config = hashing.Config()
    if args.method == "shards":
        config.use_shard_serialization(hashing_algorithm=args.hash, shard_size=args.shard_size)
    else:
        config.use_file_serialization(hashing_algorithm=args.hash)
    return config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["sign", "verify"])
    parser.add_argument("model")
    parser.add_argument("signature")
    parser.add_argument("key")
    parser.add_argument("--method", choices=["files", "shards"], default="files")
    parser.add_argument("--hash", choices=["sha256", "blake2", "blake3"], default="sha256")
    parser.add_argument("--shard-size", type=int, default=1_000_000_000)
    args = parser.parse_args()
    if args.action == "sign":
        signing.Config().use_elliptic_key_signer(private_key=args.key).set_hashing_config(
            hashing_config(args)).sign(args.model, args.signature)
    else:
        verifying.Config().use_elliptic_key_verifier(public_key=args.key).set_hashing_config(
            hashing_config(args)).verify(args.model, args.signature)
    print(f"{args.action} succeeded")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report like the CLI: one line, exit 1
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)

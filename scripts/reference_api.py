"""Signs or verifies a model with the reference (Python model-signing 1.1.1)
through its Python API, for the hashing configurations its CLI cannot pick:
shards, blake2b and BLAKE3. The interop tests use it to check both directions
for those; the benchmark times this whole process, start-up included, as it
times the reference CLI.

    python reference_api.py sign   MODEL SIGNATURE KEY.pem     --method shards --hash sha256 --shard-size N
    python reference_api.py verify MODEL SIGNATURE PUBLIC.pem  --method shards --hash sha256 --shard-size N
"""

import argparse
import sys

from model_signing import hashing, signing, verifying


def hashing_config(args: argparse.Namespace) -> hashing.Config:
    # BLAKE3 in the reference is "files" whatever the method; "blake2" is its name for blake2b.
    algorithm = "blake2" if args.hash == "blake2b" else args.hash
    config = hashing.Config()
    if args.method == "shards":
        return config.use_shard_serialization(hashing_algorithm=algorithm, shard_size=args.shard_size)
    return config.use_file_serialization(hashing_algorithm=algorithm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["sign", "verify"])
    parser.add_argument("model")
    parser.add_argument("signature")
    parser.add_argument("key", help="private key to sign, public key to verify (PEM)")
    parser.add_argument("--method", choices=["files", "shards"], default="files")
    parser.add_argument("--hash", choices=["sha256", "blake2b", "blake3"], default="sha256")
    parser.add_argument("--shard-size", type=int, default=1_000_000_000)
    args = parser.parse_args()

    if args.action == "sign":
        signing.Config().use_elliptic_key_signer(private_key=args.key).set_hashing_config(
            hashing_config(args)
        ).sign(args.model, args.signature)
    else:
        verifying.Config().use_elliptic_key_verifier(public_key=args.key).set_hashing_config(
            hashing_config(args)
        ).verify(args.model, args.signature)
    return 0


if __name__ == "__main__":
    sys.exit(main())

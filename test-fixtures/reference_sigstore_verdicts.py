"""Prints the reference's verdict on Sigstore bundles, as JSON.

Usage: python reference_sigstore_verdicts.py IDENTITY ISSUER TRUST_CONFIG BUNDLE...

Each bundle is read and verified by model_signing 1.1.1's Sigstore verifier
(the signature, certificate, log entry and identity checks of
`model_signing verify sigstore`, without hashing a model), all in one process
so that a table of bundles costs one interpreter start. Prints one line: a
list of {"ok": true} or {"ok": false, "error": "..."} in the order given.
"""

import json
import pathlib
import sys

from model_signing._signing import sign_sigstore


def main() -> int:
    identity, issuer, trust_config, *bundles = sys.argv[1:]
    verifier = sign_sigstore.Verifier(
        identity=identity, oidc_issuer=issuer, trust_config=pathlib.Path(trust_config)
    )
    verdicts = []
    for bundle in bundles:
        try:
            verifier.verify(sign_sigstore.Signature.read(pathlib.Path(bundle)))
            verdicts.append({"ok": True})
        except Exception as error:  # every refusal, whatever its type
            verdicts.append({"ok": False, "error": f"{type(error).__name__}: {error}"})
    print(json.dumps(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())

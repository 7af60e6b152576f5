"""Makes the certificate-path matrix for the certificate-method tests.

Usage: python make_chains.py OUT_DIR [--reference-sign MODEL]

Writes one directory per case under OUT_DIR, each holding
  root.pem   the trust anchor to verify with,
  chain.pem  the certificates the signer ships after the leaf, in order,
  leaf.pem   the signing certificate,
  leaf.key   its EC P-256 private key (PKCS#8, unencrypted),
and OUT_DIR/cases.json listing the case names. Dates are relative to now, so
the matrix is made at test time (nothing is committed). Made with Python's
`cryptography`, the library the reference implementation is built on.

With --reference-sign MODEL (run with the reference's Python), each case is
also signed by the reference (Python model_signing, through the API its CLI
wraps, in this one process to spare a second of start-up per call) into
CASE/model.sig, then verified by it with root.pem as the chain; cases.json
then maps each case to the reference's error message, or null when it
accepts.
"""

import datetime
import json
import pathlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
LEAF_EMAIL = "signer@example.com"


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OMS Test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def key_usage(digital_signature=False, key_cert_sign=False, crl_sign=False, key_encipherment=False):
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def certificate(subject, subject_key, issuer, issuer_key, extensions, not_before=-30, not_after=365, public_key=None):
    """issuer is (name, public key) or None for self-signed; extensions: (value, critical) pairs.
    public_key stands in for subject_key when only the public half is at hand."""
    public_key = public_key or subject_key.public_key()
    issuer_name, issuer_public = issuer if issuer else (subject, public_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + not_before * DAY)
        .not_valid_after(NOW + not_after * DAY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False)
    )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    # Ed25519 signs the message itself: no separate hash.
    return builder.sign(issuer_key, None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def ca(cn, key, issuer=None, issuer_key=None, path_length=None, is_ca=True, usage=None, **kwargs):
    extensions = [
        (x509.BasicConstraints(ca=is_ca, path_length=path_length if is_ca else None), True),
        (usage or key_usage(key_cert_sign=True, crl_sign=True), True),
    ] + kwargs.pop("extra", [])
    return certificate(name(cn), key, issuer, issuer_key or key, extensions, **kwargs)


def leaf_extensions(usage=None, eku=True, san=None, extra=(), is_ca=False):
    """eku: True for codeSigning, False for none, or the list of usages; usage: False for no key usage extension."""
    extensions = [
        (x509.BasicConstraints(ca=is_ca, path_length=None), True),
        (x509.SubjectAlternativeName(san or [x509.RFC822Name(LEAF_EMAIL)]), False),
    ]
    if usage is not False:
        extensions.append((usage or key_usage(digital_signature=True), True))
    if eku:
        extensions.append((x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING] if eku is True else eku), False))
    return extensions + list(extra)


class Chain:
    """root -> intermediates... -> leaf, with hooks to bend each rule."""

    def __init__(self, intermediates=1, root_path_length=None, first=None, leaf=None, leaf_dates=None, root_key=None):
        self.root_key = root_key or new_key()
        self.root = ca("OMS Test Root", self.root_key, path_length=root_path_length)
        self.chain = []
        issuer, issuer_cert = self.root_key, self.root
        for i in range(intermediates):
            key = new_key()
            options = (first or {}) if i == 0 else {}
            cert = ca(f"OMS Test Intermediate {i + 1}", key, (issuer_cert.subject, issuer.public_key()), issuer, **options)
            self.chain.append(cert)
            issuer, issuer_cert = key, cert
        self.leaf_key = new_key()
        self.leaf = certificate(
            name("OMS Test Signer"), self.leaf_key, (issuer_cert.subject, issuer.public_key()), issuer,
            leaf_extensions(**(leaf or {})), **(leaf_dates or {}),
        )


def wrong_issuer_signature():
    """The leaf names Intermediate 1 as its issuer (and its key id) but is signed by another key."""
    c = Chain()
    impostor = new_key()
    intermediate_key_public = c.chain[0].public_key()
    c.leaf = certificate(
        name("OMS Test Signer"), c.leaf_key, (c.chain[0].subject, intermediate_key_public), impostor, leaf_extensions(),
    )
    return c


def cross_signed_loop():
    """Loop A <-> B: A issued the leaf, B issued A and A issued B; neither leads to the root."""
    c = Chain(intermediates=0)
    key_a, key_b = new_key(), new_key()
    name_a, name_b = name("OMS Loop A"), name("OMS Loop B")
    a = ca("OMS Loop A", key_a, (name_b, key_b.public_key()), key_b)
    b = ca("OMS Loop B", key_b, (name_a, key_a.public_key()), key_a)
    c.chain = [a, b]
    c.leaf = certificate(name("OMS Test Signer"), c.leaf_key, (name_a, key_a.public_key()), key_a, leaf_extensions())
    return c


def cross_signed_loop_beside_path():
    """The loop A <-> B, and A also issued by the root: a good path beside the loop."""
    c = cross_signed_loop()
    a = c.chain[0]
    a_by_root = certificate(
        a.subject, None, (c.root.subject, c.root_key.public_key()), c.root_key,
        [(x509.BasicConstraints(ca=True, path_length=None), True), (key_usage(key_cert_sign=True, crl_sign=True), True)],
        public_key=a.public_key(),
    )
    c.chain = c.chain + [a_by_root]
    return c


def cross_signed_intermediate():
    """Intermediate 1 twice in the chain: first cross-signed by a root the verifier lacks, then by its root."""
    c = Chain()
    other_key = new_key()
    other_root = ca("OMS Other Root", other_key)
    intermediate_key_public = c.chain[0].public_key()
    # Same subject and key as Intermediate 1, issued by the other root.
    cross = certificate(
        c.chain[0].subject, None, (other_root.subject, other_key.public_key()), other_key,
        [(x509.BasicConstraints(ca=True, path_length=None), True), (key_usage(key_cert_sign=True, crl_sign=True), True)],
        public_key=intermediate_key_public,
    )
    c.chain = [cross] + c.chain
    return c


UNKNOWN_CRITICAL = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")

CASES = {
    "good": lambda: Chain(),
    "two-intermediates": lambda: Chain(intermediates=2),
    "ed25519-root": lambda: Chain(root_key=ed25519.Ed25519PrivateKey.generate()),
    "intermediate-path-length-exceeded": lambda: Chain(intermediates=2, first={"path_length": 0}),
    "root-path-length-exceeded": lambda: Chain(root_path_length=0),
    "intermediate-not-ca": lambda: Chain(first={"is_ca": False, "usage": key_usage(digital_signature=True)}),
    "intermediate-without-key-cert-sign": lambda: Chain(first={"usage": key_usage(digital_signature=True, crl_sign=True)}),
    # Expired before the leaf was issued: the reference checks at the leaf's notBefore.
    "expired-intermediate": lambda: Chain(first={"not_before": -20, "not_after": -10}, leaf_dates={"not_before": -15, "not_after": 30}),
    "expired-leaf": lambda: Chain(leaf_dates={"not_before": -20, "not_after": -1}),
    "not-yet-valid-leaf": lambda: Chain(leaf_dates={"not_before": 1, "not_after": 30}),
    "unknown-critical-extension": lambda: Chain(leaf={"extra": [(UNKNOWN_CRITICAL, True)]}),
    "leaf-without-signing-usage": lambda: Chain(leaf={"usage": key_usage(key_encipherment=True), "eku": False}),
    # What a model-signing leaf must be (certificate-path.ts, checkLeaf).
    "leaf-without-extended-key-usage": lambda: Chain(leaf={"eku": False}),
    "leaf-code-signing-without-key-usage": lambda: Chain(leaf={"usage": False}),
    "leaf-server-auth-only": lambda: Chain(leaf={"eku": [ExtendedKeyUsageOID.SERVER_AUTH]}),
    "leaf-any-extended-key-usage": lambda: Chain(leaf={"eku": [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]}),
    "leaf-code-signing-without-digital-signature": lambda: Chain(leaf={"usage": key_usage(key_encipherment=True)}),
    "leaf-ca": lambda: Chain(leaf={"is_ca": True, "usage": key_usage(digital_signature=True, key_cert_sign=True)}),
    "leaf-ca-without-key-usage": lambda: Chain(leaf={"is_ca": True, "usage": False}),
    # The shape of the reference's own test signing certificate (scripts/tests/keys/certificate/gen.sh).
    "leaf-ca-whose-key-usage-excludes-cert-sign": lambda: Chain(leaf={"is_ca": True}),
    "leaf-key-cert-sign": lambda: Chain(leaf={"usage": key_usage(digital_signature=True, key_cert_sign=True)}),
    "name-constraints-violated": lambda: Chain(
        first={"extra": [(x509.NameConstraints(permitted_subtrees=[x509.DNSName("example.com")], excluded_subtrees=None), True)]},
        leaf={"san": [x509.DNSName("signer.example.org")]},
    ),
    "wrong-issuer-signature": wrong_issuer_signature,
    "cross-signed-loop": cross_signed_loop,
    "cross-signed-loop-beside-path": cross_signed_loop_beside_path,
    "cross-signed-intermediate": cross_signed_intermediate,
}


def pem(*certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def reference_verdicts(out, model):
    from model_signing import signing, verifying

    verdicts = {}
    for case in CASES:
        d = out / case
        signing.Config().use_certificate_signer(
            private_key=d / "leaf.key", signing_certificate=d / "leaf.pem", certificate_chain=[d / "chain.pem"]
        ).sign(model, d / "model.sig")
        try:
            verifying.Config().use_certificate_verifier(certificate_chain=[d / "root.pem"]).verify(model, d / "model.sig")
            verdicts[case] = None
        except Exception as error:  # the verdict is the message, whatever the exception type
            verdicts[case] = str(error)
    return verdicts


def main(out, model=None):
    out.mkdir(parents=True, exist_ok=True)
    for case, make in CASES.items():
        c = make()
        d = out / case
        d.mkdir(exist_ok=True)
        (d / "root.pem").write_bytes(pem(c.root))
        (d / "chain.pem").write_bytes(pem(*c.chain))
        (d / "leaf.pem").write_bytes(pem(c.leaf))
        (d / "leaf.key").write_bytes(
            c.leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    cases = reference_verdicts(out, model) if model else list(CASES)
    (out / "cases.json").write_text(json.dumps(cases))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[2] == "--reference-sign":
        main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[3]))
    elif len(sys.argv) == 2:
        main(pathlib.Path(sys.argv[1]))
    else:
        sys.exit(__doc__)

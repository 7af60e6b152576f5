// What the CLI tests repeat around a run of the CLI: the check that it
// succeeded (with its output in the message when it did not), and the
// signer flags of the certificate methods, spelled as users type them.
// Plain Node (no vitest import, which does not resolve from this folder): a
// failed check throws an AssertionError, which vitest reports like its own.
import assert from 'node:assert/strict';

/** Checks that a CLI run exited 0; `what` and its stdout and stderr make the message when it did not. Returns the run. */
export function ok(result, what) {
  assert.equal(result.code, 0, `${what}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

/** `sign|attest certificate`'s signer: the private key file, its certificate, and the chain up to (not including) the root. */
export function certificateSignerFlags(leaf, chain) {
  return ['--private-key', leaf.key, '--signing-certificate', leaf.cert, '--certificate-chain', chain];
}

/** `sign pkcs11-certificate`'s signer: the token key's URI, its certificate, and the chain up to the root. */
export function pkcs11CertificateFlags(uri, certificate, chain) {
  return ['--pkcs11-uri', uri, '--signing-certificate', certificate, '--certificate-chain', chain];
}

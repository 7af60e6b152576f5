// Tampering cases for Sigstore bundles and the verdict helper, shared by the
// Node differential test and the Chromium run (browser/sigstore-in-browser.test.ts):
// no Node APIs here, only JSON, WebCrypto and PKI.js, imported from the browser entry.
import * as pkijs from 'pkijs';
import { isModelSigningError, type ErrorCode, type SignerInfo, type Verifier } from '../../dist/browser.js';
import { verifyBundle } from '../../dist/internal.js';

/** A bundle as JSON, loosely typed: the cases reach into any field. */
export type BundleJson = any;

/** WebSigstoreVerifier's options as JSON, so a case can cross into the page; `trustedRoot` is a ClientTrustConfig, which the Node verifier reads from a file. */
export interface SigstoreOptions {
  identity?: string;
  identityRegExp?: string;
  identityProvider: string;
  useStaging?: boolean;
  trustedRoot?: BundleJson;
}

/** One row of the differential table: a bundle, the verifier options, and the verdict every verifier must give. */
export interface SigstoreCase {
  name: string;
  bundle: string;
  options: SigstoreOptions;
  expected: 'ok' | ErrorCode;
}

/** What a verifier said about a bundle: its signer, or the code it refused with. */
export type Verdict = { ok: true; signer: SignerInfo } | { ok: false; code: ErrorCode | 'NOT_A_MODEL_SIGNING_ERROR'; message: string };

/** Runs {@link verifyBundle} and turns the outcome into a comparable verdict. */
export async function verdictOf(verifier: Verifier, bundle: string): Promise<Verdict> {
  try {
    return { ok: true, signer: (await verifyBundle({ bundle, verifier })).signer };
  } catch (e) {
    return { ok: false, code: isModelSigningError(e) ? e.code : 'NOT_A_MODEL_SIGNING_ERROR', message: String((e as Error).message) };
  }
}

const b64 = {
  decode: (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0)),
  encode: (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)),
};

function flipFirstByte(encoded: string): string {
  const bytes = b64.decode(encoded);
  bytes[0] = bytes[0] ^ 0x01;
  return b64.encode(bytes);
}

/** One way to tamper with a signed bundle, and the code both verifiers must refuse it with. */
export interface TamperCase {
  name: string;
  code: ErrorCode;
  /** Reaches into what only a Rekor v1 entry has (its SET, integrated time, dsse body); not applied to Rekor v2 bundles. */
  rekorV1Only?: true;
  tamper(bundle: BundleJson): void | Promise<void>;
  /** Where the reference is looser than we are: whether it accepts this tampering of `bundle` (the untampered one). Default: it refuses. */
  referenceAccepts?(bundle: BundleJson): boolean;
}

const entry = (bundle: BundleJson) => bundle.verificationMaterial.tlogEntries[0];

/**
 * Tampering that a bundle with a Rekor v1 entry (SET, inclusion proof,
 * checkpoint) and an RFC 3161 timestamp must be refused for; all but those
 * marked `rekorV1Only` also for a bundle with a Rekor v2 entry.
 */
export const TAMPER_CASES: TamperCase[] = [
  {
    name: 'a changed payload',
    code: 'SIGNATURE_INVALID',
    tamper(bundle) {
      const statement = JSON.parse(new TextDecoder().decode(b64.decode(bundle.dsseEnvelope.payload)));
      statement.predicate.resources[0].digest = '0'.repeat(64);
      bundle.dsseEnvelope.payload = b64.encode(new TextEncoder().encode(JSON.stringify(statement)));
    },
  },
  {
    // The bundles under test carry an RFC 3161 timestamp over the signature,
    // which is checked (and fails) before the signature itself.
    name: 'a changed signature',
    code: 'CERT_CHAIN_INVALID',
    tamper(bundle) {
      bundle.dsseEnvelope.signatures[0].sig = flipFirstByte(bundle.dsseEnvelope.signatures[0].sig);
    },
  },
  {
    name: 'a log entry body that logs another payload',
    code: 'SIGNATURE_INVALID',
    rekorV1Only: true,
    tamper(bundle) {
      const body = JSON.parse(new TextDecoder().decode(b64.decode(entry(bundle).canonicalizedBody)));
      body.spec.payloadHash.value = '0'.repeat(64);
      entry(bundle).canonicalizedBody = b64.encode(new TextEncoder().encode(JSON.stringify(body)));
    },
  },
  {
    name: 'an integrated time moved by one second (SET no longer covers it)',
    code: 'SIGNATURE_INVALID',
    rekorV1Only: true,
    tamper(bundle) {
      entry(bundle).integratedTime = String(Number(entry(bundle).integratedTime) + 1);
    },
  },
  {
    name: 'an integrated time a day earlier, outside the certificate validity',
    code: 'CERT_CHAIN_INVALID',
    rekorV1Only: true,
    tamper(bundle) {
      entry(bundle).integratedTime = String(Number(entry(bundle).integratedTime) - 86_400);
    },
  },
  {
    name: 'an inclusion proof with a changed hash (or an extra one, for a log of one entry)',
    code: 'SIGNATURE_INVALID',
    tamper(bundle) {
      const hashes: string[] = entry(bundle).inclusionProof.hashes;
      if (hashes.length > 0) hashes[0] = flipFirstByte(hashes[0]);
      else hashes.push(b64.encode(new Uint8Array(32)));
    },
  },
  {
    name: 'an inclusion proof for another index',
    code: 'SIGNATURE_INVALID',
    tamper(bundle) {
      const proof = entry(bundle).inclusionProof;
      proof.logIndex = String(Number(proof.logIndex) ^ 1);
    },
  },
  {
    name: 'a checkpoint with another root hash',
    code: 'SIGNATURE_INVALID',
    tamper(bundle) {
      const checkpoint = entry(bundle).inclusionProof.checkpoint;
      const lines: string[] = checkpoint.envelope.split('\n');
      lines[2] = flipFirstByte(lines[2]);
      checkpoint.envelope = lines.join('\n');
    },
  },
  {
    name: 'a checkpoint whose signature is broken',
    code: 'SIGNATURE_INVALID',
    tamper(bundle) {
      const checkpoint = entry(bundle).inclusionProof.checkpoint;
      checkpoint.envelope = checkpoint.envelope.replace(/(\u2014 \S+ )(\S+)\n/, (_: string, head: string, sig: string) => {
        const bytes = b64.decode(sig);
        bytes[bytes.length - 1] = bytes[bytes.length - 1] ^ 0x01;
        return `${head}${b64.encode(bytes)}\n`;
      });
    },
  },
  {
    // The signature line's name is not signed; sigstore-js matches it against the log's base URL as a regular expression.
    name: 'a checkpoint signature naming another log',
    code: 'SIGNATURE_INVALID',
    tamper(bundle) {
      const checkpoint = entry(bundle).inclusionProof.checkpoint;
      checkpoint.envelope = checkpoint.envelope.replace(/\u2014 \S+ /, '\u2014 rekor.example.com ');
    },
  },
  {
    name: 'a checkpoint signature whose name is not a valid pattern',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      const checkpoint = entry(bundle).inclusionProof.checkpoint;
      checkpoint.envelope = checkpoint.envelope.replace(/\u2014 (\S+) /, '\u2014 ($1 ');
    },
  },
  {
    name: 'a checkpoint tree size that is not a number',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      const checkpoint = entry(bundle).inclusionProof.checkpoint;
      const lines: string[] = checkpoint.envelope.split('\n');
      lines[1] = `x${lines[1]}`;
      checkpoint.envelope = lines.join('\n');
    },
  },
  {
    name: 'the same RFC 3161 timestamp twice',
    code: 'CERT_CHAIN_INVALID',
    tamper(bundle) {
      const stamps = bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps;
      stamps.push(stamps[0]);
    },
  },
  {
    name: 'an SET signed by a key the trusted root does not know',
    code: 'SIGNATURE_INVALID',
    rekorV1Only: true,
    async tamper(bundle) {
      const e = entry(bundle);
      const hex = Array.from(b64.decode(e.logId.keyId), (b) => b.toString(16).padStart(2, '0')).join('');
      const payload = JSON.stringify({
        body: e.canonicalizedBody,
        integratedTime: Number(e.integratedTime),
        logID: hex,
        logIndex: Number(e.logIndex),
      });
      const key = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
      const raw = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new TextEncoder().encode(payload));
      e.inclusionPromise.signedEntryTimestamp = b64.encode(new Uint8Array(pkijs.createCMSECDSASignature(raw)));
    },
  },
];

/**
 * What a Sigstore bundle must be, whatever its signatures say: one DSSE
 * signature; one transparency log entry; an inclusion proof (with its checkpoint) for every log entry,
 * whose own root hash and tree size are the checkpoint's; a v0.3 media type
 * for a bundle holding a single certificate. Run on every production vector
 * and on the loopback bundles (Rekor v1 and v2); the reference refuses each
 * too (sigstore-web.test.ts checks its verdicts), except a tree size that
 * leaves the audit path's length unchanged, which it does not compare.
 */
export const STRUCTURE_CASES: TamperCase[] = [
  {
    name: 'the inclusion proof removed, the SET alone',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      delete entry(bundle).inclusionProof;
    },
  },
  {
    name: 'a second DSSE signature, a copy of the first',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      bundle.dsseEnvelope.signatures.push({ ...bundle.dsseEnvelope.signatures[0] });
    },
  },
  {
    name: 'a second DSSE signature, garbage after the valid one',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      bundle.dsseEnvelope.signatures.push({ sig: b64.encode(new Uint8Array(70).fill(0x30)), keyid: '' });
    },
  },
  {
    name: "an inclusion proof root hash that is not the checkpoint's",
    code: 'SIGNATURE_INVALID',
    tamper(bundle) {
      const proof = entry(bundle).inclusionProof;
      proof.rootHash = flipFirstByte(proof.rootHash);
    },
  },
  {
    name: 'an inclusion proof without its root hash',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      delete entry(bundle).inclusionProof.rootHash;
    },
  },
  {
    name: "an inclusion proof tree size that is not the checkpoint's",
    code: 'SIGNATURE_INVALID',
    tamper(bundle) {
      const proof = entry(bundle).inclusionProof;
      proof.treeSize = String(BigInt(proof.treeSize) + 1n);
    },
    // The reference walks the audit path for the proof's own tree size and compares only the root: a size whose path has the same length passes.
    referenceAccepts(bundle) {
      const proof = entry(bundle).inclusionProof;
      const [index, size] = [BigInt(proof.logIndex), BigInt(proof.treeSize)];
      return auditPathLength(index, size) === auditPathLength(index, size + 1n);
    },
  },
  {
    // The reference takes exactly one entry. Without this check a Rekor v1
    // duplicate was refused only for its integrated time counted twice, and a
    // Rekor v2 one (no integrated time) was accepted.
    name: 'the same log entry twice',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      bundle.verificationMaterial.tlogEntries.push(structuredClone(entry(bundle)));
    },
  },
  {
    name: 'the v0.1 media type on a v0.3-shaped bundle (a single certificate)',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      bundle.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
    },
  },
  {
    name: 'the v0.2 media type on a v0.3-shaped bundle (a single certificate)',
    code: 'BAD_BUNDLE',
    tamper(bundle) {
      bundle.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
    },
  },
];

/** RFC 6962: how many hashes prove leaf `index` in a tree of `size` leaves (inner nodes, then the border). */
function auditPathLength(index: bigint, size: bigint): number {
  const inner = (index ^ (size - 1n)).toString(2).replace(/^0$/, '').length;
  const border = (index >> BigInt(inner)).toString(2).replace(/0/g, '').length;
  return inner + border;
}

/** The other spelling of the v0.3 media type, which a bundle may carry: accepted by all three. */
export function withV03MediaTypeAlias(bundle: BundleJson): void {
  bundle.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.3';
}

// Rekor v2 entries for a signed bundle, built here because no Rekor v2
// service runs in the tests: a log with its own Ed25519 checkpoint key, a
// real RFC 6962 Merkle tree of three entries holding this one, a signed
// checkpoint over its root, and no SET (integrated time 0), so the bundle's
// only verified time is its RFC 3161 timestamp. Two forms of entry for the
// same DSSE envelope: sigstore-js's (`dsse` 0.0.2) and the reference's
// (`hashedrekord` 0.0.2 over the PAE, sigstore-python 4.5.1's
// _build_dsse_request).
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { BundleJson } from './cases.js';

const sha256 = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const leafHash = (leaf: Uint8Array) => sha256(Uint8Array.of(0), leaf);
const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(1), left, right);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** The largest power of two below n (n > 1), where RFC 6962 splits a tree. */
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/** RFC 6962 §2.1: the Merkle tree hash of `leaves`. */
function treeHash(leaves: Uint8Array[]): Buffer {
  if (leaves.length === 1) return leafHash(leaves[0]);
  const k = split(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** RFC 6962 §2.1.1: the audit path of leaf `m`, from the leaf up. */
function auditPath(m: number, leaves: Uint8Array[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), treeHash(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

/** Where the test log says it lives; a checkpoint signature names it by host. */
export const REKOR_V2_URL = 'https://log2025-test.rekor.example';
const ORIGIN = 'log2025-test.rekor.example';

/** The two ways a Rekor v2 log records a DSSE envelope. */
export type RekorV2Form = 'dsse/0.0.2' | 'hashedrekord/0.0.2';

/**
 * Replaces the bundle's log entries with one Rekor v2 entry of `form`, in a
 * new log that `trustConfig`'s root then trusts; both are copies.
 * `alterBody` changes the entry body before it is logged (a log that
 * records something else than the envelope, with valid proofs).
 */
export function withRekorV2Entry(
  bundle: BundleJson,
  trustConfig: BundleJson,
  form: RekorV2Form,
  alterBody?: (body: BundleJson) => void,
): { bundle: BundleJson; trustConfig: BundleJson } {
  const out = structuredClone(bundle);
  const config = structuredClone(trustConfig);
  const envelope = out.dsseEnvelope;
  const payload = Buffer.from(envelope.payload, 'base64');
  const verifier = { x509Certificate: { rawBytes: out.verificationMaterial.certificate.rawBytes }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' };
  const signature = envelope.signatures[0].sig;
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${envelope.payloadType.length} ${envelope.payloadType} ${payload.length} `), payload]);
  const body: BundleJson =
    form === 'dsse/0.0.2'
      ? {
          apiVersion: '0.0.2',
          kind: 'dsse',
          spec: {
            dsseV002: {
              payloadHash: { algorithm: 'SHA2_256', digest: b64(sha256(payload)) },
              signatures: [{ content: signature, verifier }],
            },
          },
        }
      : {
          apiVersion: '0.0.2',
          kind: 'hashedrekord',
          spec: {
            hashedRekordV002: { data: { algorithm: 'SHA2_256', digest: b64(sha256(pae)) }, signature: { content: signature, verifier } },
          },
        };
  alterBody?.(body);
  const canonicalizedBody = Buffer.from(JSON.stringify(body));

  // A log of three entries; ours is the middle one.
  const leaves = [Buffer.from('{"entry":0}'), canonicalizedBody, Buffer.from('{"entry":2}')];
  const root = treeHash(leaves);
  const key = generateKeyPairSync('ed25519');
  const spki = key.publicKey.export({ type: 'spki', format: 'der' });
  // The log ID is the SHA-256 of the key, as the trusted roots give it; the
  // reference finds the checkpoint key by the entry's log ID, and sigstore-js
  // by the root's log ID (no checkpointKeyId here): one ID serves both.
  const keyId = sha256(spki);
  const note = `${ORIGIN}\n${leaves.length}\n${b64(root)}\n`;
  const noteSignature = sign(null, Buffer.from(note), key.privateKey);
  const checkpoint = `${note}\n\u2014 ${ORIGIN} ${b64(Buffer.concat([keyId.subarray(0, 4), noteSignature]))}\n`;

  const [kind, version] = form.split('/') as [string, string];
  out.verificationMaterial.tlogEntries = [
    {
      logIndex: '1',
      logId: { keyId: b64(keyId) },
      kindVersion: { kind, version },
      integratedTime: '0',
      inclusionProof: {
        logIndex: '1',
        rootHash: b64(root),
        treeSize: String(leaves.length),
        hashes: auditPath(1, leaves).map(b64),
        checkpoint: { envelope: checkpoint },
      },
      canonicalizedBody: b64(canonicalizedBody),
    },
  ];
  config.trustedRoot.tlogs.push({
    baseUrl: REKOR_V2_URL,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(spki), keyDetails: 'PKIX_ED25519', validFor: { start: '2025-01-01T00:00:00Z' } },
    logId: { keyId: b64(keyId) },
  });
  return { bundle: out, trustConfig: config };
}

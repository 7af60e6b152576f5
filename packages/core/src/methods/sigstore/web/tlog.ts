/**
 * Transparency log checks, as sigstore-js's @sigstore/verify makes them: the
 * signed entry timestamp (inclusion promise), the signed checkpoint and the
 * RFC 6962 Merkle inclusion proof, and the entry body against the envelope
 * (a Rekor v2 body as the reference checks it).
 */
import { ModelSigningError } from '../../../errors.js';
import type { PathCertificate } from '../../certificate/certificate-path.js';
import { equal, fromBase64, sha256, toBase64, toHex, utf8, type Bytes } from './bytes.js';
import { verifyHashedRekordV2Body } from './hashedrekord-v2-body.js';
import { entryError, parseCheckpoint, proofMatchesCheckpoint, type Checkpoint, type TlogEntry } from './log-entry.js';
import { verifies } from './keys.js';
import { validAt, type LogAuthority } from './trusted-root.js';

/** Verifies the inclusion promise (SET) against the log keys valid at the integrated time. */
async function verifySet(entry: TlogEntry, set: Bytes, tlogs: readonly LogAuthority[]): Promise<void> {
  const logged = new Date(Number(entry.integratedTime) * 1000);
  // Rekor signs the RFC 8785 canonical JSON of these four fields; with keys in
  // this (sorted) order and only base64, hex and integers, JSON.stringify is canonical.
  const payload = utf8(
    JSON.stringify({
      body: toBase64(entry.canonicalizedBody),
      integratedTime: Number(entry.integratedTime),
      logID: toHex(entry.logId),
      logIndex: Number(entry.logIndex),
    }),
  );
  for (const tlog of tlogs) {
    if (equal(tlog.logId, entry.logId) && validAt(tlog.validFor, logged) && (await verifies(tlog.key, payload, set))) return;
  }
  throw entryError('its signed entry timestamp is not signed by a log key of the trusted root valid at its integrated time');
}

/**
 * Whether a checkpoint signature's name designates the log at `baseUrl`.
 * sigstore-js matches with `baseUrl.match(name)`, so the name is a regular
 * expression searched anywhere in the URL; the key hint and the signature,
 * checked with that log's key, are what bind the checkpoint to the log.
 */
function namesLog(baseUrl: string, name: string): boolean {
  let pattern: RegExp;
  try {
    pattern = new RegExp(name);
  } catch (cause) {
    throw new ModelSigningError({
      code: 'BAD_BUNDLE',
      cause,
      message: `Invalid signature bundle: the checkpoint signer name '${name}' is not a valid pattern`,
    });
  }
  return pattern.test(baseUrl);
}

/** One checkpoint signature by a log of the trusted root (key hint, then name) suffices, as in sigstore-js. */
async function verifyCheckpoint(envelope: string, tlogs: readonly LogAuthority[]): Promise<Checkpoint> {
  const checkpoint = parseCheckpoint(envelope);
  const note = utf8(checkpoint.note);
  for (const { name, keyHint, signature } of checkpoint.signatures) {
    const tlog = tlogs.find((t) => equal(t.logId.subarray(0, 4), keyHint) && namesLog(t.baseUrl, name));
    if (tlog && (await verifies(tlog.key, note, signature))) return checkpoint;
  }
  throw entryError('its checkpoint is not signed by a log of the trusted root');
}

const bitLength = (n: bigint) => (n === 0n ? 0 : n.toString(2).length);
const onesCount = (n: bigint) => n.toString(2).replace(/0/g, '').length;

/** RFC 6962 §2.1.1: recomputes the root from the leaf and the audit path and compares it with the checkpoint's. */
async function verifyMerkleInclusion(
  entry: TlogEntry,
  proof: { logIndex: bigint; hashes: Bytes[] },
  checkpoint: Checkpoint,
): Promise<void> {
  const index = proof.logIndex;
  if (index < 0n || index >= checkpoint.size)
    throw entryError(`its inclusion proof index ${index} is outside the checkpoint's tree of ${checkpoint.size}`);
  // The audit path splits where the paths to `index` and to the last leaf diverge.
  const inner = bitLength(index ^ (checkpoint.size - 1n));
  const border = onesCount(index >> BigInt(inner));
  if (proof.hashes.length !== inner + border) throw entryError('its inclusion proof has the wrong number of hashes');
  const node = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(1), left, right);
  let hash = await sha256(Uint8Array.of(0), entry.canonicalizedBody);
  for (const [i, sibling] of proof.hashes.entries()) {
    hash = i < inner && ((index >> BigInt(i)) & 1n) === 0n ? await node(hash, sibling) : await node(sibling, hash);
  }
  if (!equal(hash, checkpoint.rootHash)) throw entryError("its inclusion proof does not lead to the checkpoint's root hash");
}

/**
 * Proves the entry is in the log: its SET when present (which the entry's
 * integrated time needs), then, always, its inclusion proof against a
 * checkpoint signed by a log of the trusted root.
 *
 * @throws {ModelSigningError} `SIGNATURE_INVALID` for a proof that fails.
 */
export async function verifyInclusion(entry: TlogEntry, tlogs: readonly LogAuthority[]): Promise<void> {
  if (entry.signedEntryTimestamp) await verifySet(entry, entry.signedEntryTimestamp, tlogs);
  const checkpoint = await verifyCheckpoint(entry.inclusionProof.checkpoint, tlogs);
  proofMatchesCheckpoint(entry.inclusionProof, checkpoint);
  await verifyMerkleInclusion(entry, entry.inclusionProof, checkpoint);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks that the entry logs this envelope, for the two kinds
 * `checkLogEntryKinds` lets through: a Rekor v1 `dsse` 0.0.1 entry carries
 * the one signature and the payload's SHA-256; a Rekor v2 `hashedrekord`
 * 0.0.2 entry is checked as the reference checks it.
 *
 * @throws {ModelSigningError} `SIGNATURE_INVALID`.
 */
export async function verifyBody(
  entry: TlogEntry,
  envelope: { payloadType: string; payload: Uint8Array; signature: Uint8Array },
  leaf: PathCertificate,
): Promise<void> {
  if (entry.kind === 'hashedrekord') return verifyHashedRekordV2Body(entry.canonicalizedBody, envelope, leaf);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entry.canonicalizedBody));
  } catch {
    throw entryError('its body is not JSON');
  }
  if (!isRecord(body) || body['kind'] !== entry.kind || body['apiVersion'] !== entry.version) {
    throw entryError(`its body is not the ${entry.kind}/${entry.version} entry its kindVersion names`);
  }
  const spec = isRecord(body['spec']) ? body['spec'] : {};
  const signatures = spec['signatures'];
  if (!Array.isArray(signatures) || signatures.length !== 1) throw entryError('it does not hold exactly one signature');
  const logged = isRecord(signatures[0]) ? signatures[0]['signature'] : undefined;
  let signature: Bytes | undefined;
  try {
    signature = typeof logged === 'string' ? fromBase64(logged) : undefined;
  } catch {
    signature = undefined;
  }
  if (!signature || !equal(signature, envelope.signature)) throw entryError("its signature is not the envelope's");
  const hash = isRecord(spec['payloadHash']) ? spec['payloadHash']['value'] : undefined;
  const expected = toHex(await sha256(envelope.payload));
  if (typeof hash !== 'string' || hash.toLowerCase() !== expected) throw entryError("its payload hash is not the envelope payload's");
}

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
import { verifies } from './keys.js';
import { validAt, type LogAuthority } from './trusted-root.js';

/** A transparency log entry from a bundle's `verificationMaterial.tlogEntries`, decoded. */
export interface TlogEntry {
  logIndex: bigint;
  logId: Bytes;
  kind: string;
  version: string;
  /** Seconds since the epoch; 0 when the entry carries none (Rekor v2). */
  integratedTime: bigint;
  signedEntryTimestamp?: Bytes;
  inclusionProof?: { logIndex: bigint; hashes: Bytes[]; checkpoint?: string };
  canonicalizedBody: Bytes;
}

/**
 * A log entry that does not prove what it claims. Entry failures are
 * `SIGNATURE_INVALID`, the code the Node verifier maps sigstore-js's
 * TLOG_BODY/TLOG_INCLUSION_PROOF/TLOG_INCLUSION_PROMISE errors to.
 */
function entryError(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'SIGNATURE_INVALID', message: `The transparency log entry does not verify: ${message}` });
}

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

/** A checkpoint (signed note): the note text and its signature lines. */
interface Checkpoint {
  note: string;
  size: bigint;
  rootHash: Bytes;
  signatures: { name: string; keyHint: Bytes; signature: Bytes }[];
}

// A signature line: an em dash, the signer's name and base64(key hint || signature).
const SIGNATURE_LINE = /\u2014 (\S+) (\S+)\n/g;

function parseCheckpoint(envelope: string): Checkpoint {
  const split = envelope.indexOf('\n\n');
  if (split === -1) throw entryError('its checkpoint has no separator between note and signatures');
  const note = envelope.slice(0, split + 1);
  const signatures = Array.from(envelope.slice(split + 2).matchAll(SIGNATURE_LINE), ([, name, encoded]) => {
    let bytes: Bytes;
    try {
      bytes = fromBase64(encoded);
    } catch {
      throw entryError('a checkpoint signature is not base64');
    }
    if (bytes.length < 5) throw entryError('a checkpoint signature is too short');
    return { name: name, keyHint: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  if (signatures.length === 0) throw entryError('its checkpoint has no signature');
  const lines = note.trimEnd().split('\n');
  if (lines.length < 3) throw entryError('its checkpoint note is not origin, size and root hash');
  let size: bigint;
  try {
    // BigInt's syntax, as sigstore-js reads it; what it cannot read is malformed material.
    size = BigInt(lines[1]);
  } catch {
    throw new ModelSigningError({
      code: 'BAD_BUNDLE',
      message: `Invalid signature bundle: the checkpoint's tree size '${lines[1]}' is not a number`,
    });
  }
  let rootHash: Bytes;
  try {
    rootHash = fromBase64(lines[2]);
  } catch {
    throw entryError('its checkpoint root hash is not base64');
  }
  return { note, size, rootHash, signatures };
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
 * Proves the entry is in the log: its SET when present, then its inclusion
 * proof against a signed checkpoint when present; one of the two is required.
 *
 * @throws {ModelSigningError} `SIGNATURE_INVALID` for a proof that fails;
 *   `CERT_CHAIN_INVALID` when the entry has neither (Node's mapping of
 *   sigstore-js's TLOG_MISSING_INCLUSION_ERROR).
 */
export async function verifyInclusion(entry: TlogEntry, tlogs: readonly LogAuthority[]): Promise<void> {
  if (entry.signedEntryTimestamp) await verifySet(entry, entry.signedEntryTimestamp, tlogs);
  if (entry.inclusionProof) {
    if (entry.inclusionProof.checkpoint === undefined) throw entryError('its inclusion proof has no checkpoint');
    const checkpoint = await verifyCheckpoint(entry.inclusionProof.checkpoint, tlogs);
    await verifyMerkleInclusion(entry, entry.inclusionProof, checkpoint);
  }
  if (!entry.signedEntryTimestamp && !entry.inclusionProof) {
    throw new ModelSigningError({
      code: 'CERT_CHAIN_INVALID',
      message: 'The transparency log entry has neither an inclusion promise nor an inclusion proof',
    });
  }
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

/**
 * Decodes one `tlogEntries` item.
 *
 * @throws {ModelSigningError} `BAD_BUNDLE` naming the field.
 */
export function readTlogEntry(value: unknown, index: number): TlogEntry {
  const bad = (field: string) =>
    new ModelSigningError({
      code: 'BAD_BUNDLE',
      message: `Invalid signature bundle: tlogEntries[${index}].${field} is missing or malformed`,
    });
  if (!isRecord(value)) throw bad('');
  const integer = (v: unknown, field: string) => {
    if (v === undefined) return 0n;
    if ((typeof v !== 'string' && typeof v !== 'number') || !/^\d+$/.test(String(v))) throw bad(field);
    return BigInt(v);
  };
  const bytes = (v: unknown, field: string) => {
    if (typeof v !== 'string') throw bad(field);
    try {
      return fromBase64(v);
    } catch {
      throw bad(field);
    }
  };
  const kindVersion = isRecord(value['kindVersion']) ? value['kindVersion'] : {};
  if (typeof kindVersion['kind'] !== 'string' || typeof kindVersion['version'] !== 'string') throw bad('kindVersion');
  const logId = isRecord(value['logId']) ? value['logId']['keyId'] : undefined;
  const promise = value['inclusionPromise'];
  const proof = value['inclusionProof'];
  if (promise !== undefined && !isRecord(promise)) throw bad('inclusionPromise');
  if (proof !== undefined && !isRecord(proof)) throw bad('inclusionProof');
  const hashes = proof?.['hashes'] ?? [];
  if (!Array.isArray(hashes)) throw bad('inclusionProof.hashes');
  const checkpoint = isRecord(proof?.['checkpoint']) ? proof['checkpoint']['envelope'] : undefined;
  if (checkpoint !== undefined && typeof checkpoint !== 'string') throw bad('inclusionProof.checkpoint.envelope');
  return {
    logIndex: integer(value['logIndex'], 'logIndex'),
    logId: bytes(logId, 'logId.keyId'),
    kind: kindVersion['kind'],
    version: kindVersion['version'],
    integratedTime: integer(value['integratedTime'], 'integratedTime'),
    ...(promise ? { signedEntryTimestamp: bytes(promise['signedEntryTimestamp'], 'inclusionPromise.signedEntryTimestamp') } : {}),
    ...(proof
      ? {
          inclusionProof: {
            logIndex: integer(proof['logIndex'], 'inclusionProof.logIndex'),
            hashes: hashes.map((h: unknown) => bytes(h, 'inclusionProof.hashes')),
            ...(checkpoint !== undefined ? { checkpoint } : {}),
          },
        }
      : {}),
    canonicalizedBody: bytes(value['canonicalizedBody'], 'canonicalizedBody'),
  };
}

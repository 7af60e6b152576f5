/**
 * A transparency log entry of a bundle, decoded, and the checks of its own
 * claims that need no trusted root: the checkpoint's text, and the inclusion
 * proof's tree against the checkpoint's. No PKI.js here: the Node verifier
 * (which loads sigstore-js, not PKI.js, for a keyless bundle) uses it too.
 */
import { ModelSigningError } from '../../../errors.js';
import { equal, fromBase64, type Bytes } from './bytes.js';

/** A transparency log entry from a bundle's `verificationMaterial.tlogEntries`, decoded. */
export interface TlogEntry {
  logIndex: bigint;
  logId: Bytes;
  kind: string;
  version: string;
  /** Seconds since the epoch; 0 when the entry carries none (Rekor v2). */
  integratedTime: bigint;
  signedEntryTimestamp?: Bytes;
  /** Required: a v0.2+ Sigstore bundle proves inclusion against a signed checkpoint. */
  inclusionProof: InclusionProof;
  canonicalizedBody: Bytes;
}

/** An entry's inclusion proof: its own claims of the tree (size, root hash) must be the checkpoint's. */
export interface InclusionProof {
  logIndex: bigint;
  treeSize: bigint;
  rootHash: Bytes;
  hashes: Bytes[];
  checkpoint: string;
}

/**
 * A log entry that does not prove what it claims. Entry failures are
 * `SIGNATURE_INVALID`, the code the Node verifier maps sigstore-js's
 * TLOG_BODY/TLOG_INCLUSION_PROOF/TLOG_INCLUSION_PROMISE errors to.
 */
export function entryError(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'SIGNATURE_INVALID', message: `The transparency log entry does not verify: ${message}` });
}

/** A checkpoint (signed note): the note text and its signature lines. */
export interface Checkpoint {
  note: string;
  size: bigint;
  rootHash: Bytes;
  signatures: { name: string; keyHint: Bytes; signature: Bytes }[];
}

// A signature line: an em dash, the signer's name and base64(key hint || signature).
const SIGNATURE_LINE = /\u2014 (\S+) (\S+)\n/g;

/** Reads a checkpoint (signed note); its signatures are not checked here. */
export function parseCheckpoint(envelope: string): Checkpoint {
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
 * The inclusion proof's own statement of the tree (its size and root hash)
 * must be the checkpoint's: sigstore-js computes the root from the
 * checkpoint alone and ignores them, the reference refuses a proof whose
 * root hash differs. A proof of another tree than the one signed is not a
 * proof of this one.
 */
export function proofMatchesCheckpoint(proof: InclusionProof, checkpoint: Checkpoint): void {
  if (!equal(proof.rootHash, checkpoint.rootHash)) throw entryError("its inclusion proof's root hash is not the checkpoint's");
  if (proof.treeSize !== checkpoint.size)
    throw entryError(`its inclusion proof's tree size ${proof.treeSize} is not the checkpoint's ${checkpoint.size}`);
}

/**
 * The check of the runtime-neutral `verifyInclusion` that sigstore-js does
 * not make, for the Node verifier to add after sigstore-js has verified the
 * entry (and its checkpoint's signature).
 *
 * @throws {ModelSigningError} `SIGNATURE_INVALID`.
 */
export function verifyProofMatchesCheckpoint(entry: TlogEntry): void {
  proofMatchesCheckpoint(entry.inclusionProof, parseCheckpoint(entry.inclusionProof.checkpoint));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes one `tlogEntries` item. The inclusion proof, with its checkpoint
 * and root hash, is required, as Sigstore bundles from v0.2 on require it
 * (sigstore-js and the reference refuse a bundle without).
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
  if (!isRecord(proof)) throw bad('inclusionProof');
  const hashes = proof['hashes'] ?? [];
  if (!Array.isArray(hashes)) throw bad('inclusionProof.hashes');
  const checkpoint = isRecord(proof['checkpoint']) ? proof['checkpoint']['envelope'] : undefined;
  if (typeof checkpoint !== 'string') throw bad('inclusionProof.checkpoint.envelope');
  return {
    logIndex: integer(value['logIndex'], 'logIndex'),
    logId: bytes(logId, 'logId.keyId'),
    kind: kindVersion['kind'],
    version: kindVersion['version'],
    integratedTime: integer(value['integratedTime'], 'integratedTime'),
    ...(promise ? { signedEntryTimestamp: bytes(promise['signedEntryTimestamp'], 'inclusionPromise.signedEntryTimestamp') } : {}),
    inclusionProof: {
      logIndex: integer(proof['logIndex'], 'inclusionProof.logIndex'),
      treeSize: integer(proof['treeSize'], 'inclusionProof.treeSize'),
      rootHash: bytes(proof['rootHash'], 'inclusionProof.rootHash'),
      hashes: hashes.map((h: unknown) => bytes(h, 'inclusionProof.hashes')),
      checkpoint,
    },
    canonicalizedBody: bytes(value['canonicalizedBody'], 'canonicalizedBody'),
  };
}

/**
 * Decodes a bundle's `tlogEntries`: at most one entry, as the reference
 * (sigstore-python) refuses any bundle without exactly one. A second entry,
 * even a copy of the first, is refused before any of them is checked: a
 * Rekor v2 entry has no integrated time whose repetition would give it away.
 * (No entry at all is refused later, for leaving the signature without a
 * verified log entry.)
 *
 * @throws {ModelSigningError} `BAD_BUNDLE`.
 */
export function readTlogEntries(value: unknown): TlogEntry[] {
  const bad = (message: string) => new ModelSigningError({ code: 'BAD_BUNDLE', message: `Invalid signature bundle: ${message}` });
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw bad('tlogEntries is not a list');
  if (value.length > 1) throw bad(`it lists ${value.length} transparency log entries; a Sigstore bundle must hold exactly one`);
  return value.map(readTlogEntry);
}

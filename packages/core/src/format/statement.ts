import { ModelSigningError } from '../errors.js';
import {
  HASH_ALGORITHMS,
  parseShardName,
  resourceAlgorithm,
  rootDigest,
  shardName,
  sortResources,
  type HashAlgorithm,
  type Manifest,
  type ManifestResource,
  type Serialization,
} from './manifest.js';
import { normalizeModelPath } from './model-path.js';

/** in-toto Statement v1 type. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** OMS predicate v1.0. */
export const PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** Predicate written by model_signing v0.2; still verified. */
export const COMPAT_PREDICATE_TYPE = 'https://model_signing/Digests/v0.1';
/** DSSE payload type of OMS signatures. */
export const PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * What a payload says, parsed and checked for consistency but NOT trusted:
 * nothing proves who wrote it until its signature verified, which turns it
 * into a `VerifiedManifest` (`verifyBundle`, the verified-model session).
 */
export interface ParsedStatement extends Manifest {
  /** The subject's SHA-256 root digest (recomputed and checked for v1.0). */
  rootDigest: string;
  predicateType: string;
}

/**
 * The in-toto statement object for a manifest, as signed. Resources are
 * emitted in code-point order of their names ({@link sortResources}) whatever
 * order the caller built them in, and the subject digest is computed over
 * that emitted order.
 */
export function manifestToStatement(manifest: Manifest): object {
  const s = manifest.serialization;
  const resources = sortResources(manifest.resources);
  const serialization: Record<string, unknown> = {
    method: s.method,
    hash_type: s.hashType,
    allow_symlinks: s.allowSymlinks,
  };
  if (s.method === 'shards') serialization['shard_size'] = s.shardSize;
  if (s.ignorePaths.length > 0) serialization['ignore_paths'] = [...s.ignorePaths];
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: manifest.modelName, digest: { sha256: rootDigest(resources) } }],
    predicateType: PREDICATE_TYPE,
    predicate: {
      serialization,
      resources: resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
    },
  };
}

/** The exact payload bytes to sign: the statement as 2-space-indented JSON, UTF-8. */
export function manifestToPayload(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifestToStatement(manifest), null, 2));
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function bad(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_PAYLOAD', message: `Invalid signed statement: ${message}` });
}

/**
 * A signature over no resource covers nothing: with `ignoreUnsignedFiles`
 * it would accept any model. The reference 1.1.1 writes one for an empty
 * directory; spec §6.1 forbids it.
 */
function emptyManifest(): ModelSigningError {
  return new ModelSigningError({
    code: 'EMPTY_MANIFEST',
    message: 'The signature lists no file at all (an empty model was signed); it cannot vouch for any model (OMS spec §6.1)',
  });
}

/** Refuses a name listed twice: which digest would count is ambiguous (the reference keeps the last). */
export function duplicateResource(name: string): ModelSigningError {
  return bad(`resource '${name}' is listed twice`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value from an untrusted payload, for a message: never converted (it may have a hostile `toString`) and never long. */
function describe(v: unknown): string {
  return typeof v === 'string'
    ? `'${v.length > 100 ? `${v.slice(0, 100)}…` : v}'`
    : `a JSON ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`;
}

function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(`${what} must be a string`);
  return v;
}

/** A non-empty, whole number of hex bytes. */
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function asHex(v: unknown, what: string): string {
  const s = asString(v, what);
  if (!HEX.test(s)) throw bad(`${what} is not a hex digest`);
  return s.toLowerCase();
}

function parseSerialization(v: unknown): Serialization {
  if (!isRecord(v)) throw bad('predicate.serialization is missing');
  const method = v['method'];
  if (method !== 'files' && method !== 'shards') throw bad(`unknown serialization method ${describe(method)}`);
  const hashType = v['hash_type'];
  if (!HASH_ALGORITHMS.includes(hashType as HashAlgorithm)) throw bad(`unsupported hash_type ${describe(hashType)}`);
  const allowSymlinks = v['allow_symlinks'];
  if (typeof allowSymlinks !== 'boolean') throw bad('serialization.allow_symlinks must be a boolean');
  const ignore = v['ignore_paths'] ?? [];
  if (!Array.isArray(ignore) || !ignore.every((p) => typeof p === 'string'))
    throw bad('serialization.ignore_paths must be a list of strings');
  const serialization: Serialization = { method, hashType: hashType as HashAlgorithm, allowSymlinks, ignorePaths: ignore };
  if (method === 'shards') {
    // The reference writes shard_size as a JSON float (1000000000.0); accept any integral number.
    const size = v['shard_size'];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
      throw bad('serialization.shard_size must be a positive integer');
    serialization.shardSize = size;
  }
  return serialization;
}

function parseResources(v: unknown, serialization: Serialization): ManifestResource[] {
  if (!Array.isArray(v)) throw bad('predicate.resources must be a list');
  const expected = resourceAlgorithm(serialization);
  const seen = new Set<string>();
  return v.map((item, i) => {
    // Messages are built only on failure: a manifest may list a million resources.
    if (!isRecord(item)) throw bad(`resource ${i} is not an object`);
    const rawName = item['name'];
    if (typeof rawName !== 'string') throw bad(`resource ${i} name must be a string`);
    const algorithm = item['algorithm'];
    if (typeof algorithm !== 'string') throw bad(`resource '${rawName}' algorithm must be a string`);
    const digest = item['digest'];
    if (typeof digest !== 'string' || !HEX.test(digest)) throw bad(`resource '${rawName}' digest is not a hex digest`);
    let name: string;
    if (serialization.method === 'shards') {
      const range = parseShardName(rawName);
      name = shardName({ ...range, path: normalizeModelPath(range.path) });
    } else {
      name = normalizeModelPath(rawName);
    }
    // Both the reference's `sha256-sharded-N` and the spec's plain `sha256` name the shard algorithm.
    if (algorithm !== expected && algorithm !== serialization.hashType) {
      throw bad(`resource '${rawName}' has algorithm '${algorithm}' but the serialization says '${expected}'`);
    }
    if (seen.has(name)) throw duplicateResource(name);
    seen.add(name);
    return { name, algorithm: expected, digest: digest.toLowerCase() };
  });
}

/**
 * Parses and checks a DSSE payload: statement type, predicate type, exactly one subject, and the root digest
 * recomputed over the resources in their listed order. Also reads the v0.1
 * predicate written by model_signing v0.2. The result is unverified: only
 * `verifyBundle` (which checks the signature over these very bytes first)
 * makes a `VerifiedManifest` of it.
 *
 * @throws {ModelSigningError} `BAD_PAYLOAD` (also for a name listed twice),
 *   `EMPTY_MANIFEST` when no resource is listed, `PATH_ESCAPE` for a resource
 *   name with `..` or an absolute path.
 */
export function parseStatement(payload: Uint8Array): ParsedStatement {
  let statement: unknown;
  try {
    statement = JSON.parse(UTF8.decode(payload));
  } catch {
    throw bad('payload is not UTF-8 JSON');
  }
  if (!isRecord(statement)) throw bad('payload is not a JSON object');
  if (statement['_type'] !== STATEMENT_TYPE) throw bad(`_type is ${describe(statement['_type'])}, expected '${STATEMENT_TYPE}'`);
  const predicateType = statement['predicateType'];
  const subjects = statement['subject'];
  if (!Array.isArray(subjects)) throw bad('subject must be a list');

  if (predicateType === COMPAT_PREDICATE_TYPE) {
    // v0.2: one subject per file, sha256 each; no root digest to check.
    const seen = new Set<string>();
    const resources = subjects.map((s, i) => {
      if (!isRecord(s) || !isRecord(s['digest'])) throw bad(`subject ${i} is malformed`);
      const name = normalizeModelPath(asString(s['name'], `subject ${i} name`));
      if (seen.has(name)) throw duplicateResource(name);
      seen.add(name);
      return { name, algorithm: 'sha256', digest: asHex(s['digest']['sha256'], `subject ${i} digest`) };
    });
    if (resources.length === 0) throw emptyManifest();
    return {
      modelName: 'compat-undefined-not-present',
      serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
      resources,
      rootDigest: rootDigest(resources),
      predicateType,
    };
  }
  if (predicateType !== PREDICATE_TYPE) throw bad(`predicateType is ${describe(predicateType)}, expected '${PREDICATE_TYPE}'`);
  if (subjects.length !== 1) throw bad(`expected exactly one subject, found ${subjects.length}`);
  const subject = subjects[0] as unknown;
  if (!isRecord(subject) || !isRecord(subject['digest'])) throw bad('subject is malformed');
  const modelName = asString(subject['name'], 'subject name');
  const claimedRoot = asHex(subject['digest']['sha256'], 'subject sha256 digest');
  const predicate = statement['predicate'];
  if (!isRecord(predicate)) throw bad('predicate is missing');
  const serialization = parseSerialization(predicate['serialization']);
  const resources = parseResources(predicate['resources'], serialization);
  if (resources.length === 0) throw emptyManifest();
  const actualRoot = rootDigest(resources);
  if (actualRoot !== claimedRoot) {
    throw bad(`manifest is inconsistent: the subject digest is ${claimedRoot} but the resources hash to ${actualRoot}`);
  }
  return { modelName, serialization, resources, rootDigest: actualRoot, predicateType };
}

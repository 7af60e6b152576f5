import { ModelSigningError } from '../errors.js';
import {
  HASH_ALGORITHMS,
  compareResourceNames,
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
import { reservePayload } from './dsse.js';
import { findMember, forEachListSlice, textWithout } from './json-spans.js';
import { utf8Length } from './utf8.js';

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
  const resources = sortResources(manifest.resources);
  return statementOf(
    manifest,
    resources,
    resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
  );
}

/** The statement with `listed` as its resources and the root digest of `sorted`. */
function statementOf(manifest: Manifest, sorted: readonly ManifestResource[], listed: readonly object[]): object {
  const s = manifest.serialization;
  const serialization: Record<string, unknown> = {
    method: s.method,
    hash_type: s.hashType,
    allow_symlinks: s.allowSymlinks,
  };
  if (s.method === 'shards') serialization['shard_size'] = s.shardSize;
  if (s.ignorePaths.length > 0) serialization['ignore_paths'] = [...s.ignorePaths];
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: manifest.modelName, digest: { sha256: rootDigest(sorted) } }],
    predicateType: PREDICATE_TYPE,
    predicate: { serialization, resources: listed },
  };
}

// How `JSON.stringify(statement, null, 2)` lays out each resource: the
// predicate's `resources` list is at depth 2, its objects at depth 3.
const RESOURCE_OPEN = '      {\n        "name": ';
const RESOURCE_ALGORITHM = ',\n        "algorithm": ';
const RESOURCE_DIGEST = ',\n        "digest": ';
const RESOURCE_CLOSE = '\n      }';
const RESOURCE_SEPARATOR = ',\n';
const FIXED_BYTES = RESOURCE_OPEN.length + RESOURCE_ALGORITHM.length + RESOURCE_DIGEST.length + RESOURCE_CLOSE.length;
/** How the empty list is written, and what follows it to the end of the statement. */
const EMPTY_RESOURCES_END = '[]\n  }\n}';
const RESOURCES_TAIL = '\n    ]\n  }\n}';
/** Strings JSON writes as they are, between quotes: printable ASCII but `"` and `\`. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** Resources serialized and encoded at a time. */
const BLOCK = 4096;

function jsonString(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

function jsonStringBytes(value: string): number {
  return PLAIN.test(value) ? value.length + 2 : utf8Length(JSON.stringify(value));
}

function resourceJson(r: ManifestResource): string {
  return (
    RESOURCE_OPEN +
    jsonString(r.name) +
    RESOURCE_ALGORITHM +
    jsonString(r.algorithm) +
    RESOURCE_DIGEST +
    jsonString(r.digest) +
    RESOURCE_CLOSE
  );
}

/**
 * The exact payload bytes to sign: the statement as 2-space-indented JSON,
 * UTF-8 (`JSON.stringify(manifestToStatement(manifest), null, 2)`).
 *
 * Written without that one big string: the resources are measured, then
 * serialized a block at a time straight into the payload, which is
 * allocated inside its DSSE pre-authentication encoding so signing does
 * not copy it either. A million resources make a 150 MB payload.
 */
export function manifestToPayload(manifest: Manifest): Uint8Array {
  const resources = sortResources(manifest.resources);
  const encoder = new TextEncoder();
  if (resources.length === 0) return encoder.encode(JSON.stringify(statementOf(manifest, resources, []), null, 2));
  const text = JSON.stringify(statementOf(manifest, resources, []), null, 2);
  if (!text.endsWith(EMPTY_RESOURCES_END)) throw new Error('Unexpected statement layout');
  const head = `${text.slice(0, text.length - EMPTY_RESOURCES_END.length)}[\n`;
  let size = utf8Length(head) + RESOURCES_TAIL.length + RESOURCE_SEPARATOR.length * (resources.length - 1);
  const algorithmBytes = new Map<string, number>();
  for (const r of resources) {
    let bytes = algorithmBytes.get(r.algorithm);
    if (bytes === undefined) algorithmBytes.set(r.algorithm, (bytes = jsonStringBytes(r.algorithm)));
    size += FIXED_BYTES + jsonStringBytes(r.name) + bytes + jsonStringBytes(r.digest);
  }
  const reserved = reservePayload(PAYLOAD_TYPE, size);
  const payload = reserved.into;
  let at = encoder.encodeInto(head, payload).written;
  for (let start = 0; start < resources.length; start += BLOCK) {
    const block = resources
      .slice(start, start + BLOCK)
      .map(resourceJson)
      .join(RESOURCE_SEPARATOR);
    const chunk = block + (start + BLOCK < resources.length ? RESOURCE_SEPARATOR : RESOURCES_TAIL);
    const { read, written } = encoder.encodeInto(chunk, payload.subarray(at));
    if (read !== chunk.length) throw new Error(`Statement larger than the ${size} bytes measured`);
    at += written;
  }
  if (at !== size) throw new Error(`Statement serialized to ${at} bytes, measured ${size}`);
  return reserved.finish(size);
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
  const parse = resourceParser(serialization);
  const resources = v.map((item: unknown, i) => parse(item, i));
  refuseDuplicates(resources);
  return resources;
}

/** Checks one listed resource (the `i`-th) and makes it a frozen `ManifestResource`. */
function resourceParser(serialization: Serialization): (item: unknown, i: number) => ManifestResource {
  const expected = resourceAlgorithm(serialization);
  return (item, i) => {
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
    // The parsed strings are kept (toLowerCase returns a lowercase string as it is), and the
    // object is frozen here so the verified manifest shares it rather than copying a million.
    return Object.freeze({ name, algorithm: expected, digest: digest.toLowerCase() });
  };
}

/**
 * Refuses a name listed twice. Manifests are written in code-point order,
 * where a duplicate sits next to its twin: one comparison per resource
 * finds it, and only a manifest in another order needs a set of every name.
 */
function refuseDuplicates(resources: readonly ManifestResource[]): void {
  let ordered = true;
  for (let i = 1; i < resources.length && ordered; i++) {
    const order = compareResourceNames(resources[i - 1].name, resources[i].name);
    if (order === 0) throw duplicateResource(resources[i].name);
    ordered = order < 0;
  }
  if (ordered) return;
  const seen = new Set<string>();
  for (const { name } of resources) {
    if (seen.has(name)) throw duplicateResource(name);
    seen.add(name);
  }
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
  try {
    const parsed = parseStatementInSlices(payload);
    if (parsed) return parsed;
  } catch {
    // Whatever is wrong, the whole payload parsed at once says it as it always has.
  }
  return parseWholeStatement(payload);
}

/** Resources parsed at a time from a payload's list of them. */
const RESOURCES_PER_SLICE = 4096;

/**
 * {@link parseWholeStatement} without the payload's text or its parsed
 * JSON whole (a dataset's are each 150 MB and more): the statement is
 * parsed with its list of resources left empty, then the list a slice at
 * a time (json-spans.ts), each resource checked as it comes. `undefined`
 * when the list cannot be told apart that way (the v0.1 predicate lists
 * subjects), for the whole to be parsed; throws on any fault, which the
 * caller then reports as the whole parse does.
 */
function parseStatementInSlices(payload: Uint8Array): ParsedStatement | undefined {
  const span = findMember(payload, ['predicate', 'resources']);
  if (!span) return undefined;
  const rest = JSON.parse(textWithout(payload, span, '[]')) as unknown;
  // The list cut is the one JSON.parse reads there.
  const predicate = isRecord(rest) ? rest['predicate'] : undefined;
  if (!isRecord(predicate) || !Array.isArray(predicate['resources']) || predicate['resources'].length !== 0) return undefined;
  const header = statementHeader(rest);
  const parse = resourceParser(header.serialization);
  const resources: ManifestResource[] = [];
  const listed = forEachListSlice(payload, span, RESOURCES_PER_SLICE, (list) => {
    for (const item of JSON.parse(list) as unknown[]) resources.push(parse(item, resources.length));
  });
  if (!listed) return undefined;
  refuseDuplicates(resources);
  return checkedStatement(header, resources);
}

/** What a v1.0 statement says besides its resources. */
interface StatementHeader {
  modelName: string;
  claimedRoot: string;
  serialization: Serialization;
  predicateType: string;
  /** `predicate.resources`, unchecked. */
  listed: unknown;
}

/** Checks a v1.0 statement's type, subject and serialization, in the order the whole parse does. */
function statementHeader(statement: unknown): StatementHeader {
  if (!isRecord(statement)) throw bad('payload is not a JSON object');
  if (statement['_type'] !== STATEMENT_TYPE) throw bad(`_type is ${describe(statement['_type'])}, expected '${STATEMENT_TYPE}'`);
  const predicateType = statement['predicateType'];
  const subjects = statement['subject'];
  if (!Array.isArray(subjects)) throw bad('subject must be a list');
  if (predicateType !== PREDICATE_TYPE) throw bad(`predicateType is ${describe(predicateType)}, expected '${PREDICATE_TYPE}'`);
  if (subjects.length !== 1) throw bad(`expected exactly one subject, found ${subjects.length}`);
  const subject = subjects[0] as unknown;
  if (!isRecord(subject) || !isRecord(subject['digest'])) throw bad('subject is malformed');
  const modelName = asString(subject['name'], 'subject name');
  const claimedRoot = asHex(subject['digest']['sha256'], 'subject sha256 digest');
  const predicate = statement['predicate'];
  if (!isRecord(predicate)) throw bad('predicate is missing');
  const serialization = parseSerialization(predicate['serialization']);
  return { modelName, claimedRoot, serialization, predicateType, listed: predicate['resources'] };
}

/** The statement once its resources are listed: none is refused, and the subject digest must be theirs. */
function checkedStatement(header: StatementHeader, resources: ManifestResource[]): ParsedStatement {
  if (resources.length === 0) throw emptyManifest();
  const actualRoot = rootDigest(resources);
  if (actualRoot !== header.claimedRoot) {
    throw bad(`manifest is inconsistent: the subject digest is ${header.claimedRoot} but the resources hash to ${actualRoot}`);
  }
  const { modelName, serialization, predicateType } = header;
  return { modelName, serialization, resources, rootDigest: actualRoot, predicateType };
}

/** {@link parseStatement} of the whole payload at once, whatever its layout. */
function parseWholeStatement(payload: Uint8Array): ParsedStatement {
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
  const header = statementHeader(statement);
  return checkedStatement(header, parseResources(header.listed, header.serialization));
}

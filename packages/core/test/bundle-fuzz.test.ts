import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CertificateSigner,
  CertificateVerifier,
  KeySigner,
  KeyVerifier,
  ModelSigningError,
  PAYLOAD_TYPE,
  SigstoreVerifier,
  type Manifest,
  type Signer,
  type Verifier,
  signPayload,
} from '../dist/index.js';
import { ManifestChecker, manifestToPayload, verifyBundle, type VerifiedBundle } from '../dist/internal.js';
import { compareListing } from '../dist/internal.js';
import { HISTORICAL, REFERENCE_KEYS, SPEC_VECTORS } from './helpers.js';

// A structural fuzzer for the library's bundle verification. Valid key,
// certificate and Sigstore bundles (the reference's historical ones, the OMS
// spec's, and freshly signed ones) are mutated: keys deleted and duplicated,
// values of the wrong type, huge numbers and strings, deep nesting, invalid
// base64, non-UTF-8 bytes, NUL bytes, `__proto__`/`constructor` keys, and
// payloads re-signed with hostile names and serialization values. Every
// outcome must be a ModelSigningError with a known code, or a success that
// the fuzzer checks is legitimate: the trusted content is exactly the
// original's (the mutation was neutral), or, for a payload we re-signed
// ourselves, a manifest that satisfies the format's invariants; either way a
// ManifestChecker built from it accepts its own file list and refuses an
// empty one. Reproduce a
// run with FUZZ_SEED=<seed> (and FUZZ_CASES=<n>); failures print both.

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261130);
const CASES = Number(process.env['FUZZ_CASES'] ?? 10_000);
/** Per-case limit; a case over it is reported as a hang. */
const CASE_LIMIT_MS = 5_000;

const KNOWN_CODES = new Set([
  'BAD_BUNDLE',
  'BUNDLE_TOO_LARGE',
  'BAD_PAYLOAD',
  'EMPTY_MANIFEST',
  'SIGNATURE_INVALID',
  'KEY_MISMATCH',
  'BAD_KEY',
  'CERT_CHAIN_INVALID',
  'IDENTITY_MISMATCH',
  'WRONG_METHOD',
  'PATH_ESCAPE',
]);

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

class Random {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every container in the tree with the path to it, for picking a spot to mutate. */
function containers(root: Json): (Json[] | JsonObject)[] {
  const out: (Json[] | JsonObject)[] = [];
  const stack: Json[] = [root];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      out.push(v);
      stack.push(...v);
    } else if (isObject(v)) {
      out.push(v);
      stack.push(...Object.values(v));
    }
  }
  return out;
}

/** Sets an own, enumerable property even for `__proto__`, so JSON.stringify writes it. */
function setKey(obj: JsonObject, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// Replaced in the serialized text by content JSON.stringify cannot produce.
const MARK = '\u0001MARK\u0001';
const MARK_JSON = JSON.stringify(MARK);

function hostileValue(r: Random): { value: Json; raw?: string } {
  switch (r.int(16)) {
    case 0:
      return { value: null };
    case 1:
      return { value: r.chance(0.5) };
    case 2:
      return { value: r.pick([0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 2, 4294967296, 1e-300]) };
    case 3:
      return { value: '' };
    case 4:
      return { value: 'A'.repeat(r.chance(0.05) ? 1_000_000 : r.pick([1_000, 100_000])) };
    case 5:
      return { value: [] };
    case 6:
      return { value: {} };
    case 7:
    case 8: {
      // Deep nesting (V8 parses even 100,000 levels; the deepest are the rarest, as they cost the most).
      const depth = r.chance(0.05) ? 100_000 : r.pick([100, 10_000]);
      return { value: MARK, raw: r.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) };
    }
    case 9:
      return { value: 'a\u0000b' };
    case 10:
      return { value: '!!!not base64===' };
    case 11:
      return { value: 'QUJD=RA==' };
    case 12:
      return { value: '\ud800' }; // a lone surrogate
    case 13:
      return { value: MARK, raw: '1e999999' };
    case 14:
      return { value: [null, 1, 'x', {}] };
    default:
      return { value: { __proto__: null, constructor: 'x', toString: 1 } };
  }
}

interface Mutation {
  /** What was done, for the failure report. */
  what: string;
  /** The bundle text or bytes to verify. */
  input: string | Buffer;
  /** A neutral mutation must verify, with the original's result. */
  neutral: boolean;
  /** The payload was re-signed by us: success is checked against the format's invariants. */
  resigned: boolean;
}

/** Serializes with object keys in random order (a neutral change). */
function shuffledJson(r: Random, v: Json): string {
  if (Array.isArray(v)) return `[${v.map((x) => shuffledJson(r, x)).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [keys[i], keys[j]] = [keys[j], keys[i]];
    }
    return `{${keys.map((k) => `${JSON.stringify(k)}:${shuffledJson(r, v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

interface TreeMutation {
  what: string;
  text: string | Buffer;
  neutral: boolean;
}

/** One structural mutation of a JSON document (a bundle or a statement); retried until one applies. */
function mutateTree(r: Random, original: Json): TreeMutation {
  for (;;) {
    const m = tryMutateTree(r, original);
    if (m) return m;
  }
}

/** One structural mutation at a random spot, or undefined when the spot does not allow the chosen one. */
function tryMutateTree(r: Random, original: Json): TreeMutation | undefined {
  const doc = structuredClone(original);
  const spots = containers(doc);
  const spot = r.pick(spots);
  const keys = Array.isArray(spot) ? spot.map((_, i) => String(i)) : Object.keys(spot);
  const key = keys.length > 0 ? r.pick(keys) : undefined;
  const finish = (what: string, raw?: string) => {
    let text = JSON.stringify(doc);
    if (raw !== undefined) text = text.replace(MARK_JSON, raw);
    return { what, text, neutral: false };
  };
  // Neutral mutations verify in full every time, the costliest outcome: 1 case in 11.
  switch (r.int(11)) {
    case 0: {
      if (key === undefined) return undefined;
      if (Array.isArray(spot)) spot.splice(Number(key), 1);
      else delete spot[key];
      return finish(`delete ${key}`);
    }
    case 1: {
      // A duplicate key: JSON.parse keeps the last one.
      if (key === undefined || Array.isArray(spot)) return undefined;
      const { value, raw } = hostileValue(r);
      const text = JSON.stringify(doc);
      const needle = `${JSON.stringify(key)}:`;
      const at = text.indexOf(needle);
      const extra = `${JSON.stringify(key)}:${raw ?? JSON.stringify(value)},`;
      return { what: `duplicate key ${key}`, text: text.slice(0, at) + extra + text.slice(at), neutral: false };
    }
    case 2:
    case 3:
    case 4: {
      if (key === undefined) return undefined;
      const { value, raw } = hostileValue(r);
      if (Array.isArray(spot)) spot[Number(key)] = value;
      else setKey(spot, key, value);
      return finish(`replace ${key} with ${raw === undefined ? JSON.stringify(value).slice(0, 40) : raw.slice(0, 20)}`, raw);
    }
    case 5: {
      if (Array.isArray(spot)) {
        spot.push(spot.length > 0 ? structuredClone(r.pick(spot)) : hostileValue(r).value);
        return finish('duplicate an array element');
      }
      const name = r.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'then']);
      setKey(spot, name, r.chance(0.5) ? { polluted: true, rawBytes: 'AAAA', certificates: [] } : hostileValue(r).value);
      return finish(`add key ${name}`);
    }
    case 6: {
      // A string field's base64 broken, or a string field grown.
      if (key === undefined || typeof (spot as JsonObject)[key] !== 'string') return undefined;
      const s = (spot as JsonObject)[key] as string;
      const at = r.int(s.length + 1);
      const insert = r.pick(['!', '=', '==', '\u0000', ' ', '\n', '-', '_', 'é', '\ud83d']);
      (spot as JsonObject)[key] = s.slice(0, at) + insert + s.slice(at);
      return finish(`insert ${JSON.stringify(insert)} into ${key}`);
    }
    case 7: {
      const text = Buffer.from(JSON.stringify(doc));
      const at = r.int(text.length);
      const bytes = r.pick([[0xff], [0xc3], [0x00], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]);
      return {
        what: `insert bytes ${bytes.join(',')} at ${at}`,
        text: Buffer.concat([text.subarray(0, at), Buffer.from(bytes), text.subarray(at)]),
        neutral: false,
      };
    }
    case 8: {
      const text = Buffer.from(JSON.stringify(doc));
      const at = r.int(text.length);
      return { what: `truncate at ${at}`, text: text.subarray(0, at), neutral: false };
    }
    case 9: {
      const text = Buffer.from(JSON.stringify(doc));
      const at = r.int(text.length);
      text[at] = text[at] ^ (1 << r.int(8));
      return { what: `flip a bit at ${at}`, text, neutral: false };
    }
    default:
      return r.chance(0.5)
        ? { what: 'shuffle every object', text: shuffledJson(r, doc), neutral: true }
        : { what: 'reindent', text: JSON.stringify(doc, null, r.pick([1, 2, 4, '\t'])), neutral: true };
  }
}

const HOSTILE_NAMES = [
  '../secret',
  '/etc/passwd',
  'a/../../b',
  '',
  '.',
  './',
  'a//b',
  'a\u0000b',
  'C:\\Windows\\x',
  '\\\\server\\share',
  'a'.repeat(100_000),
  'name:with:colons',
  'x:0:10',
  'x:10:0',
  'x:-1:5',
  'x:0:99999999999999999999',
  '..',
  'a/./b',
  '\u202e.bin',
  '😀/..',
  '\ud800',
];

/** A hostile change to a statement's resources or serialization (re-signed afterwards). */
function mutateStatement(r: Random, statement: JsonObject): { what: string; statement: JsonObject } {
  const s = structuredClone(statement);
  // v1.0 lists resources in the predicate; v0.1 lists them as subjects.
  const predicate = s['predicate'] as JsonObject;
  const isV1 = Array.isArray(predicate['resources']);
  const resources = (isV1 ? predicate['resources'] : s['subject']) as JsonObject[];
  const serialization = (isV1 ? predicate['serialization'] : {}) as JsonObject;
  let what: string;
  switch (r.int(5)) {
    case 0: {
      const target = r.pick(resources);
      target['name'] = r.pick(HOSTILE_NAMES);
      what = `resource name ${JSON.stringify(target['name']).slice(0, 40)}`;
      break;
    }
    case 1: {
      resources.push(structuredClone(r.pick(resources)));
      what = 'a resource listed twice';
      break;
    }
    case 2: {
      const field = r.pick(['shard_size', 'method', 'hash_type', 'allow_symlinks', 'ignore_paths']);
      const value = r.pick<Json>([0, -1, 1.5, 1e308, '1000', 'tree', 'md5', 'yes', null, [1], ['../x'], 2 ** 53, true]);
      serialization[field] = value;
      what = `serialization.${field} = ${JSON.stringify(value)}`;
      break;
    }
    case 3: {
      resources.splice(0, resources.length);
      what = 'no resources';
      break;
    }
    default: {
      const target = r.pick(resources);
      target['digest'] = r.pick<Json>(['', 'zz', 'abc', '00'.repeat(10_000), 42, { sha256: 'aa' }]);
      what = `resource digest ${JSON.stringify(target['digest']).slice(0, 40)}`;
    }
  }
  // Half the time keep the root digest consistent so the checks behind it run.
  if (isV1 && r.chance(0.5) && resources.every((x) => typeof x['digest'] === 'string' && /^([0-9a-f]{2})*$/.test(x['digest']))) {
    const root = createHash('sha256');
    for (const x of resources) root.update(Buffer.from(x['digest'] as string, 'hex'));
    ((s['subject'] as JsonObject[])[0]['digest'] as JsonObject)['sha256'] = root.digest('hex');
    what += ' (root recomputed)';
  }
  return { what, statement: s };
}

/** What a verification established, for comparing with the original's. */
function trusted(v: VerifiedBundle): string {
  return JSON.stringify({ manifest: v.manifest, signer: v.signer });
}

/** The format's invariants, checked independently of the code under test. */
function invariantViolation(v: VerifiedBundle): string | undefined {
  const { resources, serialization } = v.manifest;
  if (resources.length === 0) return 'an empty manifest was accepted';
  const names = new Set<string>();
  for (const res of resources) {
    if (names.has(res.name)) return `'${res.name}' accepted twice`;
    names.add(res.name);
    let file = res.name;
    if (serialization.method === 'shards') {
      const m = /^(.*):(\d+):(\d+)$/s.exec(res.name);
      if (!m || !(Number(m[3]) > Number(m[2])) || !Number.isSafeInteger(Number(m[3]))) return `bad shard name '${res.name}'`;
      file = m[1]!;
    }
    if (file !== '.' && (file.startsWith('/') || file.includes('\0') || file.split('/').some((p) => p === '' || p === '.' || p === '..'))) {
      return `unsafe name '${res.name}' accepted`;
    }
    if (!/^[0-9a-f]+$/.test(res.digest)) return `bad digest for '${res.name}'`;
  }
  if (!['files', 'shards'].includes(serialization.method)) return `method ${serialization.method}`;
  if (serialization.method === 'shards' && !(Number.isSafeInteger(serialization.shardSize) && serialization.shardSize! > 0))
    return `shard size ${serialization.shardSize}`;
  if (v.manifest.predicateType.endsWith('/v1.0')) {
    const root = createHash('sha256');
    for (const res of resources) root.update(Buffer.from(res.digest, 'hex'));
    if (root.digest('hex') !== v.manifest.rootDigest) return 'root digest not over the listed resources';
  }
  return undefined;
}

/**
 * An accepted manifest goes on to a checker: it must take the listing of
 * exactly its own files, and refuse an empty listing with a coded error.
 */
function checkerViolation(v: VerifiedBundle): string | undefined {
  try {
    const checker = new ManifestChecker(v.manifest);
    // Each file at its signed size (the end of its last shard, in shard mode).
    const sizes = new Map<string, number>();
    if (v.manifest.serialization.method === 'shards') {
      for (const r of v.manifest.resources) {
        const [, file, end] = /^(.*):\d+:(\d+)$/.exec(r.name)!;
        sizes.set(file, Math.max(sizes.get(file) ?? 0, Number(end)));
      }
    }
    compareListing(
      checker.signedFiles.map((name) => ({ name, size: sizes.get(name) ?? 1 })),
      checker,
    );
    try {
      compareListing([], checker);
      return 'the checker accepted an empty listing';
    } catch (err) {
      if (!(err instanceof ModelSigningError)) throw err;
    }
  } catch (err) {
    return `the checker threw ${err instanceof ModelSigningError ? `[${err.code}] ` : ''}${(err as Error).message?.slice(0, 200)}`;
  }
  return undefined;
}

interface Seed {
  name: string;
  text: string;
  verifier: Verifier;
  /** For fresh bundles: the signer, so payload mutations can be re-signed. */
  signer?: Signer;
  baseline: string;
}

const KEY = path.join(REFERENCE_KEYS, 'signing-key.pem');
const SIGNING_CERT = path.join(REFERENCE_KEYS, 'signing-key-cert.pem');
const INT_CA = path.join(REFERENCE_KEYS, 'int-ca-cert.pem');

function freshManifest(method: 'files' | 'shards'): Manifest {
  const digest = (s: string) => createHash('sha256').update(s).digest('hex');
  const resources =
    method === 'files'
      ? ['config.json', 'tokenizer.json', 'tokenizer/vocab.txt', 'weights/a b.bin'].map((name) => ({
          name,
          algorithm: 'sha256',
          digest: digest(name),
        }))
      : ['big.bin:0:4', 'big.bin:4:8', 'big.bin:8:10', 'small.bin:0:3'].map((name) => ({
          name,
          algorithm: 'sha256-sharded-4',
          digest: digest(name),
        }));
  return {
    modelName: 'fuzz',
    serialization: {
      method,
      hashType: 'sha256',
      allowSymlinks: false,
      ignorePaths: method === 'files' ? ['.git'] : [],
      ...(method === 'shards' ? { shardSize: 4 } : {}),
    },
    resources,
  };
}

async function seeds(): Promise<Seed[]> {
  const keyVerifier = await KeyVerifier.create({ publicKey: path.join(REFERENCE_KEYS, 'signing-key-pub.pem') });
  const certVerifier = await CertificateVerifier.create({ certificateChain: [path.join(REFERENCE_KEYS, 'ca-cert.pem')] });
  const sigstoreVerifier = await SigstoreVerifier.create({
    identity: 'stefanb@us.ibm.com',
    identityProvider: 'https://sigstore.verify.ibm.com/oauth2',
    offline: true,
  });
  const keySigner = await KeySigner.create({ privateKey: KEY });
  const certSigner = await CertificateSigner.create({ privateKey: KEY, signingCertificate: SIGNING_CERT, certificateChain: [INT_CA] });

  const list: Omit<Seed, 'baseline'>[] = [];
  for (const [signer, verifier] of [
    [keySigner, keyVerifier],
    [certSigner, certVerifier],
  ] as const) {
    for (const method of ['files', 'shards'] as const) {
      const bundle = await signPayload({ signer, payload: manifestToPayload(freshManifest(method)), payloadType: PAYLOAD_TYPE });
      list.push({ name: `fresh ${signer.method} ${method}`, text: JSON.stringify(bundle), verifier, signer });
    }
    // The v0.1 predicate (model_signing v0.2), re-signed with today's PAE.
    const v01 = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        { name: 'a.bin', digest: { sha256: 'ab'.repeat(32) } },
        { name: 'b/c.bin', digest: { sha256: 'cd'.repeat(32) } },
      ],
      predicateType: 'https://model_signing/Digests/v0.1',
      predicate: {},
    };
    list.push({
      name: `fresh ${signer.method} v0.1`,
      text: JSON.stringify(await signPayload({ signer, payload: Buffer.from(JSON.stringify(v01)), payloadType: PAYLOAD_TYPE })),
      verifier,
      signer,
    });
  }
  for (const dir of ['v0.2.0-certificate', 'v1.0.0-certificate', 'v1.1.0-certificate'])
    list.push({ name: dir, text: await fs.readFile(path.join(HISTORICAL, dir, 'model.sig'), 'utf8'), verifier: certVerifier });
  for (const dir of ['v0.3.1-elliptic-key', 'v1.1.0-elliptic-key'])
    list.push({ name: dir, text: await fs.readFile(path.join(HISTORICAL, dir, 'model.sig'), 'utf8'), verifier: keyVerifier });
  for (const dir of ['v0.3.1-sigstore', 'v1.1.0-sigstore'])
    list.push({ name: dir, text: await fs.readFile(path.join(HISTORICAL, dir, 'model.sig'), 'utf8'), verifier: sigstoreVerifier });
  list.push({
    name: 'oms-spec key',
    text: await fs.readFile(path.join(SPEC_VECTORS, 'valid/key.bundle.json'), 'utf8'),
    verifier: keyVerifier,
  });
  list.push({
    name: 'oms-spec sigstore',
    text: await fs.readFile(path.join(SPEC_VECTORS, 'valid/sigstore.bundle.json'), 'utf8'),
    verifier: sigstoreVerifier,
  });
  return Promise.all(list.map(async (s) => ({ ...s, baseline: trusted(await verifyBundle({ bundle: s.text, verifier: s.verifier })) })));
}

async function mutate(r: Random, seed: Seed): Promise<Mutation> {
  const bundle = JSON.parse(seed.text) as JsonObject;
  if (seed.signer && r.chance(0.3)) {
    // Re-sign a changed statement: the signature is valid, so the statement checks must hold on their own.
    const envelope = bundle['dsseEnvelope'] as JsonObject;
    const statement = JSON.parse(Buffer.from(envelope['payload'] as string, 'base64').toString('utf8')) as JsonObject;
    let what: string;
    let payload: Buffer;
    if (r.chance(0.5)) {
      const m = mutateStatement(r, statement);
      what = m.what;
      payload = Buffer.from(JSON.stringify(m.statement));
    } else {
      const m = mutateTree(r, statement);
      what = `statement: ${m.what}`;
      payload = Buffer.from(m.text);
    }
    const resigned = await signPayload({ signer: seed.signer, payload, payloadType: r.chance(0.95) ? PAYLOAD_TYPE : 'application/json' });
    return { what: `re-signed, ${what}`, input: JSON.stringify(resigned), neutral: false, resigned: true };
  }
  const m = mutateTree(r, bundle);
  return { what: m.what, input: m.text, neutral: m.neutral, resigned: false };
}

/** Runs one case; returns a description of what went wrong, if anything did. */
async function runCase(r: Random, seed: Seed): Promise<string | undefined> {
  const mutation = await mutate(r, seed);
  const started = performance.now();
  let outcome: unknown;
  let threw = false;
  try {
    outcome = await verifyBundle({ bundle: mutation.input, verifier: seed.verifier });
  } catch (err) {
    outcome = err;
    threw = true;
  }
  const elapsed = performance.now() - started;
  const label = `${seed.name}: ${mutation.what}`;
  if (elapsed > CASE_LIMIT_MS) return `${label}: took ${Math.round(elapsed)} ms`;
  if (threw) {
    if (!(outcome instanceof ModelSigningError))
      return `${label}: threw ${(outcome as Error)?.name}: ${String((outcome as Error)?.message ?? outcome).slice(0, 300)}`;
    if (!KNOWN_CODES.has(outcome.code)) return `${label}: unexpected code ${outcome.code}: ${outcome.message.slice(0, 200)}`;
    if (mutation.neutral) return `${label}: a neutral mutation was refused: [${outcome.code}] ${outcome.message.slice(0, 200)}`;
    return undefined;
  }
  const verified = outcome as VerifiedBundle;
  const checkerFailure = checkerViolation(verified);
  if (checkerFailure) return `${label}: ${checkerFailure}`;
  if (mutation.resigned) return invariantViolation(verified) === undefined ? undefined : `${label}: ${invariantViolation(verified)}`;
  // Not re-signed: anything accepted must be exactly what the original vouched for.
  if (trusted(verified) !== seed.baseline) return `${label}: accepted with a different result than the original`;
  return undefined;
}

describe('bundle fuzzer', () => {
  it(`${CASES} mutations (seed ${SEED}): only coded errors or legitimate successes, no hang`, { timeout: 600_000 }, async () => {
    const all = await seeds();
    // A Sigstore verification that gets past parsing takes ~150 ms (against ~2 ms for
    // the others): Sigstore bundles get 3 cases in 100, to keep 10,000 cases near a minute.
    const sigstore = all.filter((s) => s.verifier instanceof SigstoreVerifier);
    const others = all.filter((s) => !(s.verifier instanceof SigstoreVerifier));
    const failures: string[] = [];
    const started = Date.now();
    for (let i = 0; i < CASES; i++) {
      // Each case has its own generator, so one case reproduces without the others.
      const r = new Random(prng(SEED + i * 0x9e3779b1));
      const seed = r.pick(r.chance(0.03) ? sigstore : others);
      const failure = await runCase(r, seed);
      if (failure) failures.push(`case ${i}: ${failure}`);
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`bundle fuzzer: ${CASES} cases from ${all.length} bundles in ${seconds.toFixed(1)} s, seed ${SEED}`);
    expect(
      failures,
      `FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}: ${failures.length} failing cases\n${failures.slice(0, 30).join('\n')}`,
    ).toEqual([]);
  });
});

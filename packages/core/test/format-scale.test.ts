import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_BUNDLE_BYTES,
  KeySigner,
  PAYLOAD_TYPE,
  rootDigest,
  signPayload,
  type Manifest,
  type ManifestResource,
} from '../dist/index.js';
import {
  ManifestChecker,
  compareResourceNames,
  manifestToPayload,
  manifestToStatement,
  parseBundle,
  preAuthEncoding,
  serializeBundle,
  sortResources,
} from '../dist/internal.js';
import { signManifest } from '../dist/internal-node.js';
import { fromBase64, toBase64, toBase64Parts } from '../dist/format/base64.js';
import { serializeBundleParts } from '../dist/format/bundle.js';
import { buildBundle } from '../dist/format/bundle-builder.js';
import { reservePayload } from '../dist/format/dsse.js';
import { parseStatement } from '../dist/format/statement.js';
import {
  FILES_FOR_MAX_SIGNATURE,
  MAX_FOLLOWING_SIGNATURE_BYTES,
  SIGNATURE_BYTES_PER_FILE,
  bundleLimitFor,
} from '../dist/session/limits.js';
import { ecKeyPair, expectCode, verifiedManifestOf } from './helpers.js';

// The format code a manifest of a million files goes through, rewritten to
// run in linear time and one copy: each is checked here against the plain
// definition it replaces (JSON.stringify, Buffer's base64, atob, a sort).

/** What fromBase64 accepted before: strip whitespace, the alphabet then at most two '=', complete the padding, atob. */
function oldFromBase64(text: string): Uint8Array {
  const clean = text.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) throw new Error('not base64');
  const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, '='));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const outcome = (f: () => Uint8Array) => {
  try {
    return Buffer.from(f()).toString('hex');
  } catch {
    return 'error';
  }
};

describe('base64', () => {
  it('encodes as Buffer does, at every length and across its 3 MiB rounds', () => {
    for (let n = 0; n < 300; n++) {
      const bytes = randomBytes(n);
      expect(toBase64(bytes)).toBe(bytes.toString('base64'));
    }
    const big = randomBytes(3 * 1024 * 1024 * 2 + 5);
    const parts = toBase64Parts(big);
    expect(parts.length).toBe(3);
    expect(parts.join('')).toBe(big.toString('base64'));
    expect(toBase64(big)).toBe(big.toString('base64'));
  });

  it('decodes what it always accepted, and refuses what it always refused', () => {
    for (let n = 0; n < 200; n++) {
      const bytes = randomBytes(n);
      const text = bytes.toString('base64');
      expect(Buffer.from(fromBase64(text)).equals(bytes)).toBe(true);
      expect(Buffer.from(fromBase64(text.replace(/=+$/, ''))).equals(bytes)).toBe(true);
      expect(Buffer.from(fromBase64(text.replace(/(.{7})/g, '$1\n '))).equals(bytes)).toBe(true);
    }
    const cases = [
      '',
      'QQ',
      'QQ=',
      'QQ==',
      'QQ===',
      'Q',
      'Q=',
      'QUFB',
      'QUFB=',
      'QUFBQ',
      'QU=B',
      '=QUF',
      'QU FB',
      'QU\u00a0FB',
      'QU\u2028FB',
      'QU!B',
      'QUé',
      'QUFBQUE=',
      'QUFBQUE==',
      'QR==',
      '\tQ\nQ\r=\f=\v',
    ];
    for (const text of cases)
      expect(
        outcome(() => fromBase64(text)),
        JSON.stringify(text),
      ).toBe(outcome(() => oldFromBase64(text)));
  });
});

/** A manifest of names that need every kind of JSON and UTF-8 care. */
function awkwardManifest(method: 'files' | 'shards' = 'files'): Manifest {
  const names = [
    'plain/file.bin',
    'quote"s and \\ backslash',
    'control\u0001\u001f\t\n',
    'é accents ünïcode',
    '😀/astral',
    'ﬀ ligature',
    '\u2028 line separator',
    'a',
    'a.b',
    'a/b',
  ];
  const algorithm = method === 'files' ? 'sha256' : 'sha256-sharded-1000';
  return {
    modelName: 'model "name" ✓',
    serialization: {
      method,
      hashType: 'sha256',
      allowSymlinks: false,
      ignorePaths: ['.git', 'ignored "x"'],
      ...(method === 'shards' ? { shardSize: 1000 } : {}),
    },
    resources: names.map((name, i) => ({
      name: method === 'files' ? name : `${name}:0:${1000 + i}`,
      algorithm,
      digest: createHash('sha256').update(name).digest('hex'),
    })),
  };
}

describe('manifestToPayload', () => {
  const plain = (m: Manifest) => new TextEncoder().encode(JSON.stringify(manifestToStatement(m), null, 2));

  it('is JSON.stringify of the statement, byte for byte, whatever the names hold', () => {
    for (const method of ['files', 'shards'] as const) {
      const manifest = awkwardManifest(method);
      expect(Buffer.from(manifestToPayload(manifest)).equals(Buffer.from(plain(manifest)))).toBe(true);
    }
    const noIgnores: Manifest = { ...awkwardManifest(), serialization: { ...awkwardManifest().serialization, ignorePaths: [] } };
    expect(Buffer.from(manifestToPayload(noIgnores)).equals(Buffer.from(plain(noIgnores)))).toBe(true);
  });

  it('stays exact across its blocks of resources (10,000 resources, in any given order)', () => {
    const resources = Array.from({ length: 10_000 }, (_, i) => ({
      name: `d${i % 97}/f-${i}${i % 13 === 0 ? '-ü' : ''}`,
      algorithm: 'sha256',
      digest: createHash('sha256').update(String(i)).digest('hex'),
    })).reverse();
    const manifest: Manifest = {
      modelName: 'm',
      serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
      resources,
    };
    expect(Buffer.from(manifestToPayload(manifest)).equals(Buffer.from(plain(manifest)))).toBe(true);
  });

  it('gives the PAE around the payload without copying, equal to the one built from scratch', () => {
    const payload = manifestToPayload(awkwardManifest());
    const pae = preAuthEncoding(PAYLOAD_TYPE, payload);
    expect(pae.buffer).toBe(payload.buffer);
    const header = Buffer.from(`DSSEv1 ${PAYLOAD_TYPE.length} ${PAYLOAD_TYPE} ${payload.length} `);
    expect(Buffer.from(pae).equals(Buffer.concat([header, payload]))).toBe(true);
    // Another payload type gets its own encoding.
    expect(Buffer.from(preAuthEncoding('text/plain', payload)).subarray(0, 17).toString()).toBe('DSSEv1 10 text/pl');
  });

  it('reservePayload refuses a payload larger than reserved', () => {
    expect(() => reservePayload(PAYLOAD_TYPE, 10).finish(11)).toThrow(RangeError);
  });
});

describe('bundles written in pieces', () => {
  it('serializeBundleParts concatenates to serializeBundle, for built and parsed bundles of any size', async () => {
    const signer = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    for (const bytes of [10, 5_000_000, 13_000_000]) {
      const payload = randomBytes(bytes);
      const built = await signPayload({ payload, payloadType: PAYLOAD_TYPE, signer });
      const text = serializeBundle(built);
      expect(serializeBundleParts(built).join('')).toBe(text);
      const parsed = parseBundle(text, { maxBundleBytes: 64 * 1024 * 1024 }).json;
      expect(serializeBundleParts(parsed, 1_000_000).join('')).toBe(text);
      expect(serializeBundleParts(parsed, 1_000_000).length).toBe(
        bytes > 1_000_000 ? Math.ceil(parsed.dsseEnvelope.payload.length / 1_000_000) + 2 : 1,
      );
      // A payload replaced after building is written as it now is.
      const changed = { ...built, dsseEnvelope: { ...built.dsseEnvelope, payload: built.dsseEnvelope.payload.slice(4) } };
      expect(serializeBundleParts(changed).join('')).toBe(serializeBundle(changed));
    }
  });

  it('buildBundle keeps what JSON of the bundle says', () => {
    const payload = randomBytes(100);
    const bundle = buildBundle({
      payload,
      payloadType: PAYLOAD_TYPE,
      signature: randomBytes(70),
      material: { kind: 'publicKey', hint: 'h' },
    });
    expect(JSON.parse(serializeBundle(bundle)).dsseEnvelope.payload).toBe(payload.toString('base64'));
  });
});

const digestOf = (s: string) => createHash('sha256').update(s).digest('hex');
const resource = (name: string, digest = digestOf(name)): ManifestResource => ({ name, algorithm: 'sha256', digest });

describe('sortResources and rootDigest', () => {
  it('sorts only when needed, in code-point order, with astral characters too', () => {
    const names = ['b', '😀', 'ﬀ', 'a/x', 'a.b', 'a', 'a b'];
    const expected = [...names].sort(compareResourceNames);
    expect(sortResources(names.map((n) => resource(n))).map((r) => r.name)).toEqual(expected);
    expect(sortResources(['b', 'a/x', 'a b', 'c'].map((n) => resource(n))).map((r) => r.name)).toEqual(['a b', 'a/x', 'b', 'c']);
    const sorted = expected.map((n) => resource(n));
    const again = sortResources(sorted);
    expect(again).not.toBe(sorted);
    expect(again).toEqual(sorted);
  });

  it('rootDigest is SHA-256 over the concatenated raw digests, for any number and size of digests', () => {
    for (const count of [1, 2047, 2048, 2049, 5000]) {
      const resources = Array.from({ length: count }, (_, i) =>
        resource(`f${i}`, i % 3 === 0 ? digestOf(`x${i}`).toUpperCase() : digestOf(`x${i}`)),
      );
      const expected = createHash('sha256')
        .update(Buffer.concat(resources.map((r) => Buffer.from(r.digest, 'hex'))))
        .digest('hex');
      expect(rootDigest(resources)).toBe(expected);
    }
    const blake2b = [resource('a', 'ab'.repeat(64)), resource('b', 'cd'.repeat(64))];
    expect(rootDigest(blake2b)).toBe(
      createHash('sha256')
        .update(Buffer.from('ab'.repeat(64) + 'cd'.repeat(64), 'hex'))
        .digest('hex'),
    );
    expect(() => rootDigest([resource('a', 'abc')])).toThrow(TypeError);
    expect(() => rootDigest([resource('a', 'zz')])).toThrow(TypeError);
  });
});

/** A v1.0 payload listing `resources` in the order given. */
function payloadOf(resources: ManifestResource[]): Uint8Array {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'm', digest: { sha256: rootDigest(resources) } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: { serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false }, resources },
  };
  return new TextEncoder().encode(JSON.stringify(statement));
}

describe('parseStatement at scale', () => {
  it('refuses a name listed twice, whether the list is in signing order or not', () => {
    const sorted = ['a', 'b', 'b', 'c'].map((n) => resource(n));
    expect(() => parseStatement(payloadOf(sorted))).toThrow(/'b' is listed twice/);
    const unsorted = ['c', 'b', 'a', 'b'].map((n) => resource(n));
    expect(() => parseStatement(payloadOf(unsorted))).toThrow(/'b' is listed twice/);
    // Names equal once normalized are the same resource.
    expect(() => parseStatement(payloadOf([resource('a/b'), resource('a//b')]))).toThrow(/'a\/b' is listed twice/);
    expect(() => parseStatement(payloadOf([resource('./x'), resource('x')]))).toThrow(/'x' is listed twice/);
  });

  it('keeps names and lowercases digests as before', () => {
    const parsed = parseStatement(payloadOf([resource('./a//b', digestOf('1').toUpperCase()), resource('c')]));
    expect(parsed.resources).toEqual([resource('a/b', digestOf('1')), resource('c')]);
  });

  it('parses 200,000 resources in linear time (no set, no quadratic step)', () => {
    const resources = Array.from({ length: 200_000 }, (_, i) =>
      resource(`d${String(i % 1000).padStart(4, '0')}/f${String(i).padStart(7, '0')}`),
    );
    const payload = payloadOf(sortResources(resources));
    const started = performance.now();
    expect(parseStatement(payload).resources.length).toBe(200_000);
    // Generous: about 0.5 s on a loaded 2-core machine; a quadratic step would take hours.
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe('ManifestChecker.compareAll', () => {
  const manifestOf = (resources: ManifestResource[]) =>
    verifiedManifestOf({
      modelName: 'm',
      serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
      resources,
    });
  const differences = (checker: ManifestChecker, files: string[], local: ManifestResource[]) => {
    try {
      checker.compareAll(files, local);
      return [];
    } catch (err) {
      return (err as { differences: unknown[] }).differences;
    }
  };

  it('merging sorted lists finds what looking each name up finds', async () => {
    const signed = ['a', 'b', 'c', 'd/e', 'd/f', 'g'].map((n) => resource(n));
    const local = [resource('a'), resource('b', digestOf('changed')), resource('d/e'), resource('d/g'), resource('g'), resource('h')];
    for (const ignoreUnsignedFiles of [false, true]) {
      const sorted = differences(
        new ManifestChecker(await manifestOf(signed), { ignoreUnsignedFiles }),
        local.map((r) => r.name),
        local,
      );
      const shuffled = [...local].reverse();
      const unsorted = differences(
        new ManifestChecker(await manifestOf([...signed].reverse()), { ignoreUnsignedFiles }),
        shuffled.map((r) => r.name),
        shuffled,
      );
      expect(sorted).toEqual(unsorted);
      expect(sorted).toEqual(
        [
          { kind: 'mismatch', name: 'b', expected: digestOf('b'), actual: digestOf('changed') },
          { kind: 'missing', name: 'c' },
          ...(ignoreUnsignedFiles ? [] : [{ kind: 'unsigned', name: 'd/g' }]),
          { kind: 'missing', name: 'd/f' },
          ...(ignoreUnsignedFiles ? [] : [{ kind: 'unsigned', name: 'h' }]),
        ].sort((x, y) => (x.name < y.name ? -1 : 1)),
      );
    }
    expect(
      differences(
        new ManifestChecker(await manifestOf(signed)),
        signed.map((r) => r.name),
        signed,
      ),
    ).toEqual([]);
  });

  it('a signature of 200,000 files against a model of ten: every missing file listed, the message a line', async () => {
    const signed = Array.from({ length: 200_000 }, (_, i) => resource(`f${String(i).padStart(6, '0')}`));
    const checker = new ManifestChecker(await manifestOf(signed));
    const local = signed.slice(0, 10);
    const started = performance.now();
    let error: unknown;
    try {
      checker.compareAll(
        local.map((r) => r.name),
        local,
      );
    } catch (err) {
      error = err;
    }
    expect(performance.now() - started).toBeLessThan(20_000);
    expect((error as { code: string }).code).toBe('MISSING_FILE');
    expect((error as { differences: unknown[] }).differences.length).toBe(199_990);
    expect((error as Error).message.length).toBeLessThan(1000);
  });
});

describe('bundle parsing refuses bad base64 in the payload as before', () => {
  it('BAD_BUNDLE names the field', async () => {
    const bundle = buildBundle({
      payload: randomBytes(30),
      payloadType: PAYLOAD_TYPE,
      signature: randomBytes(70),
      material: { kind: 'publicKey', hint: 'h' },
    });
    const json = JSON.parse(serializeBundle(bundle));
    json.dsseEnvelope.payload = 'QU!B';
    await expectCode(
      Promise.resolve().then(() => parseBundle(JSON.stringify(json))),
      'BAD_BUNDLE',
    );
  });
});

describe('bundleLimitFor: a signature limit that follows the model', () => {
  it('is the default plus 1 KiB a file, up to 512 MiB; counting further changes nothing', () => {
    expect(bundleLimitFor(0)).toBe(DEFAULT_MAX_BUNDLE_BYTES);
    expect(bundleLimitFor(10)).toBe(DEFAULT_MAX_BUNDLE_BYTES + 10 * SIGNATURE_BYTES_PER_FILE);
    expect(bundleLimitFor(400_000)).toBe(DEFAULT_MAX_BUNDLE_BYTES + 400_000 * SIGNATURE_BYTES_PER_FILE);
    expect(bundleLimitFor(FILES_FOR_MAX_SIGNATURE)).toBe(MAX_FOLLOWING_SIGNATURE_BYTES);
    expect(bundleLimitFor(FILES_FOR_MAX_SIGNATURE - 1)).toBeLessThan(MAX_FOLLOWING_SIGNATURE_BYTES);
    expect(bundleLimitFor(10_000_000)).toBe(MAX_FOLLOWING_SIGNATURE_BYTES);
  });

  it('admits the genuine signature of a model with names of 600 bytes, and refuses a million resources against ten files', async () => {
    const signer = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    const count = 5000;
    const resources = Array.from({ length: count }, (_, i) => resource(`${'n'.repeat(590)}/${String(i).padStart(6, '0')}.bin`));
    const manifest: Manifest = {
      modelName: 'm',
      serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
      resources,
    };
    const size = Buffer.byteLength(serializeBundle(await signManifest({ manifest, signer })));
    // What the files take beyond the envelope fits their allowance, which leaves the base for
    // the verification material (a certificate chain, log entries).
    expect(size).toBeLessThan(count * SIGNATURE_BYTES_PER_FILE);
    // 224 bytes per resource is what a million 15-byte names take (224 MB): over the limit for ten files.
    expect(224_000_000).toBeGreaterThan(bundleLimitFor(10));
  });
});

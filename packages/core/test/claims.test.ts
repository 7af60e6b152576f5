import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CYCLONEDX_PREDICATE_TYPE,
  KeySigner,
  KeyVerifier,
  ModelSigningError,
  SLSA_PROVENANCE_PREDICATE_TYPE,
  TEST_RESULT_PREDICATE_TYPE,
  attest,
  createClaim,
  hashModel,
  modelCardFromReadme,
  openClaimsFile,
  readClaims,
  signModel,
  verifyClaims,
  verifyModel,
  type SerializedBundle,
  type Signer,
} from '../dist/index.js';
import { datasetDependency, serializeBundle, verifySignatureBytes, withResolvedDependencies } from '../dist/internal.js';
import { subjectDigest } from '../dist/internal-node.js';
import { REPO_ROOT, cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

// Claims (`claims.jsonl`): one Sigstore bundle per line, each an in-toto
// statement about the model's root digest. See docs/claims.md.

const FIXTURE = path.join(REPO_ROOT, 'test-fixtures/vectors/claims-jsonl');
const encoder = new TextEncoder();

const README = `---
license: apache-2.0
language:
  - en
  - fr
datasets:
  - imdb
base_model: bert-base-uncased
pipeline_tag: text-classification
library_name: transformers
tags:
  - sentiment
model-index:
  - name: tiny-sentiment
    results:
      - task:
          type: text-classification
          name: Sentiment
        dataset:
          type: imdb
          name: IMDB
          split: test
        metrics:
          - type: accuracy
            value: 0.931
          - type: f1
            value: 0.92
---
# tiny-sentiment
A model.
`;

const TEST_RESULT = {
  result: 'PASSED',
  configuration: [{ name: 'eval.yaml', digest: { sha256: 'a'.repeat(64) } }],
  url: 'https://ci.example.com/runs/1',
  passedTests: ['accuracy >= 0.9'],
  warnedTests: [],
  failedTests: [],
};

const PROVENANCE = {
  buildDefinition: {
    buildType: 'https://example.com/training/v1',
    externalParameters: { epochs: 3 },
    resolvedDependencies: [],
  },
  runDetails: { builder: { id: 'https://example.com/trainer' } },
};

let work: string;
let model: string;
let keys: { signer: KeySigner; verifier: KeyVerifier }[];
let root: string;

async function keyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier }> {
  const pair = ecKeyPair();
  return {
    signer: await KeySigner.create({ privateKey: pair.privateKey }),
    verifier: await KeyVerifier.create({ publicKey: pair.publicKey }),
  };
}

const line = (bundle: SerializedBundle) => `${serializeBundle(bundle)}\n`;

/** A signer that counts how often it is asked to sign, around a real key. */
function counting(inner: Signer): Signer & { calls: number } {
  const wrapped = { method: inner.method, calls: 0, sign: (pae: Uint8Array) => (wrapped.calls++, inner.sign(pae)) };
  return wrapped;
}

beforeAll(async () => {
  work = await tempDir('oms-claims-');
  model = path.join(work, 'model');
  await writeTree(model, { 'config.json': '{"a":1}', 'weights.bin': 'W'.repeat(1000), 'README.md': README });
  keys = [await keyPair(), await keyPair()];
  root = subjectDigest(await hashModel({ modelPath: model }));
});
afterAll(cleanupTempDirs);

describe('the reference claims.jsonl fixture (PR #591)', () => {
  it.each([
    ['k1.pub', 1],
    ['k2.pub', 2],
  ])('verifies with %s, matching line %i', async (key, expectedLine) => {
    const result = await verifyModel({
      modelPath: path.join(FIXTURE, 'model'),
      signaturePath: path.join(FIXTURE, 'claims.jsonl'),
      verifier: await KeyVerifier.create({ publicKey: path.join(FIXTURE, key) }),
      cacheDir: path.join(work, 'cache'),
    });
    expect(result.source).toEqual({ layout: 'claims', line: expectedLine, lines: 2, warnings: [] });
    expect(result.files.sort()).toEqual(['config.json', 'w.bin']);
  });

  it('an unrelated key is refused, naming both lines', async () => {
    const bytes = await fs.readFile(path.join(FIXTURE, 'claims.jsonl'));
    const err = await expectCode(verifySignatureBytes({ bytes, verifier: keys[0].verifier, name: 'claims.jsonl' }), 'KEY_MISMATCH');
    expect(err.message).toMatch(/none of the 2 OMS signatures in claims.jsonl verifies: line 2: .*; line 1: /);
  });
});

describe('verifySignatureBytes: one function for every signature layout', () => {
  it('a single bundle (model.sig) verifies as before, with no line', async () => {
    const sig = path.join(work, 'single.sig');
    await signModel({ modelPath: model, signaturePath: sig, signer: keys[0].signer, cacheDir: path.join(work, 'cache') });
    const verified = await verifySignatureBytes({ bytes: await fs.readFile(sig), verifier: keys[0].verifier, name: sig });
    expect(verified.source).toEqual({ layout: 'bundle', warnings: [] });
    expect(verified.manifest.rootDigest).toBe(root);
  });

  it('takes the newest OMS line that verifies, passing over claims, junk, CRLF and a cut-short last line', async () => {
    const oms = (
      await signModel({
        modelPath: model,
        signaturePath: path.join(work, 'a.sig'),
        signer: keys[0].signer,
        cacheDir: path.join(work, 'cache'),
      })
    ).bundle;
    const other = (
      await signModel({
        modelPath: model,
        signaturePath: path.join(work, 'b.sig'),
        signer: keys[1].signer,
        cacheDir: path.join(work, 'cache'),
      })
    ).bundle;
    const card = await createClaim({
      subject: { name: 'model', rootDigest: root },
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: TEST_RESULT,
      signer: keys[0].signer,
    });
    const text = [
      line(oms).replace('\n', '\r\n'), // 1: OMS by key 0, CRLF
      '\n', // 2: blank
      'not json at all\n', // 3
      '{"mediaType": "x"}\n', // 4: JSON, not a bundle
      line(card), // 5: a claim of another type by key 0
      line(other), // 6: OMS by key 1
      serializeBundle(oms).slice(0, 100), // 7: cut short (no newline)
    ].join('');
    const bytes = encoder.encode(text);
    const byKey0 = await verifySignatureBytes({ bytes, verifier: keys[0].verifier, name: 'claims.jsonl' });
    expect(byKey0.source.line).toBe(1);
    expect(byKey0.source.lines).toBe(6);
    expect(byKey0.source.warnings.map((w) => [w.code, w.line])).toEqual([
      ['CLAIM_NOT_JSON', 3],
      ['CLAIM_NOT_BUNDLE', 4],
      ['CLAIM_TRUNCATED', 7],
    ]);
    expect(byKey0.source.warnings[0].message).toContain('line 3');
    const byKey1 = await verifySignatureBytes({ bytes, verifier: keys[1].verifier, name: 'claims.jsonl' });
    expect(byKey1.source.line).toBe(6);
    // Read by content too: a claims file under another name is still a claims file.
    expect((await verifySignatureBytes({ bytes, verifier: keys[1].verifier, name: 'signatures.txt' })).source.line).toBe(6);
  });

  it('a claims file with no OMS signature is BAD_BUNDLE; one signed by another method is WRONG_METHOD', async () => {
    const claim = await createClaim({
      subject: { name: 'm', rootDigest: root },
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: TEST_RESULT,
      signer: keys[0].signer,
    });
    const onlyClaims = encoder.encode(line(claim) + line(claim));
    const err = await expectCode(
      verifySignatureBytes({ bytes: onlyClaims, verifier: keys[0].verifier, name: 'claims.jsonl' }),
      'BAD_BUNDLE',
    );
    expect(err.message).toContain('no line of claims.jsonl is an OMS signature');
    await expectCode(
      verifySignatureBytes({ bytes: encoder.encode('\n\n'), verifier: keys[0].verifier, name: 'claims.jsonl' }),
      'BAD_BUNDLE',
    );
    const fixture = await fs.readFile(path.join(FIXTURE, 'claims.jsonl'));
    const certificateVerifier = { method: 'certificate' as const, verify: () => Promise.reject(new Error('never called')) };
    await expectCode(verifySignatureBytes({ bytes: fixture, verifier: certificateVerifier, name: 'claims.jsonl' }), 'WRONG_METHOD');
  });

  it('a tampered OMS line is SIGNATURE_INVALID, and outranks an older line signed by someone else', async () => {
    const lines = (await fs.readFile(path.join(FIXTURE, 'claims.jsonl'), 'utf8')).split('\n');
    const bundle = JSON.parse(lines[1]) as SerializedBundle;
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
      predicate: { resources: { digest: string }[] };
    };
    statement.predicate.resources[0].digest = '0'.repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const bytes = encoder.encode(`${lines[0]}\n${JSON.stringify(bundle)}\n`);
    const verifier = await KeyVerifier.create({ publicKey: path.join(FIXTURE, 'k2.pub') });
    const err = await expectCode(verifySignatureBytes({ bytes, verifier, name: 'claims.jsonl' }), 'SIGNATURE_INVALID');
    expect(err.message).toContain('line 2');
  });
});

describe('verifyClaims', () => {
  it('lists every line: type, signer, subject match, verified or why not', async () => {
    const claimsPath = path.join(work, 'list', 'claims.jsonl');
    await fs.mkdir(path.dirname(claimsPath));
    const bom = await modelCardFromReadme(README, { name: 'model' });
    await attest({ modelPath: model, claimsPath, signer: keys[0].signer, predicateType: CYCLONEDX_PREDICATE_TYPE, predicate: bom });
    await attest({
      modelPath: model,
      claimsPath,
      signer: keys[1].signer,
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: TEST_RESULT,
    });
    // A claim about another model (another root digest) by a trusted key.
    const elsewhere = await createClaim({
      subject: { name: 'other', rootDigest: 'b'.repeat(64) },
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: TEST_RESULT,
      signer: keys[0].signer,
    });
    await fs.appendFile(claimsPath, line(elsewhere) + 'garbage\n');

    const all = await verifyClaims({
      claims: await openClaimsFile(claimsPath),
      rootDigest: root,
      verifiers: [keys[0].verifier, keys[1].verifier],
    });
    expect(all.claims.map((c) => [c.line, c.predicateType, c.subjectMatch, c.verified, c.failure?.code])).toEqual([
      [1, CYCLONEDX_PREDICATE_TYPE, true, true, undefined],
      [2, TEST_RESULT_PREDICATE_TYPE, true, true, undefined],
      [3, TEST_RESULT_PREDICATE_TYPE, false, false, 'SUBJECT_MISMATCH'],
    ]);
    expect(all.claims[2].failure!.message).toMatch(/^line 3 is about sha256:b{64}, not this model/);
    expect(all.claims[0].signer.method).toBe('key');
    expect(all.warnings).toEqual([expect.objectContaining({ code: 'CLAIM_NOT_JSON', line: 4 })]);

    // Only the first key given: the evaluator's claim is listed, not verified, and says why.
    const one = await verifyClaims({ claims: await fs.readFile(claimsPath), rootDigest: root, verifiers: [keys[0].verifier] });
    expect(one.claims[1]).toMatchObject({
      signatureVerified: false,
      verified: false,
      subjectMatch: true,
      failure: { code: 'KEY_MISMATCH' },
    });
    const none = await verifyClaims({ claims: await fs.readFile(claimsPath), rootDigest: root, verifiers: [] });
    expect(none.claims.every((c) => c.failure?.code === 'NOT_CHECKED')).toBe(true);
    // The claim's bundle says which key signed it; unverified, it is only a hint.
    expect(none.claims[1].signer.publicKeyHint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a claim whose signature was tampered with is SIGNATURE_INVALID', async () => {
    const claim = await createClaim({
      subject: { name: 'm', rootDigest: root },
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: TEST_RESULT,
      signer: keys[0].signer,
    });
    const statement = JSON.parse(Buffer.from(claim.dsseEnvelope.payload, 'base64').toString()) as { predicate: { result: string } };
    statement.predicate.result = 'FAILED';
    claim.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const result = await verifyClaims({ claims: encoder.encode(line(claim)), rootDigest: root, verifiers: [keys[0].verifier] });
    expect(result.claims[0]).toMatchObject({ verified: false, failure: { code: 'SIGNATURE_INVALID' } });
  });

  it('rejects a root digest that is not one', async () => {
    await expectCode(verifyClaims({ claims: new Uint8Array(), rootDigest: 'abc', verifiers: [] }), 'INVALID_ARGUMENT');
  });
});

describe('bounds: huge and odd claims files', () => {
  it('a 100,000-line file stops at the line limit with CLAIMS_LINE_LIMIT', async () => {
    const claim = line(
      await createClaim({
        subject: { name: 'm', rootDigest: root },
        predicateType: 'https://example.com/x/v1',
        predicate: { n: 1 },
        signer: keys[0].signer,
      }),
    );
    const bytes = encoder.encode(claim.repeat(100_000));
    const result = await readClaims({ claims: bytes });
    expect(result.claims).toHaveLength(10_000);
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'CLAIMS_LINE_LIMIT', line: 10_001 })]);
    const fewer = await readClaims({ claims: bytes, maxLines: 50 });
    expect(fewer.claims).toHaveLength(50);
  });

  it('a 1 GB stream is read only up to the size limit (CLAIMS_SIZE_LIMIT), then cancelled', async () => {
    const claim = encoder.encode(
      line(
        await createClaim({
          subject: { name: 'm', rootDigest: root },
          predicateType: 'https://example.com/x/v1',
          predicate: {},
          signer: keys[0].signer,
        }),
      ),
    );
    // 1 GB of claims made on demand, never held: count what the reader pulls.
    const chunk = new Uint8Array(Math.floor((1024 * 1024) / claim.length) * claim.length);
    for (let at = 0; at < chunk.length; at += claim.length) chunk.set(claim, at);
    let pulled = 0;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 1024 ** 3) return controller.close();
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    const maxBundleBytes = 4 * 1024 * 1024;
    const result = await readClaims({ claims: stream, maxClaimsBytes: maxBundleBytes, maxLines: 1_000_000 });
    expect(result.warnings.map((w) => w.code)).toEqual(['CLAIMS_SIZE_LIMIT']);
    expect(pulled).toBeLessThanOrEqual(maxBundleBytes + 2 * chunk.length);
    expect(cancelled).toBe(true);
    expect(result.claims.length).toBe(Math.floor(maxBundleBytes / claim.length));
    // With the defaults, the same 1 GB stops at 10,000 lines, having pulled a few tens of MB.
    pulled = 0;
    const endless = async function* () {
      while (pulled < 1024 ** 3) {
        pulled += chunk.length;
        yield chunk;
      }
    };
    const defaults = await readClaims({ claims: endless() });
    expect(defaults.claims).toHaveLength(10_000);
    expect(defaults.warnings.map((w) => w.code)).toEqual(['CLAIMS_LINE_LIMIT']);
    expect(pulled).toBeLessThan(10_001 * claim.length + chunk.length);
  });

  it('a line longer than the limit is skipped unread (CLAIM_LINE_TOO_LONG), and the next line still counts', async () => {
    const good = line(
      await createClaim({
        subject: { name: 'm', rootDigest: root },
        predicateType: 'https://example.com/x/v1',
        predicate: {},
        signer: keys[0].signer,
      }),
    );
    // Fed in small pieces, as a network stream would: the long line is never gathered.
    const bytes = encoder.encode(good + `${'x'.repeat(50_000)}\n` + good);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) => bytes.subarray(i * 1000, (i + 1) * 1000));
    const result = await readClaims({
      claims: (async function* () {
        yield* pieces;
      })(),
      maxBundleBytes: 20_000,
    });
    expect(result.claims.map((c) => c.line)).toEqual([1, 3]);
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'CLAIM_LINE_TOO_LONG', line: 2 })]);
  });

  it('CRLF line ends and a UTF-8 byte order mark are read as plain lines', async () => {
    const claim = serializeBundle(
      await createClaim({
        subject: { name: 'm', rootDigest: root },
        predicateType: 'https://example.com/x/v1',
        predicate: {},
        signer: keys[0].signer,
      }),
    );
    const bytes = encoder.encode(`\ufeff${claim}\r\n\r\n${claim}\r\n`);
    const result = await verifyClaims({ claims: bytes, rootDigest: root, verifiers: [keys[0].verifier] });
    expect(result.claims.map((c) => [c.line, c.verified])).toEqual([
      [1, true],
      [3, true],
    ]);
    expect(result.warnings).toEqual([]);
  });

  it('a claims file that is a FIFO or missing is refused before any read', async () => {
    await expectCode(openClaimsFile(path.join(work, 'absent.jsonl')), 'NOT_FOUND');
    await expectCode(openClaimsFile(work), 'SPECIAL_FILE');
  });
});

describe('predicates are checked before anything is signed', () => {
  it('a model card from README front matter: license, datasets, base model, languages, task, tags, metrics', async () => {
    const bom = await modelCardFromReadme(README, { name: 'fallback' });
    const component = (bom['metadata'] as { component: Record<string, any> }).component;
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1 });
    expect(component).toMatchObject({
      type: 'machine-learning-model',
      name: 'tiny-sentiment',
      licenses: [{ license: { id: 'Apache-2.0' } }],
      pedigree: { ancestors: [{ type: 'machine-learning-model', name: 'bert-base-uncased' }] },
      tags: ['sentiment'],
      modelCard: {
        modelParameters: { task: 'text-classification', datasets: [{ type: 'dataset', name: 'imdb' }] },
        quantitativeAnalysis: {
          performanceMetrics: [
            { type: 'accuracy', value: '0.931', slice: 'IMDB (imdb, test)' },
            { type: 'f1', value: '0.92', slice: 'IMDB (imdb, test)' },
          ],
        },
      },
    });
    expect(component['properties']).toEqual([
      { name: 'huggingface:language', value: 'en' },
      { name: 'huggingface:language', value: 'fr' },
      { name: 'huggingface:library_name', value: 'transformers' },
    ]);
  });

  it('a license outside SPDX is named, with its link', async () => {
    const bom = await modelCardFromReadme('---\nlicense: other\nlicense_name: acme-model-license\nlicense_link: LICENSE.md\n---\n', {
      name: 'm',
    });
    expect((bom['metadata'] as any).component.licenses).toEqual([{ license: { name: 'acme-model-license', url: 'LICENSE.md' } }]);
    expect((bom['metadata'] as any).component.name).toBe('m');
  });

  it.each([
    ['front matter that is not valid YAML', '---\nlicense: [apache-2.0\n---\n'],
    ['no front matter at all', '# A model\nNo metadata.\n'],
    ['front matter that is a list', '---\n- a\n- b\n---\n'],
    [
      'a model-index result without metrics',
      '---\nmodel-index:\n  - name: m\n    results:\n      - task: {type: t}\n        dataset: {type: d, name: D}\n---\n',
    ],
  ])('%s is BAD_MODEL_CARD', async (_, readme) => {
    await expectCode(modelCardFromReadme(readme, { name: 'm' }), 'BAD_MODEL_CARD');
  });

  it('a predicate that fails its schema is PREDICATE_INVALID and the signer is never asked', async () => {
    const signer = counting(keys[0].signer);
    const subject = { name: 'm', rootDigest: root };
    const cases: [string, unknown][] = [
      [CYCLONEDX_PREDICATE_TYPE, { bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'no-such-type', name: 'x' }] }],
      [CYCLONEDX_PREDICATE_TYPE, { bomFormat: 'CycloneDX', specVersion: '1.4' }],
      [TEST_RESULT_PREDICATE_TYPE, { ...TEST_RESULT, result: 'MAYBE' }],
      [TEST_RESULT_PREDICATE_TYPE, { result: 'PASSED' }],
      [SLSA_PROVENANCE_PREDICATE_TYPE, { buildDefinition: { buildType: 'https://x' }, runDetails: { builder: { id: 'https://b' } } }],
      [SLSA_PROVENANCE_PREDICATE_TYPE, { ...PROVENANCE, runDetails: { builder: {} } }],
      ['https://example.com/any/v1', ['not', 'an', 'object']],
    ];
    for (const [predicateType, predicate] of cases) {
      const err = await expectCode(createClaim({ subject, predicateType, predicate, signer }), 'PREDICATE_INVALID');
      expect(err.message, predicateType).not.toBe('');
    }
    expect(signer.calls).toBe(0);
    await expectCode(createClaim({ subject, predicateType: 'not a uri', predicate: {}, signer }), 'INVALID_ARGUMENT');
    await expectCode(
      createClaim({ subject, predicateType: 'https://model_signing/signature/v1.0', predicate: {}, signer }),
      'INVALID_ARGUMENT',
    );
    expect(signer.calls).toBe(0);
    // The same predicates, valid, sign.
    await createClaim({ subject, predicateType: TEST_RESULT_PREDICATE_TYPE, predicate: TEST_RESULT, signer });
    await createClaim({ subject, predicateType: SLSA_PROVENANCE_PREDICATE_TYPE, predicate: PROVENANCE, signer });
    expect(signer.calls).toBe(2);
  });

  it('attest refuses an invalid predicate without writing the claims file', async () => {
    const claimsPath = path.join(work, 'refused.jsonl');
    await expectCode(
      attest({
        modelPath: model,
        claimsPath,
        signer: keys[0].signer,
        predicateType: TEST_RESULT_PREDICATE_TYPE,
        predicate: { result: 'PASSED' },
      }),
      'PREDICATE_INVALID',
    );
    await expect(fs.access(claimsPath)).rejects.toThrow();
    await expectCode(
      attest({
        modelPath: model,
        claimsPath: path.join(work, 'claims.sig'),
        signer: keys[0].signer,
        predicateType: TEST_RESULT_PREDICATE_TYPE,
        predicate: TEST_RESULT,
      }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('a dataset is a directory: signed, digested and named in provenance unchanged', () => {
  it('provenance names the dataset by its OMS root digest, which its own signature carries', async () => {
    const dataset = path.join(work, 'dataset');
    await writeTree(dataset, {
      'train/part-0000.jsonl': '{"text":"a"}\n',
      'train/part-0001.jsonl': '{"text":"b"}\n',
      'test/part-0000.jsonl': '{"text":"c"}\n',
    });
    const datasetSig = path.join(work, 'dataset.sig');
    const signed = await signModel({
      modelPath: dataset,
      signaturePath: datasetSig,
      signer: keys[1].signer,
      cacheDir: path.join(work, 'cache'),
    });
    const datasetRoot = subjectDigest(await hashModel({ modelPath: dataset }));
    const verified = await verifyModel({
      modelPath: dataset,
      signaturePath: datasetSig,
      verifier: keys[1].verifier,
      cacheDir: path.join(work, 'cache'),
    });
    expect(verified.manifest.rootDigest).toBe(datasetRoot);
    expect(subjectDigest(signed.manifest)).toBe(datasetRoot);

    const provenance = withResolvedDependencies(PROVENANCE, [
      datasetDependency({ name: 'dataset', rootDigest: datasetRoot, uri: 'https://example.com/datasets/d' }),
    ]);
    const claimsPath = path.join(work, 'provenance.jsonl');
    await attest({
      modelPath: model,
      claimsPath,
      signer: keys[0].signer,
      predicateType: SLSA_PROVENANCE_PREDICATE_TYPE,
      predicate: provenance,
    });
    const [checked] = (await verifyClaims({ claims: await fs.readFile(claimsPath), rootDigest: root, verifiers: [keys[0].verifier] }))
      .claims;
    expect(checked.verified).toBe(true);
    expect(
      (checked.predicate as typeof provenance & { buildDefinition: { resolvedDependencies: unknown[] } }).buildDefinition
        .resolvedDependencies,
    ).toEqual([{ name: 'dataset', uri: 'https://example.com/datasets/d', digest: { sha256: datasetRoot } }]);
  });
});

describe('signature files inside the model', () => {
  it('a claims file and other signatures added after signing never make the model unsigned', async () => {
    const dir = path.join(work, 'inside');
    await writeTree(dir, { 'w.bin': 'weights', 'config.json': '{}' });
    const cacheDir = path.join(work, 'cache');
    await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer: keys[0].signer, cacheDir });
    await attest({
      modelPath: dir,
      claimsPath: path.join(dir, 'claims.jsonl'),
      signer: keys[1].signer,
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: TEST_RESULT,
    });
    await fs.writeFile(path.join(dir, 'upstream.sig'), '{}');
    await fs.writeFile(path.join(dir, 'release.sigstore.json'), '{}');
    const result = await verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier: keys[0].verifier, cacheDir });
    expect(result.files.sort()).toEqual(['config.json', 'w.bin']);
    // The claims file, inside the model, carries the same subject as the signature.
    const claims = await verifyClaims({
      claims: await fs.readFile(path.join(dir, 'claims.jsonl')),
      rootDigest: result.manifest.rootDigest,
      verifiers: [keys[1].verifier],
    });
    expect(claims.claims[0].verified).toBe(true);
    // A claims-file OMS signature inside the model: appended, then verified from there.
    await signModel({ modelPath: dir, signaturePath: path.join(dir, 'claims.jsonl'), signer: keys[0].signer, cacheDir });
    const fromClaims = await verifyModel({
      modelPath: dir,
      signaturePath: path.join(dir, 'claims.jsonl'),
      verifier: keys[0].verifier,
      cacheDir,
    });
    expect(fromClaims.source).toMatchObject({ layout: 'claims', line: 2, lines: 2 });
  });

  it('a signature file the manifest lists is still checked: changing it is DIGEST_MISMATCH', async () => {
    const dir = path.join(work, 'listed');
    await writeTree(dir, { 'w.bin': 'weights', 'upstream.sig': 'a file someone chose to sign' });
    const cacheDir = path.join(work, 'cache');
    const signaturePath = path.join(work, 'listed-model.sig');
    await signModel({ modelPath: dir, signaturePath, signer: keys[0].signer, cacheDir, ignoreAttestationFiles: false });
    const ok = await verifyModel({ modelPath: dir, signaturePath, verifier: keys[0].verifier, cacheDir });
    expect(ok.files.sort()).toEqual(['upstream.sig', 'w.bin']);
    await fs.writeFile(path.join(dir, 'upstream.sig'), 'changed');
    const err = await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier: keys[0].verifier, cacheDir }), 'DIGEST_MISMATCH');
    expect(err).toBeInstanceOf(ModelSigningError);
    expect(err.differences).toEqual([expect.objectContaining({ kind: 'mismatch', name: 'upstream.sig' })]);
  });
});

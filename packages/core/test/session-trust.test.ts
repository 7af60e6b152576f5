// The session's one judgement of a signature: one verifier, or a trust
// policy with the model's identity (from the source unless given), and the
// verified claims it hands every loader: from a claims file as the
// signature, or from claims.jsonl beside a model.sig, read bounded.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CYCLONEDX_PREDICATE_TYPE,
  KeySigner,
  KeyVerifier,
  PolicyDeniedError,
  attest,
  fetchVerifiedModel,
  loadPolicy,
  openVerifiedModel,
  signModel,
  verifyModel,
  type Policy,
} from '../dist/index.js';
import { accuracyCard, evaluationGatePolicy } from '../../../test-fixtures/model-card.mjs';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

const FILES = { 'model.safetensors': 'weights v1', 'config.json': '{"layers": 2}' };
const keys = { publisher: ecKeyPair(), evaluator: ecKeyPair(), other: ecKeyPair() };
const signer = (who: keyof typeof keys) => KeySigner.create({ privateKey: keys[who].privateKey });
let work: string;
let cache: string;

/** A signed model: `model.sig` by `by`, and beside it (inside the model) a claims.jsonl with the claims given. */
async function signedModel(name: string, by: keyof typeof keys, claims: { who: keyof typeof keys; accuracy: number }[]) {
  const dir = path.join(work, name);
  await writeTree(dir, FILES);
  await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer: await signer(by), cacheDir: cache });
  for (const c of claims) {
    await attest({
      modelPath: dir,
      claimsPath: path.join(dir, 'claims.jsonl'),
      signer: await signer(c.who),
      predicateType: CYCLONEDX_PREDICATE_TYPE,
      predicate: accuracyCard(c.accuracy),
    });
  }
  return dir;
}

async function gate(match: Record<string, string>): Promise<Policy> {
  const file = path.join(work, `policy-${Math.random().toString(36).slice(2)}.json`);
  const pems = { publisher: keys.publisher.publicKey, evaluator: keys.evaluator.publicKey };
  await fs.writeFile(file, evaluationGatePolicy({ keys: pems, match }));
  return loadPolicy(file);
}

beforeAll(async () => {
  work = await fs.realpath(await tempDir('oms-session-trust-'));
  cache = path.join(work, '.cache');
});
afterAll(cleanupTempDirs);

describe('with one verifier', () => {
  it("returns the signer's own claims from claims.jsonl beside model.sig, not another party's", async () => {
    const dir = await signedModel('own', 'publisher', [
      { who: 'publisher', accuracy: 0.8 },
      { who: 'evaluator', accuracy: 0.93 },
    ]);
    const verifier = await KeyVerifier.create({ publicKey: keys.publisher.publicKey });
    const result = await verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier, cacheDir: cache });
    expect(result.claims).toHaveLength(1);
    expect(result.claims[0]).toMatchObject({ predicateType: CYCLONEDX_PREDICATE_TYPE, line: 1, file: path.join(dir, 'claims.jsonl') });
    expect(result.claims[0].predicate).toEqual(accuracyCard(0.8));
    expect(result.policy).toBeUndefined();
    // The evaluator's claim verifies with the evaluator's key, as a loader trusting only that key sees it.
    const other = await KeyVerifier.create({ publicKey: keys.evaluator.publicKey });
    await expectCode(openVerifiedModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier: other }), 'KEY_MISMATCH');
  });

  it('reads the claims of a claims file used as the signature, and no claims file beside it', async () => {
    const dir = path.join(work, 'as-signature');
    await writeTree(dir, FILES);
    const claims = path.join(dir, 'claims.jsonl');
    await signModel({ modelPath: dir, signaturePath: claims, signer: await signer('publisher'), cacheDir: cache });
    await attest({
      modelPath: dir,
      claimsPath: claims,
      signer: await signer('publisher'),
      predicateType: CYCLONEDX_PREDICATE_TYPE,
      predicate: accuracyCard(0.91),
    });
    const verifier = await KeyVerifier.create({ publicKey: keys.publisher.publicKey });
    const model = await openVerifiedModel({ modelPath: dir, signaturePath: claims, verifier });
    await model.finish();
    expect(model.source).toMatchObject({ layout: 'claims', line: 1 });
    expect(model.claims.map((c) => [c.line, c.file])).toEqual([[2, claims]]);
  });

  it('refuses a claims file beside the signature over maxClaimsBytes, naming it', async () => {
    const dir = await signedModel('big-claims', 'publisher', [{ who: 'evaluator', accuracy: 0.93 }]);
    const verifier = await KeyVerifier.create({ publicKey: keys.publisher.publicKey });
    const error = await expectCode(
      verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier, maxClaimsBytes: 100, cacheDir: cache }),
      'BUNDLE_TOO_LARGE',
    );
    expect(error.path).toBe(path.join(dir, 'claims.jsonl'));
  });

  it('needs exactly one of a verifier and a policy', async () => {
    const dir = await signedModel('one-of', 'publisher', []);
    const verifier = await KeyVerifier.create({ publicKey: keys.publisher.publicKey });
    const policy = await gate({ path: `${work}/**` });
    const signaturePath = path.join(dir, 'model.sig');
    const both = await expectCode(openVerifiedModel({ modelPath: dir, signaturePath, verifier, policy }), 'INVALID_ARGUMENT');
    expect(both.message).toMatch(/not both/);
    await expectCode(openVerifiedModel({ modelPath: dir, signaturePath }), 'INVALID_ARGUMENT');
  });
});

describe('with a trust policy', () => {
  it("accepts the publisher's signature with the evaluator's claim beside it, matching the real path, and returns the claim", async () => {
    const dir = await signedModel('gated', 'publisher', [{ who: 'evaluator', accuracy: 0.93 }]);
    const policy = await gate({ path: `${work}/**` });
    const result = await verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), policy, cacheDir: cache });
    expect(result.policy?.decision).toMatchObject({ allowed: true, model: { kind: 'path', path: dir } });
    expect(result.policy?.signers.map((s) => s.authority)).toEqual(['publisher']);
    expect(result.claims).toMatchObject([{ requirement: 'evaluation', authority: 'evaluator', line: 1 }]);
    expect(result.files.sort()).toEqual(['config.json', 'model.safetensors']);
  });

  it('refuses below the threshold and where no rule matches the identity given, with the rule and requirement', async () => {
    const low = await signedModel('low', 'publisher', [{ who: 'evaluator', accuracy: 0.85 }]);
    const policy = await gate({ path: `${work}/**` });
    const denied = await expectCode(
      verifyModel({ modelPath: low, signaturePath: path.join(low, 'model.sig'), policy, cacheDir: cache }),
      'POLICY_DENIED',
    );
    expect(denied).toBeInstanceOf(PolicyDeniedError);
    expect(denied.message).toMatch(/rule 'evaluated models' requires claim 'evaluation'/);
    const model = { kind: 'huggingface' as const, repo: 'someone/else', revision: 'main' };
    const unmatched = await expectCode(
      verifyModel({ modelPath: low, signaturePath: path.join(low, 'model.sig'), policy, model, cacheDir: cache }),
      'POLICY_DENIED',
    );
    expect(unmatched.message).toMatch(/no rule matches Hugging Face repo someone\/else/);
  });

  describe('over HTTP, matching the URL', () => {
    let server: http.Server;
    let base: string;
    const served = new Map<string, Buffer>();
    beforeAll(async () => {
      const dir = await signedModel('served', 'publisher', [{ who: 'evaluator', accuracy: 0.93 }]);
      for (const name of ['model.sig', 'claims.jsonl', ...Object.keys(FILES)])
        served.set(`/models/tiny/${name}`, await fs.readFile(path.join(dir, name)));
      server = http.createServer((req, res) => {
        const body = served.get(req.url!);
        if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it('accepts the model under its URL prefix and returns the claim; refuses another prefix', async () => {
      const policy = await gate({ url: `${base}/models/` });
      const loaded = await fetchVerifiedModel({ baseUrl: `${base}/models/tiny/`, policy });
      expect([...loaded.files.keys()].sort()).toEqual(['config.json', 'model.safetensors']);
      expect(loaded.claims).toMatchObject([
        { requirement: 'evaluation', authority: 'evaluator', file: `${base}/models/tiny/claims.jsonl` },
      ]);
      expect(loaded.policy?.decision.model).toEqual({ kind: 'url', url: `${base}/models/tiny/` });
      const elsewhere = await gate({ url: `${base}/other/` });
      await expectCode(fetchVerifiedModel({ baseUrl: `${base}/models/tiny/`, policy: elsewhere }), 'POLICY_DENIED');
    });

    it('reads no claims file with claimsUrl false: the claim requirement then fails', async () => {
      const policy = await gate({ url: `${base}/models/` });
      const denied = await expectCode(fetchVerifiedModel({ baseUrl: `${base}/models/tiny/`, policy, claimsUrl: false }), 'POLICY_DENIED');
      expect(denied.message).toMatch(/requires claim 'evaluation': no claim of type/);
      const verifier = await KeyVerifier.create({ publicKey: keys.publisher.publicKey });
      expect((await fetchVerifiedModel({ baseUrl: `${base}/models/tiny/`, verifier })).claims).toEqual([]);
    });
  });
});

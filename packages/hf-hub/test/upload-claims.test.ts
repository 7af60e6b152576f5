// Claims go up with the signature. With a `.jsonl` signature path the new
// OMS signature is appended to the model's claims file and the whole file is
// the repo's signature; with `model.sig`, the model's `claims.jsonl` beside
// it goes up unchanged in the same commit. Either way the local files stay
// as they were, the claims are never hashed into the signature, and the real
// @huggingface/hub client does the upload against the loopback hub.
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  SLSA_PROVENANCE_PREDICATE_TYPE,
  TEST_RESULT_PREDICATE_TYPE,
  attest,
  verifyClaims,
  type KeySigner,
  type KeyVerifier,
} from '@model-signing/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadVerifiedModel, uploadSignedModel } from '../src/index.js';
import { FakeHub } from '../src/testing.js';
import { TOKEN, expectCode, keyPair, listTree, removeTempDirs, tempDir, writeModel } from './helpers.js';

const EVALUATION = {
  result: 'PASSED',
  configuration: [{ name: 'eval.yaml', digest: { sha256: 'a'.repeat(64) } }],
  passedTests: ['accuracy'],
};
const PROVENANCE = {
  buildDefinition: { buildType: 'https://example.com/train/v1', externalParameters: { epochs: 3 } },
  runDetails: { builder: { id: 'https://example.com/trainer' } },
};

describe('uploadSignedModel with claims', () => {
  let hub: FakeHub;
  let owner: { signer: KeySigner; verifier: KeyVerifier };
  let evaluator: { signer: KeySigner; verifier: KeyVerifier };
  let repoCount = 0;

  beforeAll(async () => {
    hub = await FakeHub.start({ token: TOKEN });
    owner = await keyPair();
    evaluator = await keyPair();
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  /** A fresh model on disk and an empty repo for it. */
  async function modelAndRepo(): Promise<{ modelDir: string; model: Record<string, Buffer>; repo: string }> {
    const modelDir = await tempDir('claims-model');
    const model = await writeModel(modelDir);
    const repo = `org/claims-${++repoCount}`;
    hub.createRepo(repo);
    return { modelDir, model, repo };
  }

  /** The owner attests provenance and the evaluator a test result, into the model's `claimsPath`. */
  async function attestBoth(modelDir: string, claimsPath: string): Promise<string> {
    const file = path.join(modelDir, claimsPath);
    await attest({
      modelPath: modelDir,
      claimsPath: file,
      signer: owner.signer,
      predicateType: SLSA_PROVENANCE_PREDICATE_TYPE,
      predicate: PROVENANCE,
    });
    const { rootDigest } = await attest({
      modelPath: modelDir,
      claimsPath: file,
      signer: evaluator.signer,
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: EVALUATION,
    });
    return rootDigest;
  }

  const upload = (repo: string, modelDir: string, extra: Partial<Parameters<typeof uploadSignedModel>[0]> = {}) =>
    uploadSignedModel({ repo, modelPath: modelDir, signer: owner.signer, hubUrl: hub.url, accessToken: TOKEN, ...extra });

  /** The owner's verified download of `repo` into a fresh cache. */
  const download = async (repo: string, signaturePath = 'model.sig') =>
    downloadVerifiedModel({
      repo,
      verifier: owner.verifier,
      signaturePath,
      cacheDir: await tempDir('claims-cache'),
      hubUrl: hub.url,
      accessToken: TOKEN,
    });

  it('a .jsonl signature path appends the OMS signature to the model’s claims and uploads them as the signature, in one commit', async () => {
    const { modelDir, model, repo } = await modelAndRepo();
    const rootDigest = await attestBoth(modelDir, 'claims.jsonl');
    const local = await fs.readFile(path.join(modelDir, 'claims.jsonl'));
    const commitsBefore = hub.repos.get(repo)!.commits.size;

    const uploaded = await upload(repo, modelDir, { signaturePath: 'claims.jsonl' });

    expect(hub.repos.get(repo)!.commits.size).toBe(commitsBefore + 1);
    expect(uploaded.signaturePath).toBe('claims.jsonl');
    expect(uploaded.claims).toEqual({ path: 'claims.jsonl', claims: 3, otherSubjects: [], warnings: [] });
    // Never hashed into the signature, never a model file.
    expect(uploaded.files).toEqual(Object.keys(model).sort());
    expect([...hub.files(repo).keys()].sort()).toEqual(['.gitattributes', ...Object.keys(model), 'claims.jsonl'].sort());
    // On the hub: the local lines unchanged, then the new signature as one compact line; the local file untouched.
    const onHub = hub.files(repo).get('claims.jsonl')!.data;
    expect(onHub.subarray(0, local.length)).toEqual(local);
    const lines = onHub.toString('utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(JSON.parse(lines[2])).toEqual(JSON.parse(JSON.stringify(uploaded.bundle)));
    expect(await fs.readFile(path.join(modelDir, 'claims.jsonl'))).toEqual(local);

    // A download verifies with the owner's key on the newest OMS line, and every claim verifies.
    const downloaded = await download(repo, 'claims.jsonl');
    expect(downloaded.source).toEqual({ layout: 'claims', line: 3, lines: 3, warnings: [] });
    expect(downloaded.claims.map((c) => [c.line, c.predicateType])).toEqual([[1, SLSA_PROVENANCE_PREDICATE_TYPE]]);
    expect(downloaded.manifest.rootDigest).toBe(rootDigest);
    const snapshotClaims = await fs.readFile(path.join(downloaded.snapshotPath, 'claims.jsonl'));
    expect(snapshotClaims).toEqual(onHub);
    const checked = await verifyClaims({ claims: snapshotClaims, rootDigest, verifiers: [owner.verifier, evaluator.verifier] });
    expect(checked.claims.map((c) => [c.line, c.predicateType, c.verified])).toEqual([
      [1, SLSA_PROVENANCE_PREDICATE_TYPE, true],
      [2, TEST_RESULT_PREDICATE_TYPE, true],
      [3, 'https://model_signing/signature/v1.0', true],
    ]);
  });

  it('with model.sig, the claims.jsonl beside it goes up unchanged in the same commit, and does not make the repo unsigned', async () => {
    const { modelDir, model, repo } = await modelAndRepo();
    const rootDigest = await attestBoth(modelDir, 'claims.jsonl');
    const local = await fs.readFile(path.join(modelDir, 'claims.jsonl'));
    const commitsBefore = hub.repos.get(repo)!.commits.size;

    const uploaded = await upload(repo, modelDir);

    expect(hub.repos.get(repo)!.commits.size).toBe(commitsBefore + 1);
    expect(hub.repos.get(repo)!.commits.get(uploaded.commit.oid)!.title).toBe(
      `Upload signed model (${Object.keys(model).length} files + model.sig + claims.jsonl)`,
    );
    expect(uploaded.claims).toEqual({ path: 'claims.jsonl', claims: 2, otherSubjects: [], warnings: [] });
    expect(hub.files(repo).get('claims.jsonl')!.data).toEqual(local);
    expect(uploaded.manifest.resources.map((r) => r.name)).not.toContain('claims.jsonl');

    const downloaded = await download(repo);
    expect(downloaded.source).toEqual({ layout: 'bundle', warnings: [] });
    // The download read the claims beside the signature: the owner's verifier accepts the owner's claim.
    expect(downloaded.claims.map((c) => [c.file, c.line, c.predicateType])).toEqual([['claims.jsonl', 1, SLSA_PROVENANCE_PREDICATE_TYPE]]);
    expect(downloaded.manifest.rootDigest).toBe(rootDigest);
    const checked = await verifyClaims({ claims: local, rootDigest, verifiers: [owner.verifier, evaluator.verifier] });
    expect(checked.claims.every((c) => c.verified)).toBe(true);
  });

  it('a signature in a folder takes the claims.jsonl of that folder, leaves it out of the signature, and the repo still verifies', async () => {
    const { modelDir, model, repo } = await modelAndRepo();
    await fs.mkdir(path.join(modelDir, 'signatures'));
    // Attested as the upload will hash: without the folder's claims file.
    await attestBoth(modelDir, 'signatures/claims.jsonl');
    const uploaded = await upload(repo, modelDir, { signaturePath: 'signatures/model.sig' });
    expect(uploaded.claims).toMatchObject({ path: 'signatures/claims.jsonl', claims: 2, otherSubjects: [] });
    expect(uploaded.files).toEqual(Object.keys(model).sort());
    expect(uploaded.manifest.serialization.ignorePaths).toContain('signatures/claims.jsonl');
    expect(hub.files(repo).has('signatures/claims.jsonl')).toBe(true);
    const downloaded = await download(repo, 'signatures/model.sig');
    expect(downloaded.files).toEqual(Object.keys(model).sort());
  });

  it('without a claims file nothing more is uploaded; a .jsonl signature path makes a claims file of one line', async () => {
    const { modelDir, model, repo } = await modelAndRepo();
    const plain = await upload(repo, modelDir);
    expect(plain.claims).toBeUndefined();
    expect([...hub.files(repo).keys()].sort()).toEqual(['.gitattributes', ...Object.keys(model), 'model.sig'].sort());

    const asClaims = await upload(repo, modelDir, { signaturePath: 'claims.jsonl' });
    expect(asClaims.claims).toEqual({ path: 'claims.jsonl', claims: 1, otherSubjects: [], warnings: [] });
    const onHub = hub.files(repo).get('claims.jsonl')!.data.toString('utf8');
    expect(onHub.endsWith('\n')).toBe(true);
    expect(onHub.split('\n')).toHaveLength(2);
    expect(await listTree(modelDir)).not.toContain('claims.jsonl');
  });

  it('claims about other files and lines that are not claims are uploaded as they are, and reported', async () => {
    const { modelDir, repo } = await modelAndRepo();
    const file = path.join(modelDir, 'claims.jsonl');
    // A claim about the model before its config changed, then garbage, then a last line cut short without its newline.
    await attest({
      modelPath: modelDir,
      claimsPath: file,
      signer: evaluator.signer,
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: EVALUATION,
    });
    await fs.writeFile(path.join(modelDir, 'config.json'), '{"hidden_size": 16}');
    await fs.appendFile(file, 'not json\n{"mediaType": "half a bun');
    const local = await fs.readFile(file);

    const uploaded = await upload(repo, modelDir, { signaturePath: 'claims.jsonl' });
    expect(uploaded.claims!.claims).toBe(2);
    expect(uploaded.claims!.otherSubjects).toEqual([1]);
    expect(uploaded.claims!.warnings.map((w) => [w.code, w.line])).toEqual([
      ['CLAIM_NOT_JSON', 2],
      ['CLAIM_NOT_JSON', 3],
    ]);
    // The cut line gets its newline first, so the signature's line stays whole and still verifies.
    const onHub = hub.files(repo).get('claims.jsonl')!.data;
    expect(onHub.subarray(0, local.length)).toEqual(local);
    expect(onHub.toString('utf8').slice(local.length, local.length + 1)).toBe('\n');
    const downloaded = await download(repo, 'claims.jsonl');
    expect(downloaded.source).toMatchObject({ layout: 'claims', line: 4, lines: 4 });
  });

  it('refuses a claims file that is a symbolic link, in a folder linked out of the model, a directory, or larger than downloaders read, before committing anything', async () => {
    const { modelDir, repo } = await modelAndRepo();
    const commits = () => hub.repos.get(repo)!.commits.size;
    const before = commits();
    const outside = path.join(await tempDir('claims-outside'), 'secret.jsonl');
    await fs.writeFile(outside, 'not for the hub\n');
    const file = path.join(modelDir, 'claims.jsonl');

    await fs.symlink(outside, file);
    for (const signaturePath of ['model.sig', 'claims.jsonl'])
      await expectCode(() => upload(repo, modelDir, { signaturePath }), 'SYMLINK_REFUSED');
    await fs.rm(file);

    await fs.mkdir(file);
    await expectCode(() => upload(repo, modelDir), 'SPECIAL_FILE');
    await fs.rm(file, { recursive: true });

    // A folder that is a link out of the model: the walk refuses it, so the claims file "beside" a signature in it never goes up.
    await fs.symlink(path.dirname(outside), path.join(modelDir, 'signatures'));
    await fs.copyFile(outside, path.join(path.dirname(outside), 'claims.jsonl'));
    await expectCode(() => upload(repo, modelDir, { signaturePath: 'signatures/model.sig' }), 'SYMLINK_REFUSED');
    await expectCode(() => upload(repo, modelDir, { signaturePath: 'signatures/model.sig', allowSymlinks: true }), 'PATH_ESCAPE');
    await fs.rm(path.join(modelDir, 'signatures'));

    // Sparse: 65 MiB that take no disk.
    const handle = await fs.open(file, 'w');
    await handle.truncate(65 * 1024 * 1024);
    await handle.close();
    const error = await expectCode(() => upload(repo, modelDir), 'BUNDLE_TOO_LARGE');
    expect(error.message).toMatch(/nothing was uploaded/);
    expect(commits()).toBe(before);
    expect(await fs.readFile(outside, 'utf8')).toBe('not for the hub\n');
  });
});

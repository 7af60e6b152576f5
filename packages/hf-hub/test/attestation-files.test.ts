// Signature and attestation files in a hub repo. A signature made by the
// reference (model_signing 1.1.1) does not record `claims.jsonl` in its
// ignore paths; claims and other signatures pushed to the repo afterwards
// must still never count as unsigned files, in the remote check, the
// download and the cached check alike (the session's one rule). And a
// `claims.jsonl` works as the repo's signature: its newest OMS line that
// verifies counts, and the result says which.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { KeySigner, KeyVerifier, TEST_RESULT_PREDICATE_TYPE, createClaim, signModel, type SerializedBundle } from '@model-signing/core';
import { serializeBundle } from '@model-signing/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecKeyPair } from '../../../test-fixtures/fixtures.mjs';
import { downloadVerifiedModel, verifyCachedModel, verifyHubRepo } from '../src/index.js';
import { FakeHub } from '../src/testing.js';
import { TOKEN, expectCode, listTree, removeTempDirs, tempDir, writeModel } from './helpers.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
const REFERENCE_CLI = path.join(process.env['MODEL_SIGNING_REFERENCE_VENV'] ?? path.join(REPO_ROOT, '.venv-ref'), 'bin/model_signing');

/** One compact line of a claims file. */
const line = (bundle: SerializedBundle) => `${serializeBundle(bundle)}\n`;

describe('signature and attestation files in a hub repo', () => {
  let hub: FakeHub;
  let modelDir: string;
  let model: Record<string, Buffer>;
  let owner: { privateKeyPath: string; signer: KeySigner; verifier: KeyVerifier };
  let other: { signer: KeySigner; verifier: KeyVerifier };

  beforeAll(async () => {
    hub = await FakeHub.start({ token: TOKEN });
    modelDir = await tempDir('att-model');
    model = await writeModel(modelDir);
    const keys = ecKeyPair();
    const privateKeyPath = path.join(await tempDir('att-keys'), 'owner.pem');
    await fs.writeFile(privateKeyPath, keys.privateKey);
    owner = {
      privateKeyPath,
      signer: await KeySigner.create({ privateKey: keys.privateKey }),
      verifier: await KeyVerifier.create({ publicKey: keys.publicKey }),
    };
    const otherKeys = ecKeyPair();
    other = {
      signer: await KeySigner.create({ privateKey: otherKeys.privateKey }),
      verifier: await KeyVerifier.create({ publicKey: otherKeys.publicKey }),
    };
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  const connection = () => ({ hubUrl: hub.url, accessToken: TOKEN });

  it('a reference signature without claims.jsonl in its ignore paths still verifies once claims and other signatures are pushed', async () => {
    const signature = path.join(await tempDir('att-sig'), 'model.sig');
    const signed = await promisify(execFile)(REFERENCE_CLI, [
      'sign',
      'key',
      modelDir,
      '--signature',
      signature,
      '--private_key',
      owner.privateKeyPath,
    ]);
    expect(signed.stderr).not.toMatch(/Traceback/);
    const repo = 'org/reference-signed';
    hub.createRepo(repo);
    hub.pushCommit(repo, { put: { ...model, 'model.sig': await fs.readFile(signature) } });
    const params = { repo, verifier: owner.verifier, ...connection() };
    const before = await verifyHubRepo(params);
    // What makes this test mean something: the reference did not record the claims file as ignored.
    expect(before.manifest.serialization.ignorePaths).not.toContain('claims.jsonl');
    expect(before.source).toEqual({ layout: 'bundle', warnings: [] });

    const claim = await createClaim({
      subject: { name: 'model', rootDigest: before.manifest.rootDigest },
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: { result: 'PASSED', configuration: [{ name: 'eval.yaml', digest: { sha256: 'a'.repeat(64) } }] },
      signer: owner.signer,
    });
    hub.pushCommit(repo, {
      put: {
        'claims.jsonl': Buffer.from(line(claim)),
        'older.sig': await fs.readFile(signature),
        'model.sigstore.json': await fs.readFile(signature),
      },
    });
    const after = await verifyHubRepo(params);
    expect(after.commit).not.toBe(before.commit);
    expect(after.files.map((f) => f.path)).toEqual(before.files.map((f) => f.path));
    expect(after.bytesChecked).toBe(true);

    hub.resetCounters();
    const cacheDir = await tempDir('att-cache');
    const downloaded = await downloadVerifiedModel({ ...params, cacheDir });
    expect(downloaded.files).toEqual(Object.keys(model).sort());
    for (const name of ['claims.jsonl', 'older.sig', 'model.sigstore.json']) expect(hub.bytesServed(repo, name)).toBe(0);
    expect(await listTree(downloaded.snapshotPath)).toEqual([...Object.keys(model), 'model.sig'].sort());
    // The cached check reads the snapshot from disk, where the same rule holds: put the claims file there too.
    await fs.writeFile(path.join(downloaded.snapshotPath, 'claims.jsonl'), line(claim));
    const cached = await verifyCachedModel({ repo, verifier: owner.verifier, cacheDir, revision: downloaded.commit });
    expect(cached.files.sort()).toEqual(Object.keys(model).sort());

    // Asked to include them, they are what they are: files the signature does not cover.
    const included = await expectCode(() => verifyHubRepo({ ...params, ignoreAttestationFiles: false }), 'UNSIGNED_FILE');
    expect(included.differences.map((d) => d.name).sort()).toEqual(['claims.jsonl', 'model.sigstore.json', 'older.sig']);
    const otherCache = await tempDir('att-cache-2');
    await expectCode(() => downloadVerifiedModel({ ...params, cacheDir: otherCache, ignoreAttestationFiles: false }), 'UNSIGNED_FILE');
    await expectCode(
      () => verifyCachedModel({ repo, verifier: owner.verifier, cacheDir, revision: downloaded.commit, ignoreAttestationFiles: false }),
      'UNSIGNED_FILE',
    );

    // The rule covers the model root only, as the reference's does: a claims file deeper in is an unsigned file.
    hub.pushCommit(repo, { put: { 'tokenizer/claims.jsonl': Buffer.from(line(claim)) } });
    const nested = await expectCode(() => verifyHubRepo(params), 'UNSIGNED_FILE');
    expect(nested.differences).toEqual([{ kind: 'unsigned', name: 'tokenizer/claims.jsonl' }]);
  });

  it('claims.jsonl as the signature: the newest OMS line that verifies counts, and the results say which', async () => {
    const claimsPath = path.join(await tempDir('att-claims'), 'claims.jsonl');
    // Line 1 by the owner, line 2 by someone else (newer, but not trusted here), line 3 a claim that is no signature.
    await signModel({ modelPath: modelDir, signaturePath: claimsPath, signer: owner.signer });
    await signModel({ modelPath: modelDir, signaturePath: claimsPath, signer: other.signer });
    const repo = 'org/claims-signed';
    hub.createRepo(repo);
    hub.pushCommit(repo, { put: { ...model, 'claims.jsonl': await fs.readFile(claimsPath) } });
    const { manifest } = await verifyHubRepo({ repo, signaturePath: 'claims.jsonl', verifier: owner.verifier, ...connection() });
    const claim = await createClaim({
      subject: { name: 'model', rootDigest: manifest.rootDigest },
      predicateType: TEST_RESULT_PREDICATE_TYPE,
      predicate: { result: 'PASSED', configuration: [] },
      signer: other.signer,
    });
    await fs.appendFile(claimsPath, line(claim));
    hub.pushCommit(repo, { put: { 'claims.jsonl': await fs.readFile(claimsPath) } });
    const params = { repo, signaturePath: 'claims.jsonl', verifier: owner.verifier, ...connection() };

    const remote = await verifyHubRepo(params);
    expect(remote.source).toEqual({ layout: 'claims', line: 1, lines: 3, warnings: [] });
    const cacheDir = await tempDir('att-claims-cache');
    const downloaded = await downloadVerifiedModel({ ...params, cacheDir });
    expect(downloaded.source).toMatchObject({ layout: 'claims', line: 1 });
    // The claims file is the signature: it is stored with the snapshot, as model.sig would be.
    expect(await fs.readFile(path.join(downloaded.snapshotPath, 'claims.jsonl'), 'utf8')).toBe(await fs.readFile(claimsPath, 'utf8'));
    const cached = await verifyCachedModel({ ...params, cacheDir, revision: downloaded.commit });
    expect(cached.source).toMatchObject({ layout: 'claims', line: 1 });

    // Trusting the other key, its newer line counts.
    expect((await verifyHubRepo({ ...params, verifier: other.verifier })).source).toMatchObject({ layout: 'claims', line: 2 });
  });
});

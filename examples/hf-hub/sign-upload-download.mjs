#!/usr/bin/env node
// Sign a model while uploading it to a Hugging Face hub, check it remotely,
// download it verified into the Hugging Face cache, re-verify the cache, and
// watch a tampered repo be refused before a single weight byte is downloaded.
//
//   node examples/hf-hub/sign-upload-download.mjs            # a hub on 127.0.0.1, nothing leaves the machine
//   HF_TOKEN=hf_… node examples/hf-hub/sign-upload-download.mjs --repo you/signed-demo
//                                                             # the real hub (or HF_ENDPOINT); the repo must exist
//
// Needs the workspace built: pnpm install && pnpm build
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KeySigner, KeyVerifier, isModelSigningError } from '@model-signing/core';
import { uploadSignedModel, verifyHubRepo, downloadVerifiedModel, verifyCachedModel } from '@model-signing/hf-hub';
import { FakeHub } from '@model-signing/hf-hub/testing';

const repoArg = process.argv.indexOf('--repo');
const repo = repoArg > 0 ? process.argv[repoArg + 1] : 'demo/tiny-signed-model';
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'hf-hub-example-'));

// Without --repo: the loopback hub the package offers for tests (@model-signing/hf-hub/testing).
let hub;
if (repoArg < 0) {
  hub = await FakeHub.start();
  hub.createRepo(repo);
}
const connection = hub ? { hubUrl: hub.url, accessToken: 'hf_local_demo' } : {}; // else HF_ENDPOINT / HF_TOKEN

// 1. A model and a key pair (in practice: your model directory and your signing key).
const modelDir = path.join(work, 'model');
await fs.mkdir(path.join(modelDir, 'tokenizer'), { recursive: true });
await fs.writeFile(path.join(modelDir, 'config.json'), JSON.stringify({ model_type: 'demo', hidden_size: 16 }));
await fs.writeFile(path.join(modelDir, 'tokenizer', 'vocab.txt'), 'hello\nworld\n');
await fs.writeFile(path.join(modelDir, 'model.safetensors'), randomBytes(2 * 1024 * 1024));
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
const verifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });

// 2. Sign and upload: the files and model.sig land in one commit.
const uploaded = await uploadSignedModel({ repo, modelPath: modelDir, signer, ...connection });
console.log(`uploaded ${uploaded.files.length} files + ${uploaded.signaturePath} in commit ${uploaded.commit.oid}`);

// 3. Check the repo without downloading its weights: the hub's SHA-256 records
//    agree with the signature (this says nothing yet about the bytes it serves).
const report = await verifyHubRepo({ repo, verifier, hashFiles: 'none', ...connection });
console.log(
  `remote check: hub SHA-256 matches ${JSON.stringify(report.metadataOnly)}, not checked without bytes ${JSON.stringify(report.unchecked)}`,
);

// 4. Download verified into a Hugging Face cache (here a temporary one; default ~/.cache/huggingface/hub).
const cacheDir = path.join(work, 'cache');
const downloaded = await downloadVerifiedModel({ repo, verifier, cacheDir, ...connection });
console.log(`verified snapshot: ${downloaded.snapshotPath}`);
console.log(`  config: ${await fs.readFile(path.join(downloaded.snapshotPath, 'config.json'), 'utf8')}`);

// 5. Re-verify the cache later (works for snapshots other tools downloaded too).
const cached = await verifyCachedModel({ repo, verifier, cacheDir });
console.log(`cache re-verified: ${cached.files.length} files`);

// 6. Someone replaces the weights on the hub: refused before any weight byte moves.
if (hub) {
  hub.pushCommit(repo, { put: { 'model.safetensors': randomBytes(2 * 1024 * 1024) } });
  hub.resetCounters();
  try {
    await downloadVerifiedModel({ repo, verifier, cacheDir: path.join(work, 'cache2'), ...connection });
  } catch (err) {
    if (!isModelSigningError(err)) throw err;
    console.log(`tampered repo refused: ${err.code}: ${err.message}`);
    console.log(`  weight bytes served by the hub: ${hub.bytesServed(repo, 'model.safetensors')}`);
  }
  await hub.close();
}
await fs.rm(work, { recursive: true, force: true });

#!/usr/bin/env node
// Sign a transformers.js model while uploading it to a Hugging Face hub, then
// run a pipeline that only ever receives signed bytes: the signature is
// checked first, each file the pipeline asks for is checked before
// transformers.js sees it, the second run reads a cache it checks again, and a
// tampered file on the hub is refused by name.
//
//   node examples/transformers/run.mjs                        # a hub on 127.0.0.1, nothing leaves the machine
//   HF_TOKEN=hf_… node examples/transformers/run.mjs --repo you/signed-tiny-bert
//                                                             # the real hub (or HF_ENDPOINT); the repo must exist
//
// Needs the workspace built: pnpm install && pnpm build
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { KeySigner, KeyVerifier, isModelSigningError } from '@model-signing/core';
import { uploadSignedModel } from '@model-signing/hf-hub';
import { configureVerifiedLoading } from '@model-signing/transformers';
import { importTs } from './import-ts.mjs';

const repoArg = process.argv.indexOf('--repo');
const repo = repoArg > 0 ? process.argv[repoArg + 1] : 'demo/tiny-bert';
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'transformers-example-'));

// Without --repo: the loopback hub the hub adapter's tests use.
let hub;
if (repoArg < 0) {
  hub = await (await importTs('packages/hf-hub/test/hub-server.ts', work)).FakeHub.start();
  hub.createRepo(repo);
}
const hubUrl = hub?.url ?? (process.env.HF_ENDPOINT || 'https://huggingface.co');
const connection = hub ? { hubUrl } : {}; // else HF_ENDPOINT / HF_TOKEN

try {
  // 1. A model in the transformers.js layout (config, tokenizer, onnx/model.onnx and a
  //    quantized variant this pipeline does not use) and a key pair.
  const { tinyBertFiles } = await importTs('packages/transformers/test/fixtures/tiny-bert.ts', work);
  const modelDir = path.join(work, 'model');
  for (const [name, bytes] of Object.entries(tinyBertFiles())) {
    await fs.mkdir(path.dirname(path.join(modelDir, name)), { recursive: true });
    await fs.writeFile(path.join(modelDir, name), bytes);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  const verifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });

  // 2. Sign on upload: the files and model.sig land in one commit. Pin that commit.
  const uploaded = await uploadSignedModel({ repo, modelPath: modelDir, signer, ...connection });
  const revision = uploaded.commit.oid;
  console.log(`uploaded ${uploaded.files.length} files + ${uploaded.signaturePath} in commit ${revision}`);

  // 3. One call: verify the signature, then let transformers.js load only signed bytes.
  const cacheDir = path.join(work, 'verified-cache');
  const run = async (label) => {
    const loading = await configureVerifiedLoading({
      env,
      repo,
      revision,
      verifier,
      cacheDir,
      hubUrl,
      onProgress: (e) => console.log(`  ${label}: ${e.file} (${e.size} bytes) matched the signature [${e.source}]`),
    });
    try {
      const extractor = await pipeline('feature-extraction', repo, { revision });
      const output = await extractor('Hello signed models.', { pooling: 'mean', normalize: true });
      await extractor.dispose();
      return output.tolist()[0].map((v) => v.toFixed(4));
    } finally {
      loading.restore();
    }
  };
  console.log(`embedding: ${await run('first run')}`);
  console.log(`embedding: ${await run('second run')}`);

  // 4. Someone swaps the tokenizer on the hub: refused, by name.
  if (hub) {
    const tokenizer = (await fs.readFile(path.join(modelDir, 'tokenizer.json'), 'utf8')).replace('"hello": 5', '"hello": 6');
    const tampered = hub.pushCommit(repo, { put: { 'tokenizer.json': Buffer.from(tokenizer) } });
    // A fresh cache: the shared one already holds the signed tokenizer for this signature and would serve it.
    const loading = await configureVerifiedLoading({
      env,
      repo,
      revision: tampered,
      verifier,
      cacheDir: path.join(work, 'fresh-cache'),
      hubUrl,
    });
    try {
      await pipeline('feature-extraction', repo, { revision: tampered });
      throw new Error('the tampered tokenizer was accepted');
    } catch (err) {
      if (!isModelSigningError(err)) throw err;
      console.log(`tampered repo refused: ${err.code} on ${err.path}`);
    } finally {
      loading.restore();
    }
  }
} finally {
  await hub?.close();
  // transformers.js does not await every cache write it starts, so one may
  // still be landing in the cache folder: retry instead of failing on ENOTEMPTY.
  await fs.rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

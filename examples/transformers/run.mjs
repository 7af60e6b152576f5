#!/usr/bin/env node
// Run a transformers.js pipeline that only ever receives signed bytes, from
// a signed model folder on disk: no hub, no network. The signature is
// checked first, each file the pipeline asks for is checked before
// transformers.js sees it, the second run reads a cache it checks again, and
// a tampered file in the folder is refused by name.
//
//   node examples/transformers/run.mjs                        # a local folder, nothing leaves the machine
//   HF_TOKEN=hf_… node examples/transformers/run.mjs --repo you/signed-tiny-bert
//                                                             # signed on upload to the real hub (or HF_ENDPOINT), loaded from there
//
// Needs the workspace built: pnpm install && pnpm build
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { KeySigner, KeyVerifier, isModelSigningError, signModel } from '@model-signing/core';
import { uploadSignedModel } from '@model-signing/hf-hub';
import { configureVerifiedLoading } from '@model-signing/transformers';
import { importTs } from './import-ts.mjs';

const repoArg = process.argv.indexOf('--repo');
const hubRepo = repoArg > 0 ? process.argv[repoArg + 1] : undefined;
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'transformers-example-'));

try {
  // 1. A model in the transformers.js layout (config, tokenizer, onnx/model.onnx and a
  //    quantized variant this pipeline does not use), in <models>/tiny-bert, and a key pair.
  const { tinyBertFiles } = await importTs('packages/transformers/test/fixtures/tiny-bert.ts', work);
  const models = path.join(work, 'models');
  const modelDir = path.join(models, 'tiny-bert');
  for (const [name, bytes] of Object.entries(tinyBertFiles())) {
    await fs.mkdir(path.dirname(path.join(modelDir, name)), { recursive: true });
    await fs.writeFile(path.join(modelDir, name), bytes);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  const verifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });

  // 2. Sign: the folder gets its model.sig (as `model-signing sign key` would write it),
  //    or, with --repo, the files and model.sig land on the hub in one commit, which is pinned.
  let where;
  if (hubRepo) {
    const uploaded = await uploadSignedModel({ repo: hubRepo, modelPath: modelDir, signer });
    console.log(`uploaded ${uploaded.files.length} files + ${uploaded.signaturePath} in commit ${uploaded.commit.oid}`);
    where = { repo: hubRepo, revision: uploaded.commit.oid };
  } else {
    await signModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), signer });
    console.log(`signed ${modelDir} (model.sig beside the files)`);
    where = { repo: 'tiny-bert', localModelPath: models };
  }

  // 3. One call: verify the signature, then let transformers.js load only signed bytes.
  const cacheDir = path.join(work, 'verified-cache');
  const run = async (label, cache = cacheDir) => {
    const loading = await configureVerifiedLoading({
      env,
      ...where,
      verifier,
      cacheDir: cache,
      onProgress: (e) => console.log(`  ${label}: ${e.file} (${e.size} bytes) matched the signature [${e.source}]`),
    });
    try {
      const extractor = await pipeline('feature-extraction', where.repo, where.revision ? { revision: where.revision } : {});
      const output = await extractor('Hello signed models.', { pooling: 'mean', normalize: true });
      await extractor.dispose();
      return output.tolist()[0].map((v) => v.toFixed(4));
    } finally {
      loading.restore();
    }
  };
  console.log(`embedding: ${await run('first run')}`);
  console.log(`embedding: ${await run('second run')}`);

  // 4. Someone edits the tokenizer in the signed folder: refused, by name.
  if (!hubRepo) {
    const tokenizer = path.join(modelDir, 'tokenizer.json');
    await fs.writeFile(tokenizer, (await fs.readFile(tokenizer, 'utf8')).replace('"hello": 5', '"hello": 6'));
    try {
      // A fresh cache: the shared one already holds the signed tokenizer for this signature and would serve it.
      await run('tampered folder', path.join(work, 'fresh-cache'));
      throw new Error('the tampered tokenizer was accepted');
    } catch (err) {
      if (!isModelSigningError(err)) throw err;
      console.log(`tampered folder refused: ${err.code} on ${err.path}`);
    }
  }
} finally {
  // transformers.js does not await every cache write it starts, so one may
  // still be landing in the cache folder: retry instead of failing on ENOTEMPTY.
  await fs.rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

#!/usr/bin/env node
// A transformers.js pipeline in a web page that receives only signed bytes,
// and a tampered file refused by name. This script plays the publisher (signs
// a tiny BERT on upload to a hub on 127.0.0.1), the web server (the page,
// onnxruntime-web's WebAssembly from node_modules, and the hub under /hub/)
// and the user (headless Chromium). The page (page.js) loads the model twice
// (downloaded, then from the Cache API, checked again) and a tampered
// revision once. Run from the repository root after building, with Chromium
// at /usr/bin/chromium (scripts/setup-browser.sh):
//
//   pnpm install && pnpm build
//   node examples/transformers/browser/run.mjs
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { KeySigner } from '@model-signing/core';
import { uploadSignedModel } from '@model-signing/hf-hub';
import { FakeHub } from '@model-signing/hf-hub/testing';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { importTs } from '../import-ts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'transformers-browser-example-'));
const repo = 'demo/tiny-bert';
const { tinyBertFiles, expectedEmbedding, VOCAB } = await importTs('packages/transformers/test/fixtures/tiny-bert.ts', work);
const hub = await FakeHub.start();
let server;
let browser;
let failed;
try {
  // 1. The publisher signs the model on upload and publishes the public key and the commit.
  const modelDir = path.join(work, 'model');
  for (const [name, bytes] of Object.entries(tinyBertFiles())) {
    await fs.mkdir(path.dirname(path.join(modelDir, name)), { recursive: true });
    await fs.writeFile(path.join(modelDir, name), bytes);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  hub.createRepo(repo);
  const revision = (await uploadSignedModel({ repo, modelPath: modelDir, signer, hubUrl: hub.url })).commit.oid;
  // Later someone pushes an edited tokenizer; the signature in that commit is still the old one.
  const tokenizer = tinyBertFiles()['tokenizer.json'].toString('utf8').replace('"hello": 5', '"hello": 6');
  const tampered = hub.pushCommit(repo, { put: { 'tokenizer.json': Buffer.from(tokenizer) } });

  // 2. The web server: the page, onnxruntime-web's WebAssembly, and the hub under /hub/ (same origin, so no CORS).
  const bundle = await esbuild.build({
    entryPoints: [path.join(here, 'page.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const requireOrt = createRequire(createRequire(import.meta.url).resolve('@huggingface/transformers'));
  const routes = new Map([
    [
      '/',
      {
        type: 'text/html',
        body: '<!doctype html><meta charset="utf-8"><script type="module">import * as page from "./page.js"; window.page = page; window.ready = true;</script>',
      },
    ],
    ['/page.js', { type: 'text/javascript', body: bundle.outputFiles[0].contents }],
  ]);
  for (const name of ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm']) {
    routes.set(`/ort/${name}`, {
      type: name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
      body: await fs.readFile(requireOrt.resolve(`onnxruntime-web/${name}`)),
    });
  }
  server = http.createServer((req, res) => {
    if (req.url.startsWith('/hub/')) {
      const upstream = http.request(`${hub.url}${req.url.slice('/hub'.length)}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
      return;
    }
    const route = routes.get(new URL(req.url, 'http://127.0.0.1').pathname);
    if (route) res.writeHead(200, { 'content-type': route.type }).end(route.body);
    else res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}/`;

  // 3. The user opens the page; it loads the model through the signature.
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
  const tab = await browser.newPage();
  await tab.goto(origin);
  await tab.waitForFunction(() => window.ready === true);
  const embed = (rev, cacheName) =>
    tab.evaluate((params) => window.page.embed(params), { hubUrl: `${origin}hub`, repo, revision: rev, publicKeyPem, cacheName });

  const expected = expectedEmbedding(['[CLS]', 'hello', 'signed', 'model', '##s', '.', '[SEP]'].map((t) => VOCAB.indexOf(t)));
  const matches = (result) =>
    result.ok && result.embedding.length === expected.length && result.embedding.every((v, i) => Math.abs(v - expected[i]) < 1e-5);
  const outcomes = [];
  for (const label of ['first load', 'second load']) {
    const result = await embed(revision, 'verified-models');
    if (!result.ok) {
      console.log(`Unexpected on the ${label}: ${result.code} ${result.message}`);
      outcomes.push(false);
      continue;
    }
    console.log(`${label}: checked ${result.checked.join(', ')}`);
    console.log(
      `  embedding: ${result.embedding.map((v) => v.toFixed(4)).join(', ')}${matches(result) ? '' : ' (NOT the expected values)'}`,
    );
    // The first load downloads (transformers.js reads config.json a second time, then from the cache); the second downloads nothing.
    const fromNetwork = result.checked.filter((c) => c.endsWith('network)')).length;
    outcomes.push(matches(result) && (label === 'first load' ? fromNetwork === 4 : fromNetwork === 0));
  }
  // A fresh cache: the first one holds the signed tokenizer for this signature and would serve it.
  const bad = await embed(tampered, 'fresh');
  console.log(
    bad.ok ? 'Unexpected: the tampered tokenizer was accepted' : `Tampered revision refused (${bad.code} on ${bad.path}): ${bad.message}`,
  );
  failed = outcomes.includes(false) || bad.ok || bad.code !== 'DIGEST_MISMATCH' || bad.path !== 'tokenizer.json';
} finally {
  await browser?.close();
  server?.close();
  await hub.close();
  await fs.rm(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

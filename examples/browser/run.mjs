// Load a signed model into a web page, verified, and watch a tampered copy be
// refused. The page (page.js) uses only @model-signing/core/browser; this
// script plays the publisher (signs examples/tiny-model), the web server
// (loopback) and the user (headless Chromium). Run from the repository root
// after building, with Chromium at /usr/bin/chromium (scripts/setup-browser.sh):
//
//   pnpm install && pnpm build
//   node examples/browser/run.mjs
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { KeySigner, signModel } from '@model-signing/core';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const tinyModel = path.join(here, '../tiny-model');
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'oms-browser-example-'));

// 1. The publisher signs the model with their key and publishes the public key.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signature = path.join(work, 'model.sig');
await signModel({ modelPath: tinyModel, signaturePath: signature, signer: await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }) });

// 2. A web server: the page, the model with its signature at /model/, and a
//    copy at /tampered/ whose config.json was edited after signing.
const page = await esbuild.build({ entryPoints: [path.join(here, 'page.js')], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
const routes = new Map([
  ['/', { type: 'text/html', body: '<!doctype html><meta charset="utf-8"><script type="module">import * as page from "./page.js"; window.page = page; window.ready = true;</script>' }],
  ['/page.js', { type: 'text/javascript', body: page.outputFiles[0].contents }],
  ['/model/model.sig', { type: 'application/json', body: await fs.readFile(signature) }],
  ['/tampered/model.sig', { type: 'application/json', body: await fs.readFile(signature) }],
]);
for (const name of await fs.readdir(tinyModel)) {
  const bytes = await fs.readFile(path.join(tinyModel, name));
  routes.set(`/model/${name}`, { type: 'application/octet-stream', body: bytes });
  routes.set(`/tampered/${name}`, { type: 'application/octet-stream', body: name === 'config.json' ? Buffer.from(bytes.toString().replace('8', '9')) : bytes });
}
const server = http.createServer((req, res) => {
  const route = routes.get(new URL(req.url, 'http://127.0.0.1').pathname);
  if (route) res.writeHead(200, { 'content-type': route.type }).end(route.body);
  else res.writeHead(404).end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}/`;

// 3. The user opens the page, which loads the model through fetchVerifiedModel.
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
let failed = false;
try {
  const tab = await browser.newPage();
  await tab.goto(origin);
  await tab.waitForFunction(() => window.ready === true);
  const load = (base) => tab.evaluate(([b, pem]) => window.page.load(b, pem), [base, publicKeyPem]);

  const good = await load('model/');
  console.log(good.ok ? `Verified in the browser: ${good.files.join(', ')}; ${good.architecture}, signed by key ${good.keyHint.slice(0, 16)}…` : `Unexpected: ${good.code} ${good.message}`);
  const bad = await load('tampered/');
  console.log(bad.ok ? 'Unexpected: the tampered model loaded' : `Tampered copy refused (${bad.code}): ${bad.message}`);
  failed = !good.ok || bad.ok || bad.code !== 'DIGEST_MISMATCH';
} finally {
  await browser.close();
  server.close();
  await fs.rm(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

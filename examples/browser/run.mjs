// A web page that loads a signed ONNX model with onnxruntime-web from
// verified bytes, shows who signed it and runs it; refuses a tampered copy;
// and verifies a keyless (Sigstore) signature against the production trusted
// root, offline. This script plays the publisher (signs the model), the web
// server (loopback) and the user (headless Chromium), and exits non-zero if
// any outcome differs from the expected one. Run from the repository root
// after building, with Chromium at /usr/bin/chromium (scripts/setup-browser.sh):
//
//   pnpm install && pnpm build
//   node examples/browser/run.mjs           # check in headless Chromium
//   node examples/browser/run.mjs --serve   # keep serving; open the printed URL in a browser
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { KeySigner } from '@model-signing/core';
import { saveSignedModel } from '@model-signing/onnx';
import * as esbuild from 'esbuild';
import onnxProto from 'onnx-proto';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const keylessModel = path.join(here, '../../test-fixtures/vectors/model-transparency/historical/v1.1.0-sigstore');
const ortDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
const serveOnly = process.argv.includes('--serve');
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'oms-browser-example-'));

// 1. A tiny ONNX model, Y = X·W + B, with W as external data in weights.bin.
const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const floats = (values) => new Uint8Array(new Float32Array(values).buffer);
const shape = (...dims) => ({
  tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } },
});
const model = onnx.ModelProto.encode(
  onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: [
        { opType: 'MatMul', input: ['X', 'W'], output: ['XW'] },
        { opType: 'Add', input: ['XW', 'B'], output: ['Y'] },
      ],
      initializer: [
        {
          name: 'W',
          dims: [3, 2],
          dataType: FLOAT,
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: 'weights.bin' },
            { key: 'offset', value: '0' },
            { key: 'length', value: '24' },
          ],
        },
        { name: 'B', dims: [2], dataType: FLOAT, rawData: floats([0.5, -0.5]) },
      ],
      input: [{ name: 'X', type: shape('N', 3) }],
      output: [{ name: 'Y', type: shape('N', 2) }],
    },
  }),
).finish();

// 2. The publisher saves it signed with their key (as `model-signing sign key
//    <folder> --private-key key.pem --signature <folder>/model.sig` would) and
//    gives the app developer the public key.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const modelDir = path.join(work, 'onnx-model');
await saveSignedModel(modelDir, {
  model,
  externalData: [{ path: 'weights.bin', data: floats([1, 2, 3, 4, 5, 6]) }],
  signer: await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }),
});

// 3. The app: the page bundled for the browser, with the public key baked in.
const bundle = await esbuild.build({
  entryPoints: [path.join(here, 'page.js')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  define: { PUBLISHER_PUBLIC_KEY: JSON.stringify(publicKeyPem) },
  write: false,
  logLevel: 'error',
});

// 4. The web server: the page, onnxruntime-web's wasm files under /ort/, the
//    signed model at /onnx-model/, a copy with one weight byte changed at
//    /onnx-tampered/, and the keyless-signed model at /keyless/.
const routes = new Map([
  ['/', { type: 'text/html; charset=utf-8', body: await fs.readFile(path.join(here, 'index.html')) }],
  ['/page.js', { type: 'text/javascript', body: bundle.outputFiles[0].contents }],
]);
for (const name of await fs.readdir(modelDir)) {
  const bytes = await fs.readFile(path.join(modelDir, name));
  routes.set(`/onnx-model/${name}`, { type: 'application/octet-stream', body: bytes });
  const changed = Buffer.from(bytes);
  if (name === 'weights.bin') changed[0] ^= 0x01;
  routes.set(`/onnx-tampered/${name}`, { type: 'application/octet-stream', body: changed });
}
for (const name of await fs.readdir(keylessModel)) {
  routes.set(`/keyless/${name}`, { type: 'application/octet-stream', body: await fs.readFile(path.join(keylessModel, name)) });
}
const server = http.createServer(async (req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  const route = routes.get(pathname);
  if (route) return void res.writeHead(200, { 'content-type': route.type }).end(route.body);
  if (pathname === '/favicon.ico') return void res.writeHead(204).end();
  // onnxruntime-web imports its JS glue (.mjs) and fetches the matching .wasm at run time.
  const ort = /^\/ort\/(ort-wasm-[\w.-]+\.(mjs|wasm))$/.exec(pathname);
  if (ort) {
    const body = await fs.readFile(path.join(ortDist, ort[1])).catch(() => undefined);
    if (body) return void res.writeHead(200, { 'content-type': ort[2] === 'wasm' ? 'application/wasm' : 'text/javascript' }).end(body);
  }
  res.writeHead(404).end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}/`;

if (serveOnly) {
  console.log(`Serving the example at ${origin} (Ctrl-C to stop)`);
  process.on('SIGINT', async () => {
    server.close();
    await fs.rm(work, { recursive: true, force: true });
    process.exit(0);
  });
} else {
  // 5. The user opens the page in Chromium; the page shows each outcome.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
  const failures = [];
  try {
    const tab = await browser.newPage();
    tab.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
    tab.on('console', (msg) => msg.type() === 'error' && console.error(`page console: ${msg.text()}`));
    await tab.goto(origin);
    await tab.waitForFunction(() => window.exampleResults !== undefined, undefined, { timeout: 120_000 });
    const [onnxModel, tampered, keyless] = await tab.evaluate(() => window.exampleResults.map((r) => r.outcome));
    for (const line of await tab.locator('#results li').allTextContents()) console.log(line);

    const expectedY = [9.5, 11.5, 3.5, 3.5];
    const signedHint = JSON.parse(await fs.readFile(path.join(modelDir, 'model.sig'), 'utf8')).verificationMaterial.publicKey.hint;
    if (!onnxModel.ok || JSON.stringify(onnxModel.output) !== JSON.stringify(expectedY))
      failures.push(`the signed ONNX model should run and give Y = ${expectedY}`);
    else if (onnxModel.keyHint !== signedHint || !onnxModel.verifiedBy.startsWith(`key ${signedHint.slice(0, 16)}`))
      failures.push("the page should name the publisher's key");
    if (tampered.ok || tampered.code !== 'DIGEST_MISMATCH' || tampered.path !== 'weights.bin')
      failures.push('the tampered copy should be refused with DIGEST_MISMATCH on weights.bin');
    if (!keyless.ok || !keyless.verifiedBy.startsWith('stefanb@us.ibm.com'))
      failures.push('the keyless-signed model should verify as stefanb@us.ibm.com');
  } catch (err) {
    failures.push(String(err));
  } finally {
    await browser.close();
    server.close();
    await fs.rm(work, { recursive: true, force: true });
  }
  for (const failure of failures) console.error(`FAILED: ${failure}`);
  process.exit(failures.length > 0 ? 1 : 0);
}

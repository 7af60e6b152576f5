// What the transformers.js browser examples share: a web server on
// 127.0.0.1 for a page (its module bundled for browsers with esbuild),
// onnxruntime-web's WebAssembly from node_modules and a hub under /hub/ (same
// origin, so no CORS), and the page opened in headless Chromium
// (/usr/bin/chromium, scripts/setup-browser.sh).
import fs from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

/**
 * Serves `entry` (a page module; its exports become `window.page`) and the
 * hub at `hubUrl` under `/hub/`, and opens it in Chromium. Returns the tab,
 * the page's origin (`http://127.0.0.1:<port>/`) and `close()`, which stops
 * both.
 */
export async function openPage({ entry, hubUrl }) {
  const bundle = await esbuild.build({
    entryPoints: [entry],
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
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/hub/')) {
      const upstream = http.request(`${hubUrl}${req.url.slice('/hub'.length)}`, { method: req.method, headers: req.headers }, (answer) => {
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
  let browser;
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
    const tab = await browser.newPage();
    await tab.goto(origin);
    await tab.waitForFunction(() => window.ready === true);
    return {
      tab,
      origin,
      async close() {
        await browser.close();
        server.close();
      },
    };
  } catch (err) {
    await browser?.close();
    server.close();
    throw err;
  }
}

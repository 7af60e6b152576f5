/**
 * Runs code in a real headless Chromium (Debian's, at /usr/bin/chromium,
 * installed by scripts/setup-browser.sh) from vitest tests in Node.
 *
 * A page entry (TypeScript under test/browser/page/) is bundled with esbuild
 * for the browser platform; any import of a Node built-in fails the bundle,
 * so a page that builds is proof that its code reaches no `node:*` module.
 * The bundle and any test bytes are served from a loopback HTTP server at
 * http://127.0.0.1:<port>/, a secure context, so `crypto.subtle` exists.
 * The page exposes the entry's exports as `globalThis.page`; tests call them
 * through {@link BrowserHarness.call}.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as esbuild from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where scripts/setup-browser.sh installs Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // the CI machines run as root, where Chromium's sandbox refuses to start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/**
 * Whether the dependency that `importer` belongs to maps `specifier` to
 * `false` in its package.json `browser` field: every bundler then gives it
 * an empty module (TensorFlow.js does this for `util`, `fs`, `crypto`, only
 * reached in Node). Our own packages have no `browser` field.
 */
async function browserFieldOmits(importer: string, specifier: string): Promise<boolean> {
  if (!importer.includes(`${path.sep}node_modules${path.sep}`)) return false;
  for (let dir = path.dirname(importer); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = await fs.readFile(path.join(dir, 'package.json'), 'utf8').catch(() => undefined);
    if (manifest === undefined) continue;
    const browser = (JSON.parse(manifest) as { browser?: unknown }).browser;
    return typeof browser === 'object' && browser !== null && (browser as Record<string, unknown>)[specifier] === false;
  }
  return false;
}

/**
 * Fails the bundle on any Node built-in, with the importer named, instead of
 * letting a shim slip in; a dependency's own `browser: { x: false }` mapping
 * is honoured, as bundlers do.
 */
const refuseNodeBuiltins: esbuild.Plugin = {
  name: 'refuse-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      const bare = args.path.split('/')[0] ?? args.path;
      if (!NODE_BUILTINS.has(args.path) && !NODE_BUILTINS.has(bare)) return undefined;
      if (await browserFieldOmits(args.importer, args.path)) return undefined;
      return { errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer}: browser code must not use it` }] };
    });
  },
};

/**
 * Bundles browser entries into ES modules, keyed by output file name
 * (`<entry basename>.js`, plus shared chunks). Throws on any Node built-in.
 */
export async function bundleForBrowser(entries: string[]): Promise<Map<string, Uint8Array>> {
  const result = await esbuild.build({
    entryPoints: entries,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/bundle',
    write: false,
    logLevel: 'silent',
    plugins: [refuseNodeBuiltins],
  });
  return new Map(result.outputFiles.map((file) => [path.basename(file.path), file.contents]));
}

/** A running page in headless Chromium, served from loopback. */
export interface BrowserHarness {
  readonly page: Page;
  /** Base URL of the loopback server, `http://127.0.0.1:<port>/`. */
  readonly origin: string;
  /** Serves `bytes` at `/<name>` from now on (for the page to `fetch`). */
  serve(name: string, bytes: Uint8Array): void;
  /** Answers requests for `/<name>` with `handler` from now on (a server that misbehaves). */
  route(name: string, handler: http.RequestListener): void;
  /** Stops serving `/<name>`: it answers 404. */
  unserve(name: string): void;
  /** Calls the page entry's export `name` with JSON-serialisable `args` and returns its result. */
  call<T>(name: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

/** Options of {@link startBrowser}. */
export interface StartBrowserParams {
  /** Path of the TypeScript page entry whose exports the page exposes. */
  entry: string;
  /** More entries bundled beside it (e.g. module workers), served as `/<basename>.js`. */
  extraEntries?: string[];
}

/**
 * Bundles the entry, serves it on 127.0.0.1, launches Chromium with a fresh
 * profile and opens the page. Call `close()` in `afterAll`.
 */
export async function startBrowser(params: StartBrowserParams): Promise<BrowserHarness> {
  await fs.access(CHROMIUM).catch(() => {
    throw new Error(`No Chromium at ${CHROMIUM}: run scripts/setup-browser.sh (scripts/test.sh does)`);
  });
  const entries = [params.entry, ...(params.extraEntries ?? [])];
  const files = await bundleForBrowser(entries);
  const main = `${path.basename(params.entry).replace(/\.ts$/, '')}.js`;
  const routes = new Map<string, { type: string; body: Uint8Array } | http.RequestListener>();
  for (const [name, body] of files) routes.set(`/${name}`, { type: 'text/javascript', body });
  const html = `<!doctype html><meta charset="utf-8"><title>model-signing browser test</title>
<script type="module">import * as page from './${main}'; globalThis.page = page; globalThis.pageReady = true;</script>`;
  routes.set('/', { type: 'text/html; charset=utf-8', body: new TextEncoder().encode(html) });

  const server = http.createServer((req, res) => {
    const route = routes.get(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    if (typeof route === 'function') {
      route(req, res);
      return;
    }
    res.writeHead(200, { 'content-type': route.type, 'content-length': route.body.byteLength, 'cache-control': 'no-store' });
    res.end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'oms-chromium-'));
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(profile, { recursive: true, force: true });
  };
  try {
    // A persistent context is how Playwright takes the fresh --user-data-dir.
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(origin);
    await page
      .waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true, undefined, { timeout: 30_000 })
      .catch(() => {
        throw new Error(`the test page did not load: ${errors.join('; ') || 'no error reported'}`);
      });
    return {
      page,
      origin,
      serve: (name, bytes) => void routes.set(`/${name}`, { type: 'application/octet-stream', body: bytes }),
      route: (name, handler) => void routes.set(`/${name}`, handler),
      unserve: (name) => void routes.delete(`/${name}`),
      call: <T>(name: string, ...args: unknown[]) =>
        page.evaluate(([fn, a]) => (globalThis as unknown as { page: Record<string, (...x: unknown[]) => unknown> }).page[fn](...a), [
          name,
          args,
        ] as const) as Promise<T>,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

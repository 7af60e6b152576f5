// A web page as an app would write it, importing the browser entries by
// their package names (resolved through package.json `exports` to dist/),
// with the hash worker started the way bundlers recognise. What it uses is
// put on globalThis, as a page's code has effects, so no bundler drops it.
import { createHashWorkerPool, fetchVerifiedModel } from '@model-signing/core/browser';
import { createVerifiedWebSession } from '@model-signing/onnx/web';

const pool = () =>
  createHashWorkerPool({ size: 2, createWorker: () => new Worker(new URL('./bundle-worker.ts', import.meta.url), { type: 'module' }) });
Object.assign(globalThis, { app: { pool, createVerifiedWebSession, fetchVerifiedModel } });

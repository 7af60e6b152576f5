/**
 * What docs/browser.md says about bundlers, checked on the built packages
 * (dist/, through package.json `exports`, as an app gets them): a page that
 * imports `@model-signing/onnx/web` and `@model-signing/core/browser` and
 * starts the hash worker with `new Worker(new URL(...), { type: 'module' })`
 * bundles for the browser with esbuild and with Vite, with no Node built-in
 * pulled in and the worker emitted as its own module; the same checks refuse
 * a page that imports the Node entry.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, type Rollup } from 'vite';
import { bundleForBrowser } from '../../../core/test/browser/harness.js';

const page = (name: string) => new URL(`./page/${name}`, import.meta.url).pathname;
const NODE_ONLY = /has been externalized for browser compatibility/;

/** Builds `entry` with Vite for the browser, in memory; returns the output and Vite's warnings. */
async function viteBuild(entry: string): Promise<{ output: Rollup.OutputBundle[keyof Rollup.OutputBundle][]; warnings: string[] }> {
  const warnings: string[] = [];
  const result = await build({
    root: path.dirname(entry),
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      rollupOptions: { input: entry, onwarn: (warning) => void warnings.push(warning.message) },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
  return { output: outputs.flatMap((o) => o.output), warnings };
}

describe('the browser entries under bundlers', () => {
  it('esbuild (browser platform, Node built-ins refused) bundles the page and its worker', async () => {
    const files = await bundleForBrowser([page('bundle-page.ts'), page('bundle-worker.ts')]);
    expect([...files.keys()]).toEqual(expect.arrayContaining(['bundle-page.js', 'bundle-worker.js']));
    await expect(bundleForBrowser([page('bundle-node-page.ts')])).rejects.toThrow(/Node built-in/);
  });

  it('Vite bundles the page with no Node module externalized, and emits the hash worker as its own module', async () => {
    const { output, warnings } = await viteBuild(page('bundle-page.ts'));
    expect(warnings.filter((w) => NODE_ONLY.test(w))).toEqual([]);
    const worker = output.find((o) => o.fileName.includes('bundle-worker'));
    expect(worker, output.map((o) => o.fileName).join(', ')).toBeDefined();
    // The worker module is core's hash worker, not an empty stub.
    const workerCode = worker!.type === 'asset' ? String(worker!.source) : worker!.code;
    expect(workerCode.length).toBeGreaterThan(1000);
    const main = output.find((o) => o.type === 'chunk' && o.isEntry);
    expect(main?.type === 'chunk' && main.code.includes(worker!.fileName)).toBe(true);

    // The Node entry: Vite stubs its Node built-ins with warnings, or fails outright (core's Node hashing worker).
    const node = await viteBuild(page('bundle-node-page.ts')).then(
      ({ warnings }) => warnings.filter((w) => NODE_ONLY.test(w)).length,
      (err: unknown) => `build failed: ${String(err)}`,
    );
    expect(node === 0, 'a page importing @model-signing/onnx (the Node entry) bundled cleanly').toBe(false);
  });
});

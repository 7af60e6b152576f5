// Runs hash-bench.ts: bundles it for Node with esbuild (the package has no
// TypeScript runner) into node_modules/.cache, where its imports resolve;
// import.meta.url keeps pointing at the source, for the page paths.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(here, 'hash-bench.ts');
const outfile = path.join(here, '../../node_modules/.cache/model-signing-bench/hash-bench.mjs');
await esbuild.build({
  entryPoints: [source],
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(source).href) },
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile,
  logLevel: 'warning',
});
await import(pathToFileURL(outfile).href);

// Bundles the action into dist/ with esbuild: one ES module for the runner
// (dist/main.js, what action.yml runs) and the hashing worker core starts
// beside it (dist/worker.js, found as new URL('./worker.js', import.meta.url)).
// Nothing is left to install: a JavaScript action runs from the repository at
// the ref a workflow pins. No code splitting: a split-off CommonJS package
// loaded with import() would lose its named exports (core loads sigstore-js
// that way). Run after building core and hf-hub (turbo does: ^build).
import { build } from 'esbuild';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const coreDist = path.dirname(createRequire(import.meta.url).resolve('@model-signing/core'));
const outdir = path.join(here, 'dist');
await fs.rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: path.join(here, 'src/main.ts'), worker: path.join(coreDist, 'node/hash/worker.js') },
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Bundled CommonJS packages call require(): give them one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  // Native PKCS#11 binding: not offered by the action (a runner has no token).
  external: ['pkcs11js'],
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
}).then(async (result) => {
  await fs.writeFile(path.join(outdir, 'package.json'), '{ "type": "module" }\n');
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  console.log(`action/dist: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1e6).toFixed(1)} MB`);
});

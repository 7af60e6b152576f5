// Loads a TypeScript module of this repository (the tiny model fixture) in
// the examples, transpiled with the workspace's compiler.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Imports `relative` (a path from the repository root), written as an ES
 * module into `workDir`; its bare imports resolve from where the source lives.
 */
export async function importTs(relative, workDir) {
  const ts = createRequire(import.meta.url)('typescript');
  const sourcePath = path.join(root, relative);
  const requireThere = createRequire(sourcePath);
  let { outputText } = ts.transpileModule(await fs.readFile(sourcePath, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  outputText = outputText.replace(/from '([^'.][^']*)'/g, (all, spec) =>
    spec.startsWith('node:') ? all : `from '${pathToFileURL(requireThere.resolve(spec)).href}'`,
  );
  const file = path.join(workDir, `${path.basename(relative, '.ts')}.mjs`);
  await fs.writeFile(file, outputText);
  return import(pathToFileURL(file).href);
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashModel, manifestToStatement, type HashModelOptions } from '../dist/index.js';
import { REFERENCE, cleanupTempDirs, tempDir, writeTree } from './helpers.js';

// Recreates the reference's serializer fixtures (see test-fixtures/vectors/README.md)
// and checks that we produce its manifests and statements exactly.
const KNOWN = 'This is a simple model';

async function makeFixtures(root: string): Promise<Record<string, string>> {
  const sampleFolder: Record<string, string> = {};
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) sampleFolder[`d${i}/f${i}${j}`] = `This is file f${i}${j} in d${i}.`;
  for (let i = 0; i < 4; i++) sampleFolder[`f${i}`] = `This is file f${i} in root.`;
  const deep: Record<string, string> = {};
  for (let i = 0; i < 4; i++) deep[`d0/d1/d2/d3/d4/f${i}`] = `This is file f${i}.`;

  await writeTree(root, { file_model: KNOWN, empty_file_model: '', 'outside/target': KNOWN });
  await writeTree(path.join(root, 'sample_model'), sampleFolder);
  await writeTree(path.join(root, 'deep_model'), deep);
  await writeTree(path.join(root, 'empty_file_inside_model'), { empty_file: '' });
  await fs.mkdir(path.join(root, 'empty_folder_model'));
  await fs.mkdir(path.join(root, 'symlink_model'));
  await fs.symlink(path.join(root, 'outside/target'), path.join(root, 'symlink_model/symlink_file'));
  return {
    sample_model_file: 'file_model',
    empty_model_file: 'empty_file_model',
    sample_model_folder: 'sample_model',
    empty_model_folder: 'empty_folder_model',
    model_folder_with_empty_file: 'empty_file_inside_model',
    deep_model_folder: 'deep_model',
    symlink_model_folder: 'symlink_model',
  };
}

let root: string;
let fixtures: Record<string, string>;
beforeAll(async () => {
  root = await tempDir('oms-goldens-');
  fixtures = await makeFixtures(root);
});
afterAll(cleanupTempDirs);

const VARIANTS: { suffix: string; serializerDir: string; options: Partial<HashModelOptions> }[] = [
  { suffix: '', serializerDir: 'file', options: { method: 'files' } },
  { suffix: '_shard', serializerDir: 'file_shard', options: { method: 'shards' } },
  { suffix: '_small_shards', serializerDir: 'file_shard', options: { method: 'shards', shardSize: 8 } },
];

function hashFixture(fixture: string, options: Partial<HashModelOptions>) {
  // The reference's fixtures were hashed with symlinks allowed and no git ignores.
  return hashModel({ modelPath: path.join(root, fixtures[fixture]!), allowSymlinks: true, symlinkTargetRoot: root, ignoreGitPaths: false, ...options });
}

describe('reference serializer goldens', () => {
  const fixtureNames = ['sample_model_file', 'empty_model_file', 'sample_model_folder', 'empty_model_folder', 'model_folder_with_empty_file', 'deep_model_folder', 'symlink_model_folder'];
  for (const fixture of fixtureNames) {
    for (const variant of VARIANTS) {
      const goldenName = `${fixture}${variant.suffix === '_small_shards' ? '_small_shards' : ''}`;
      it(`${fixture} (${variant.options.method}${variant.options.shardSize ? ', shard size 8' : ''}) matches ${variant.serializerDir}/${goldenName}`, async () => {
        const golden = (await fs.readFile(path.join(REFERENCE, 'serializer-goldens', variant.serializerDir, 'TestSerializer', goldenName), 'utf8'))
          .split('\n')
          .filter((l) => l !== '');
        const manifest = await hashFixture(fixture, variant.options);
        expect(manifest.resources.map((r) => `${r.name}:${r.digest}`)).toEqual(golden);
      });

      it(`${fixture}${variant.suffix} statement equals the reference's payload golden`, async () => {
        const golden = JSON.parse(await fs.readFile(path.join(REFERENCE, 'payload-goldens', `${fixture}${variant.suffix}`), 'utf8'));
        const manifest = await hashFixture(fixture, variant.options);
        // Compare parsed JSON: the reference's key order inside the predicate is random.
        expect(JSON.parse(JSON.stringify(manifestToStatement(manifest)))).toEqual(golden);
      });
    }
  }
});

import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashModel, type HashModelOptions } from '../dist/index.js';
import { manifestToStatement } from '../dist/internal.js';
import { REFERENCE, cleanupTempDirs, tempDir, writeTree } from './helpers.js';

// Recreates the reference's serializer fixtures (see test-fixtures/vectors/README.md)
// and checks that we produce its digests and statements. The reference lists
// resources by path components then numeric shard offsets; we emit code-point
// order of the names (OMS spec §5.2.1), so the resources match as sets, our list
// is in code-point order, and the subject digest is the golden's recomputed
// over our order.
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

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function expectCodePointOrder(names: string[]): void {
  expect(names).toEqual([...names].sort(byUtf8));
}

/** The subject digest, computed here rather than by the code under test. */
function root(resources: { digest: string }[]): string {
  const hash = createHash('sha256');
  for (const r of resources) hash.update(Buffer.from(r.digest, 'hex'));
  return hash.digest('hex');
}

let modelsRoot: string;
let fixtures: Record<string, string>;
beforeAll(async () => {
  modelsRoot = await tempDir('oms-goldens-');
  fixtures = await makeFixtures(modelsRoot);
});
afterAll(cleanupTempDirs);

const VARIANTS: { suffix: string; serializerDir: string; options: Partial<HashModelOptions> }[] = [
  { suffix: '', serializerDir: 'file', options: { method: 'files' } },
  { suffix: '_shard', serializerDir: 'file_shard', options: { method: 'shards' } },
  { suffix: '_small_shards', serializerDir: 'file_shard', options: { method: 'shards', shardSize: 8 } },
];

function hashFixture(fixture: string, options: Partial<HashModelOptions>) {
  // The reference's fixtures were hashed with symlinks allowed, no git ignores,
  // and before attestation files were ignored (model_signing 1.1.1).
  return hashModel({
    modelPath: path.join(modelsRoot, fixtures[fixture]),
    allowSymlinks: true,
    symlinkTargetRoot: modelsRoot,
    ignoreGitPaths: false,
    ignoreAttestationFiles: false,
    ...options,
  });
}

describe('reference serializer goldens', () => {
  const fixtureNames = [
    'sample_model_file',
    'empty_model_file',
    'sample_model_folder',
    'empty_model_folder',
    'model_folder_with_empty_file',
    'deep_model_folder',
    'symlink_model_folder',
  ];
  for (const fixture of fixtureNames) {
    for (const variant of VARIANTS) {
      const goldenName = `${fixture}${variant.suffix === '_small_shards' ? '_small_shards' : ''}`;
      it(`${fixture} (${variant.options.method}${variant.options.shardSize ? ', shard size 8' : ''}) matches ${variant.serializerDir}/${goldenName}`, async () => {
        const golden = (
          await fs.readFile(path.join(REFERENCE, 'serializer-goldens', variant.serializerDir, 'TestSerializer', goldenName), 'utf8')
        )
          .split('\n')
          .filter((l) => l !== '');
        const manifest = await hashFixture(fixture, variant.options);
        const ours = manifest.resources.map((r) => `${r.name}:${r.digest}`);
        expect([...ours].sort()).toEqual([...golden].sort());
        expectCodePointOrder(manifest.resources.map((r) => r.name));
      });

      it(`${fixture}${variant.suffix} statement equals the reference's payload golden`, async () => {
        const golden = JSON.parse(await fs.readFile(path.join(REFERENCE, 'payload-goldens', `${fixture}${variant.suffix}`), 'utf8'));
        const manifest = await hashFixture(fixture, variant.options);
        // The golden's own subject digest is the root over its own order.
        expect(golden.subject[0].digest.sha256).toBe(root(golden.predicate.resources));
        const goldenResources = [...golden.predicate.resources].sort((a: { name: string }, b: { name: string }) => byUtf8(a.name, b.name));
        const expected = {
          ...golden,
          subject: [{ ...golden.subject[0], digest: { sha256: root(goldenResources) } }],
          predicate: { ...golden.predicate, resources: goldenResources },
        };
        // Compare parsed JSON: the reference's key order inside the predicate is random.
        expect(JSON.parse(JSON.stringify(manifestToStatement(manifest)))).toEqual(expected);
      });
    }
  }
});

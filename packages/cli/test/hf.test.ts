import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from '@model-signing/hf-hub/testing';
import { cleanupTempDirs, makeTrickyModel, ours, tempDir, writeKeyPair } from './helpers.js';

// `model-signing hf …` end to end: the real @huggingface/hub client, through
// our CLI, against a Hub-compatible server on loopback.

const TOKEN = 'hf_cli_test_token';
let hub: FakeHub;
let work: string;
let keys: { privateKey: string; publicKey: string };

beforeAll(async () => {
  hub = await FakeHub.start();
  work = await tempDir('oms-cli-hf-');
  keys = await writeKeyPair(work, 'P-256');
});
afterAll(async () => {
  await hub.close();
  await cleanupTempDirs();
});

const hubArgs = () => ['--token', TOKEN, '--endpoint', hub.url];

describe('model-signing hf', () => {
  it('uploads signed, verifies remotely, downloads verified, re-verifies the cache, and refuses a tampered repo', async () => {
    const model = await makeTrickyModel(work);
    const cache = path.join(work, 'cache');
    const upload = await ours([
      'hf',
      'upload',
      'key',
      model,
      'org/tricky',
      '--private-key',
      keys.privateKey,
      '--create-repo',
      ...hubArgs(),
      '--json',
    ]);
    expect(upload.code, upload.stderr).toBe(0);
    expect(JSON.parse(upload.stdout).files).toContain('config.json');
    expect([...hub.files('org/tricky').keys()]).toContain('model.sig');

    const remote = await ours(['hf', 'verify', 'key', 'org/tricky', '--public-key', keys.publicKey, ...hubArgs(), '--json']);
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toMatchObject({ ok: true, bytesChecked: true, metadataOnly: [], unchecked: [] });

    const download = await ours([
      'hf',
      'download',
      'key',
      'org/tricky',
      '--public-key',
      keys.publicKey,
      '--cache-dir',
      cache,
      ...hubArgs(),
    ]);
    expect(download.code, download.stderr).toBe(0);
    const snapshot = download.stdout.trim();
    expect(await fs.readFile(path.join(snapshot, 'config.json'), 'utf8')).toBe(await fs.readFile(path.join(model, 'config.json'), 'utf8'));

    const cached = await ours(['hf', 'verify', 'key', 'org/tricky', '--public-key', keys.publicKey, '--cached', '--cache-dir', cache]);
    expect(cached.code, cached.stderr).toBe(0);

    hub.pushCommit('org/tricky', { put: { 'weights/model-00001-of-00002.safetensors': Buffer.from('A'.repeat(4999) + 'X') } });
    const refused = await ours([
      'hf',
      'download',
      'key',
      'org/tricky',
      '--public-key',
      keys.publicKey,
      '--cache-dir',
      path.join(work, 'cache2'),
      ...hubArgs(),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[DIGEST_MISMATCH]');
    expect(refused.stderr).toContain('weights/model-00001-of-00002.safetensors');
    // Refused before download: not one file of the repo reached the cache.
    const left = await fs.readdir(path.join(work, 'cache2'), { recursive: true, withFileTypes: true }).catch(() => []);
    expect(left.filter((e) => !e.isDirectory()).map((e) => e.name)).toEqual([]);
  });

  it('says which option a method needs (exit 2)', async () => {
    const result = await ours(['hf', 'download', 'key', 'org/tricky', ...hubArgs()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--public-key');
  });

  it('hf verify: exits 0 only when every file was hashed, or with --metadata-only when the hub has a SHA-256 for every file; 3 when it cannot check some', async () => {
    const model = await makeTrickyModel(work, 'metadata-model');
    const upload = await ours([
      'hf',
      'upload',
      'key',
      model,
      'org/metadata',
      '--private-key',
      keys.privateKey,
      '--create-repo',
      ...hubArgs(),
    ]);
    expect(upload.code, upload.stderr).toBe(0);

    const full = await ours(['hf', 'verify', 'key', 'org/metadata', '--public-key', keys.publicKey, ...hubArgs()]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toMatch(/^Verified org\/metadata at commit [0-9a-f]{40}\.\n/);
    // The fake hub stores files of 1 KiB or more in LFS (with a SHA-256), the rest in git.
    const modelFiles = (await fs.readdir(model, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    const names = modelFiles.map((e) => path.relative(model, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
    const sizes = await Promise.all(names.map(async (n) => (await fs.stat(path.join(model, n))).size));
    const inGit = names.filter((_, i) => sizes[i] < 1024).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(inGit.length).toBeGreaterThan(0);
    expect(inGit.length).toBeLessThan(names.length);
    expect(full.stdout).toContain(`All ${names.length} files were downloaded, hashed and match the signature`);

    // Small files are stored in git, without a SHA-256: --metadata-only cannot vouch for them.
    const partial = await ours(['hf', 'verify', 'key', 'org/metadata', '--public-key', keys.publicKey, '--metadata-only', ...hubArgs()]);
    expect(partial.code, partial.stderr).toBe(3);
    expect(partial.stdout).toMatch(/^Metadata check incomplete for org\/metadata/);
    expect(partial.stdout).toContain('No file bytes were downloaded, so this does not prove the hub serves those bytes.');
    expect(partial.stdout).toContain(
      `${inGit.length} files could not be checked (the hub has no SHA-256 for them):\n${inGit.map((n) => `  ${n}\n`).join('')}`,
    );
    const partialJson = JSON.parse(
      (await ours(['hf', 'verify', 'key', 'org/metadata', '--public-key', keys.publicKey, '--metadata-only', ...hubArgs(), '--json']))
        .stdout,
    );
    expect(partialJson).toMatchObject({ ok: false, bytesChecked: false });
    expect(partialJson.unchecked).toContain('config.json');

    // Bytes that differ from honest-looking metadata: only the default check sees them.
    const weight = 'weights/model-00001-of-00002.safetensors';
    const lfsHub = await FakeHub.start({ lfsThreshold: 0 });
    try {
      const args = ['--token', TOKEN, '--endpoint', lfsHub.url];
      expect(
        (await ours(['hf', 'upload', 'key', model, 'org/all-lfs', '--private-key', keys.privateKey, '--create-repo', ...args])).code,
      ).toBe(0);
      lfsHub.replaceBytesKeepingMetadata('org/all-lfs', weight, Buffer.from('A'.repeat(4999) + 'X'));
      const metadataOnly = await ours(['hf', 'verify', 'key', 'org/all-lfs', '--public-key', keys.publicKey, '--metadata-only', ...args]);
      expect(metadataOnly.code, metadataOnly.stderr).toBe(0);
      expect(metadataOnly.stdout).toMatch(/^Metadata check passed for org\/all-lfs/);
      expect(metadataOnly.stdout).toContain('does not prove the hub serves those bytes');
      const bytes = await ours(['hf', 'verify', 'key', 'org/all-lfs', '--public-key', keys.publicKey, ...args]);
      expect(bytes.code).toBe(1);
      expect(bytes.stderr).toContain('[DIGEST_MISMATCH]');
      expect(bytes.stderr).toContain(weight);
    } finally {
      await lfsHub.close();
    }
  });

  it('hf download --include fetches only the selected signed files, and refuses a name the signature does not cover', async () => {
    const model = await makeTrickyModel(work, 'include-model');
    expect(
      (await ours(['hf', 'upload', 'key', model, 'org/include', '--private-key', keys.privateKey, '--create-repo', ...hubArgs()])).code,
    ).toBe(0);
    const cache = path.join(work, 'cache-include');
    const base = ['hf', 'download', 'key', 'org/include', '--public-key', keys.publicKey, '--cache-dir', cache, ...hubArgs()];
    const result = await ours([...base, '--include', 'config.json', 'weights/*-00002-*', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).downloaded).toEqual(['config.json', 'weights/model-00002-of-00002.safetensors']);
    const missing = await ours([...base, '--include', 'model.onnx']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("[MISSING_FILE]: No signed file of the repo matches 'model.onnx'");
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadVerifiedModel, uploadSignedModel } from '../src/index.js';
import { FakeHub } from '../src/testing.js';
import { TOKEN, keyPair, tempDir, removeTempDirs } from './helpers.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
/** Growth allowed during the download: well below the file size, so buffering it (or a large part) fails. */
const MAX_GROWTH = 64 * MiB;

/** Writes `size` bytes of non-repeating data (a fresh random block per MiB) without holding them in memory. */
async function writeLargeFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fs.open(file, 'w');
  try {
    for (let written = 0; written < size; written += MiB) {
      const block = randomBytes(MiB);
      hash.update(block);
      await handle.write(block);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('a 256 MiB model', () => {
  let hub: FakeHub;
  let modelDir: string;

  beforeAll(async () => {
    hub = await FakeHub.start({ token: TOKEN });
    modelDir = await tempDir('large');
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  it('downloads and verifies with memory that does not grow with the file size', async () => {
    const keys = await keyPair();
    const digest = await writeLargeFile(path.join(modelDir, 'model.safetensors'), SIZE);
    await fs.writeFile(path.join(modelDir, 'config.json'), '{"hidden_size": 4096}');
    hub.createRepo('org/large');
    await uploadSignedModel({ repo: 'org/large', modelPath: modelDir, signer: keys.signer, hubUrl: hub.url, accessToken: TOKEN });
    expect(hub.files('org/large').get('model.safetensors')!.lfs!.oid).toBe(digest);

    const cacheDir = await tempDir('cache');
    try {
      // The hub's copy of the file is already in this process's memory; measure only what the download adds.
      const baseline = process.memoryUsage();
      let peakRss = baseline.rss;
      let peakArrayBuffers = baseline.arrayBuffers;
      const sample = () => {
        const now = process.memoryUsage();
        peakRss = Math.max(peakRss, now.rss);
        peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
      };
      const timer = setInterval(sample, 5);
      let progressEvents = 0;
      const result = await downloadVerifiedModel({
        repo: 'org/large',
        verifier: keys.verifier,
        cacheDir,
        hubUrl: hub.url,
        accessToken: TOKEN,
        onProgress: (p) => {
          if (p.phase === 'downloading' && ++progressEvents % 64 === 0) sample();
        },
      }).finally(() => clearInterval(timer));
      sample();

      expect(result.downloaded).toEqual(['config.json', 'model.safetensors']);
      expect(hub.bytesServed('org/large', 'model.safetensors')).toBeGreaterThanOrEqual(SIZE);
      expect(await sha256File(path.join(result.snapshotPath, 'model.safetensors'))).toBe(digest);
      const growth = { rss: peakRss - baseline.rss, arrayBuffers: peakArrayBuffers - baseline.arrayBuffers };
      console.log(
        `download of ${SIZE / MiB} MiB: peak growth rss ${(growth.rss / MiB).toFixed(1)} MiB, arrayBuffers ${(growth.arrayBuffers / MiB).toFixed(1)} MiB`,
      );
      expect(growth.rss).toBeLessThan(MAX_GROWTH);
      expect(growth.arrayBuffers).toBeLessThan(MAX_GROWTH);
    } finally {
      await fs.rm(cacheDir, { recursive: true, force: true });
    }
  }, 180_000);
});

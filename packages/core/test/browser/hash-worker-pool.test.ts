/**
 * The Web Worker hashing pool in headless Chromium: every file's digest
 * equals node:crypto's / native BLAKE3's whatever the pool size, from URLs and
 * from Blobs, and every failure is a coded error, never a hang.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HashAlgorithm } from '../../dist/browser.js';
import { startBrowser, type BrowserHarness } from './harness.js';

function reference(algorithm: HashAlgorithm, data: Uint8Array): string {
  if (algorithm !== 'blake3')
    return createHash(algorithm === 'sha256' ? 'sha256' : 'blake2b512')
      .update(data)
      .digest('hex');
  const h = new Blake3Hasher();
  h.update(data);
  return h.digestBuffer().toString('hex');
}

// Sizes around the stream chunking, plus an empty file.
const FILES = [0, 1, 65_535, 65_537, 1_000_003, 2 * 1024 * 1024, 333, 4_000_000].map((size, i) => [`f${i}`, randomBytes(size)] as const);
const NAMES = FILES.map(([name]) => name);

describe('hash worker pool in headless Chromium', () => {
  let browser: BrowserHarness;
  beforeAll(async () => {
    const page = (f: string) => new URL(f, import.meta.url).pathname;
    browser = await startBrowser({ entry: page('./page/worker-page.ts'), extraEntries: [page('../../src/browser/hash-worker.ts')] });
    for (const [name, bytes] of FILES) browser.serve(name, bytes);
  });
  afterAll(() => browser?.close());

  for (const algorithm of ['sha256', 'blake2b', 'blake3'] as const) {
    it(`${algorithm}: same digests as Node with 1, 2 and 3 workers, from URLs, Blobs and ArrayBuffers`, async () => {
      const expected = FILES.map(([, bytes]) => reference(algorithm, bytes));
      for (const workers of [1, 2, 3]) {
        expect(await browser.call('hashUrls', NAMES, algorithm, workers), `urls, ${workers} workers`).toEqual(expected);
        expect(await browser.call('hashBlobs', NAMES, algorithm, workers), `blobs, ${workers} workers`).toEqual(expected);
        expect(await browser.call('hashBuffers', NAMES, algorithm, workers), `buffers, ${workers} workers`).toEqual({
          digests: expected,
          detached: NAMES.map(() => true),
        });
      }
    });
  }

  it('reports failures with codes and never hangs', async () => {
    expect(await browser.call('failures')).toEqual({
      missingUrl: 'NETWORK_ERROR',
      closedWhileQueued: 'ABORTED,ABORTED',
      afterClose: 'ABORTED',
      zeroWorkers: 'INVALID_ARGUMENT',
      workerDoesNotLoad: 'ABORTED',
      bufferFirstUse: 'ok',
      bufferSecondUse: 'INVALID_ARGUMENT',
      bufferAfterwards: '039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81',
    });
  });
});

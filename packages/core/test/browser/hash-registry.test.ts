/**
 * The runtime-neutral hash registry gives the same digests as node:crypto
 * and the native BLAKE3 binding, in headless Chromium and in Node, for bytes
 * fed in odd chunk sizes, streamed from a response, hashed in one go (WebCrypto
 * for sha256), and for empty input.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HashAlgorithm } from '../../dist/browser.js';
import { HASH_ALGORITHMS, hashAlgorithm, hashStream } from '../../dist/internal.js';
import { startBrowser, type BrowserHarness } from './harness.js';

const ALGORITHMS: HashAlgorithm[] = ['sha256', 'blake2b', 'blake3'];
// Odd sizes straddle the 64- and 128-byte blocks and the 1 KiB BLAKE3 chunks.
const CHUNKS = [1, 7, 63, 64, 65, 127, 129, 1023, 1025, 4097, 65_537];

function reference(algorithm: HashAlgorithm, data: Uint8Array): string {
  if (algorithm === 'blake3') {
    const h = new Blake3Hasher();
    h.update(data);
    return h.digestBuffer().toString('hex');
  }
  return createHash(algorithm === 'sha256' ? 'sha256' : 'blake2b512')
    .update(data)
    .digest('hex');
}

const samples: Record<string, Uint8Array> = {
  empty: new Uint8Array(0),
  one: randomBytes(1),
  small: randomBytes(1000),
  large: randomBytes(3 * 1024 * 1024 + 17),
};

describe('hash registry in Node', () => {
  it('declares the digest sizes its hashers return', async () => {
    for (const name of ALGORITHMS) {
      const spec = hashAlgorithm(name);
      expect(spec.name).toBe(name);
      expect((await spec.create()).digest().length).toBe(spec.digestBytes);
    }
    expect([HASH_ALGORITHMS.sha256.digestBytes, HASH_ALGORITHMS.blake2b.digestBytes, HASH_ALGORITHMS.blake3.digestBytes]).toEqual([
      32, 64, 32,
    ]);
  });

  for (const name of ALGORITHMS) {
    it(`${name} matches the native digest in odd chunks and streamed`, async () => {
      for (const [label, data] of Object.entries(samples)) {
        const hasher = await hashAlgorithm(name).create();
        for (let offset = 0, i = 0; offset < data.length; offset += CHUNKS[i % CHUNKS.length], i++) {
          hasher.update(data.subarray(offset, offset + CHUNKS[i % CHUNKS.length]));
        }
        expect(hasher.digestHex(), label).toBe(reference(name, data));
        const streamed = await hashStream(name, Readable.from([data.subarray(0, 5), data.subarray(5)]));
        expect(Buffer.from(streamed).toString('hex'), label).toBe(reference(name, data));
        expect(Buffer.from(await hashAlgorithm(name).digestOnce(data)).toString('hex'), label).toBe(reference(name, data));
        // WebCrypto refuses SharedArrayBuffer views; digestOnce must still hash them.
        const shared = new Uint8Array(new SharedArrayBuffer(data.length));
        shared.set(data);
        expect(Buffer.from(await hashAlgorithm(name).digestOnce(shared)).toString('hex'), label).toBe(reference(name, data));
      }
    });
  }

  it('refuses an unknown algorithm and a second digest', async () => {
    expect(() => hashAlgorithm('md5')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => hashAlgorithm('toString')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const hasher = await hashAlgorithm('sha256').create();
    hasher.digest();
    expect(() => hasher.update(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => hasher.digest()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('hash registry in headless Chromium', () => {
  let browser: BrowserHarness;
  beforeAll(async () => {
    browser = await startBrowser({ entry: new URL('./page/hash-page.ts', import.meta.url).pathname });
    for (const [label, data] of Object.entries(samples)) browser.serve(label, data);
  });
  afterAll(() => browser?.close());

  it('declares the digest sizes its hashers return', async () => {
    expect(await browser.call('digestSizes')).toEqual({ sha256: [32, 32], blake2b: [64, 64], blake3: [32, 32] });
  });

  for (const name of ALGORITHMS) {
    it(`${name} matches the native digest in odd chunks and streamed from fetch`, async () => {
      for (const [label, data] of Object.entries(samples)) {
        expect(await browser.call<string>('hashInChunks', label, name, CHUNKS), label).toBe(reference(name, data));
        expect(await browser.call<string>('hashFetched', label, name), label).toBe(reference(name, data));
        expect(await browser.call<string>('digestOnce', label, name), label).toBe(reference(name, data));
        // In a browser the checker gets hash-wasm hashers, not its @noble/hashes default.
        expect(await browser.call<string[] | null>('hashWithCheckerSource', label, name, CHUNKS), label).toEqual([
          reference(name, data),
          reference(name, data),
        ]);
      }
    });
  }
});

/**
 * Browser hashing benchmark (docs/benchmarks.md, "Browser hashing"): MB/s of
 * hash-wasm, @noble/hashes and WebCrypto's one-shot digest in headless
 * Chromium, against node:crypto / native BLAKE3 (and the same two libraries)
 * in Node, on the same random bytes. Every library must produce the same
 * digest, or the run fails. Best of N rounds, because the machine is shared.
 * Then MB/s of the Web Worker pool hashing several in-memory Blobs with 1
 * and with 2 workers (the speed-up two cores give).
 *
 * Run: node test/browser/run-hash-bench.mjs [--mib 64] [--rounds 5] [--files 4]   (from packages/core)
 */
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { blake2b } from '@noble/hashes/blake2.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { HASH_ALGORITHMS, type HashAlgorithmName } from '../../src/browser.js';
import { startBrowser } from './harness.js';

type Hasher = { update(data: Uint8Array): unknown; digest(): Uint8Array };
const CHUNK = 1024 * 1024;

const NODE_LIBRARIES: Record<string, (algorithm: HashAlgorithmName) => Promise<Hasher>> = {
  'node:crypto / napi': async (algorithm) => {
    if (algorithm === 'blake3') {
      const h = new Blake3Hasher();
      return { update: (d) => h.update(d), digest: () => h.digestBuffer() };
    }
    const h = createHash(algorithm === 'sha256' ? 'sha256' : 'blake2b512');
    return { update: (d) => h.update(d), digest: () => h.digest() };
  },
  'hash-wasm': (algorithm) => HASH_ALGORITHMS[algorithm].create(),
  noble: async (algorithm) => ({ sha256: () => sha256.create(), blake2b: () => blake2b.create({ dkLen: 64 }), blake3: () => blake3.create() })[algorithm](),
};

async function benchNode(make: (a: HashAlgorithmName) => Promise<Hasher>, algorithm: HashAlgorithmName, bytes: Uint8Array, rounds: number) {
  let best = Infinity;
  let digest = '';
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const hasher = await make(algorithm);
    for (let offset = 0; offset < bytes.length; offset += CHUNK) hasher.update(bytes.subarray(offset, offset + CHUNK));
    digest = Buffer.from(hasher.digest()).toString('hex');
    best = Math.min(best, performance.now() - start);
  }
  return { mbps: bytes.length / 1e6 / (best / 1000), digest };
}

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '64' }, rounds: { type: 'string', default: '5' }, files: { type: 'string', default: '4' } },
});
const mib = Number(values.mib);
const rounds = Number(values.rounds);
const files = Number(values.files);
const bytes = randomBytes(mib * 1024 * 1024);
const page = (f: string) => new URL(f, import.meta.url).pathname;
const browser = await startBrowser({ entry: page('./page/bench-page.ts'), extraEntries: [page('../../src/format/hash-worker.ts')] });
const workerRows: string[] = [];
const rows: string[] = [];
let mismatch = false;
try {
  browser.serve('data', bytes);
  const browserVersion = browser.page.context().browser()?.version() ?? (await browser.page.evaluate(() => navigator.userAgent));
  console.log(`${mib} MiB random, 1 MiB chunks, best of ${rounds}; Node ${process.version}; ${browserVersion}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const algorithm of ['sha256', 'blake2b', 'blake3'] as const) {
    const expected = (await benchNode(NODE_LIBRARIES['node:crypto / napi']!, algorithm, bytes, 1)).digest;
    const results: [string, string, { mbps: number; digest: string }][] = [];
    for (const [name, make] of Object.entries(NODE_LIBRARIES)) results.push(['Node', name, await benchNode(make, algorithm, bytes, rounds)]);
    for (const library of ['hash-wasm', 'noble', ...(algorithm === 'sha256' ? ['webcrypto'] : [])]) {
      results.push(['Chromium', library === 'webcrypto' ? 'WebCrypto digest (one-shot)' : library, await browser.call('bench', 'data', library, algorithm, rounds)]);
    }
    for (const [runtime, library, result] of results) {
      if (result.digest !== expected) mismatch = true;
      rows.push(`| ${algorithm} | ${runtime} | ${library} | ${result.mbps.toFixed(0)} |${result.digest === expected ? '' : ' DIGEST MISMATCH'}`);
    }
  }
  const perFile = Math.max(1, mib / files);
  for (const algorithm of ['sha256', 'blake2b', 'blake3'] as const) {
    const mbps: number[] = [];
    for (const workers of [1, 2]) {
      mbps.push(await browser.call<number>('benchWorkers', algorithm, files, perFile, workers, rounds));
    }
    workerRows.push(`| ${algorithm} | ${mbps[0]!.toFixed(0)} | ${mbps[1]!.toFixed(0)} | ${(mbps[1]! / mbps[0]!).toFixed(2)}× |`);
  }
} finally {
  await browser.close();
}
console.log(['| algorithm | runtime | library | MB/s |', '|---|---|---|---:|', ...rows].join('\n'));
console.log(`\nWeb Worker pool, ${files} in-memory Blobs of ${Math.max(1, mib / files)} MiB, hash-wasm, best of ${rounds}:`);
console.log(['| algorithm | 1 worker MB/s | 2 workers MB/s | speed-up |', '|---|---:|---:|---:|', ...workerRows].join('\n'));
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (mismatch) {
  console.error('A library produced a different digest');
  process.exitCode = 1;
}

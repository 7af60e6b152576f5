/**
 * Browser hashing benchmark (docs/benchmarks.md, "Browser hashing"): MB/s of
 * hash-wasm, @noble/hashes and WebCrypto's one-shot digest in headless
 * Chromium, against node:crypto / native BLAKE3 (and the same two libraries)
 * in Node, on the same random bytes. Every library must produce the same
 * digest, or the run fails. Best of N rounds, because the machine is shared.
 * Then MB/s of the Web Worker pool hashing several in-memory Blobs with 1
 * and with 2 workers (the speed-up two cores give).
 *
 * Run: node test/browser/run-hash-bench.mjs [--mib 64] [--rounds 5] [--files 4] [--write-docs]
 * (from packages/core). --write-docs replaces the "Browser hashing" section
 * of docs/benchmarks.md with this run (scripts/bench/run.mjs keeps it).
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { blake2b } from '@noble/hashes/blake2.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { type HashAlgorithm } from '../../src/browser.js';
import { HASH_ALGORITHMS } from '../../src/internal.js';
import { startBrowser } from './harness.js';

type Hasher = { update(data: Uint8Array): unknown; digest(): Uint8Array };
const CHUNK = 1024 * 1024;

const NODE_LIBRARIES: Record<string, (algorithm: HashAlgorithm) => Promise<Hasher>> = {
  'node:crypto / napi': async (algorithm) => {
    if (algorithm === 'blake3') {
      const h = new Blake3Hasher();
      return { update: (d) => h.update(d), digest: () => h.digestBuffer() };
    }
    const h = createHash(algorithm === 'sha256' ? 'sha256' : 'blake2b512');
    return { update: (d) => h.update(d), digest: () => h.digest() };
  },
  'hash-wasm': (algorithm) => HASH_ALGORITHMS[algorithm].create(),
  noble: async (algorithm) =>
    ({ sha256: () => sha256.create(), blake2b: () => blake2b.create({ dkLen: 64 }), blake3: () => blake3.create() })[algorithm](),
};

async function benchNode(make: (a: HashAlgorithm) => Promise<Hasher>, algorithm: HashAlgorithm, bytes: Uint8Array, rounds: number) {
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
  options: {
    mib: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '5' },
    files: { type: 'string', default: '4' },
    // The pool's jobs must be long enough that starting them does not dominate: 4 × 64 MiB.
    'pool-mib': { type: 'string', default: '256' },
    'write-docs': { type: 'boolean', default: false },
  },
});
const mib = Number(values.mib);
const rounds = Number(values.rounds);
const files = Number(values.files);
const perFile = Math.max(1, Number(values['pool-mib']) / files);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
const bytes = randomBytes(mib * 1024 * 1024);
const page = (f: string) => new URL(f, import.meta.url).pathname;
const browser = await startBrowser({ entry: page('./page/bench-page.ts'), extraEntries: [page('../../src/browser/hash-worker.ts')] });
const loadBefore = load();
const chromium = browser.page.context().browser()?.version() ?? (await browser.page.evaluate(() => navigator.userAgent));
const rows: string[] = [];
const workerRows: string[] = [];
const speedups: number[] = [];
const fastest: string[] = [];
let mismatch = false;
try {
  browser.serve('data', bytes);
  for (const algorithm of ['sha256', 'blake2b', 'blake3'] as const) {
    const expected = (await benchNode(NODE_LIBRARIES['node:crypto / napi'], algorithm, bytes, 1)).digest;
    const results: [string, string, { mbps: number; digest: string }][] = [];
    for (const [name, make] of Object.entries(NODE_LIBRARIES))
      results.push(['Node', name, await benchNode(make, algorithm, bytes, rounds)]);
    for (const library of ['hash-wasm', 'noble', ...(algorithm === 'sha256' ? ['webcrypto'] : [])]) {
      results.push([
        'Chromium',
        library === 'webcrypto' ? 'WebCrypto digest (one-shot, whole buffer)' : library,
        await browser.call('bench', 'data', library, algorithm, rounds),
      ]);
    }
    for (const [runtime, library, result] of results) {
      if (result.digest !== expected) mismatch = true;
      rows.push(
        `| ${algorithm} | ${runtime} | ${library} | ${result.mbps.toFixed(0)} |${result.digest === expected ? '' : ' DIGEST MISMATCH'}`,
      );
    }
    const incremental = results.filter(([runtime, library]) => runtime === 'Chromium' && !library.startsWith('WebCrypto'));
    fastest.push(`${algorithm}: ${incremental.reduce((a, b) => (b[2].mbps > a[2].mbps ? b : a))[1]}`);
  }
  for (const algorithm of ['sha256', 'blake2b', 'blake3'] as const) {
    for (const kind of ['blob', 'buffer'] as const) {
      const mbps: number[] = [];
      for (const workers of [1, 2]) mbps.push(await browser.call<number>('benchWorkers', algorithm, files, perFile, workers, rounds, kind));
      if (kind === 'buffer') speedups.push(mbps[1] / mbps[0]);
      workerRows.push(
        `| ${algorithm} | ${kind === 'blob' ? 'Blob' : 'ArrayBuffer'} | ${mbps[0].toFixed(0)} | ${mbps[1].toFixed(0)} | ${(mbps[1] / mbps[0]).toFixed(2)}× |`,
      );
    }
  }
} finally {
  await browser.close();
}

const section = `## Browser hashing

Written by \`node test/browser/run-hash-bench.mjs --write-docs\` (from
packages/core); \`pnpm bench\` keeps this section as it is.

Run of ${new Date().toISOString()}: ${mib} MiB of random bytes fed in 1 MiB
chunks, best of ${rounds} runs; Node ${process.version}, headless Chromium
${chromium} (Debian), ${os.cpus().length} cores. Load average ${loadBefore} before and ${load()} after
(the 1-minute figure counts this benchmark's own Chromium); on a machine shared with
other work the figures are lower and noisier, so compare rows with each other, not
with the tables above. MB/s = 10^6 bytes per second.
Every library gave the same digest as node:crypto / @napi-rs/blake-hash${mismatch ? ' **except where marked**' : ''}.

| algorithm | runtime | library | MB/s |
|---|---|---|---:|
${rows.join('\n')}

Fastest incremental library in Chromium in this run: ${fastest.join(', ')}.

What \`@model-signing/core/browser\` uses (packages/core/src/format/hash-registry.ts):

- **Bytes streamed** (a download, a Blob, a cache entry): hash-wasm for every
  algorithm, fed as the bytes arrive. WebCrypto cannot hash incrementally, and
  @noble/hashes (pure JavaScript) is several times slower.
- **Bytes already whole in memory**: \`digestOnce\`, which takes WebCrypto's
  native one-shot SHA-256 where the platform has it (several times faster than
  any incremental SHA-256 in the page) and hash-wasm for blake2b and blake3,
  which WebCrypto does not offer.
- Node keeps node:crypto and the native BLAKE3 binding (the Node rows): the
  registry is only for code that must run in a browser.

Web Worker pool (\`createHashWorkerPool\`), ${files} sources of ${perFile} MiB each, hashed
with hash-wasm in module workers, best of ${rounds}: in-memory Blobs (each worker
streams its Blob with \`Blob.stream()\`) and ArrayBuffers handed to the workers
(transferred, no copy):

| algorithm | source | 1 worker MB/s | 2 workers MB/s | speed-up |
|---|---|---:|---:|---:|
${workerRows.join('\n')}

The target is ≥ 1.8× with two workers on two cores. For bytes in memory
handed over as ArrayBuffers it is ${speedups.every((x) => x >= 1.8) ? 'met in this run' : 'not met in this run'} (${speedups.map((x) => `${x.toFixed(2)}×`).join(', ')}).
A Blob is read through \`Blob.stream()\`, which the browser process serves over
IPC on the same two cores, so with two workers the hashing shares the cores
with that reading, and the faster the hash the more the reading weighs; the
Blob rows show that cost. Runs here vary by several tenths from one to the
next; on a loaded machine the speed-up also measures how much CPU other work left.
`;
console.log(section);
if (mismatch) {
  console.error('A library produced a different digest');
  process.exitCode = 1;
} else if (values['write-docs']) {
  const docs = new URL('../../../../docs/benchmarks.md', import.meta.url);
  const text = fs.readFileSync(docs, 'utf8');
  const start = text.indexOf('\n## Browser hashing\n');
  fs.writeFileSync(docs, `${start < 0 ? text.trimEnd() : text.slice(0, start).trimEnd()}\n\n${section}`);
  console.log(`Wrote the Browser hashing section of ${docs.pathname}`);
}

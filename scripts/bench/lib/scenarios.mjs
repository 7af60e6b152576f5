// The synthetic models of the benchmark and how to generate them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DATASET_FULL_SIZES, DATASET_SMOKE_SIZES, datasetScenarios } from './datasets.mjs';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Default sizes: what the issues ask for; a full run takes about 25 minutes on 2 cores, re-signing and datasets included. */
export const FULL_SIZES = {
  largeFiles: { count: 4, bytes: GiB },
  hugeFile: { bytes: 4 * GiB },
  manySmall: { count: 20_000, bytes: 4096 },
  hubLike: { count: 3, bytes: 1_500_000_000 },
  shardSize: 1_000_000_000,
  // Peak memory is shown at two sizes: large-files again at a quarter of its size.
  memoryFraction: 0.25,
  datasets: DATASET_FULL_SIZES,
};

/** Tiny sizes for CI: every code path, a few seconds of hashing. */
export const SMOKE_SIZES = {
  largeFiles: { count: 4, bytes: 8 * MiB },
  hugeFile: { bytes: 40 * MiB },
  manySmall: { count: 300, bytes: 4096 },
  hubLike: { count: 3, bytes: 12_000_000 },
  shardSize: 16_000_000,
  memoryFraction: 0.25,
  datasets: DATASET_SMOKE_SIZES,
};

/**
 * What each scenario measures. `limit` is the machine-limit comparator:
 * `cores` = openssl on every core, `one-core` = one openssl process (a file's
 * sha256 is one sequential computation), `none` = no openssl equivalent.
 */
function variantsFor(name) {
  const filesSha256 = { id: 'files-sha256', method: 'files', hash: 'sha256', limit: 'cores' };
  if (name === 'one-huge-file') {
    return [
      { ...filesSha256, limit: 'one-core' },
      { id: 'shards-sha256', method: 'shards', hash: 'sha256', limit: 'cores' },
      { id: 'files-blake3', method: 'files', hash: 'blake3', limit: 'none' },
    ];
  }
  return [filesSha256];
}

/** The scenarios for the given sizes, each with its file list (model-relative path, size). */
export function defineScenarios(sizes) {
  const scenarios = [];
  scenarios.push({
    name: 'large-files',
    description: `${sizes.largeFiles.count} files × ${formatBytes(sizes.largeFiles.bytes)}`,
    files: Array.from({ length: sizes.largeFiles.count }, (_, i) => ({ path: `weights-${i + 1}.bin`, bytes: sizes.largeFiles.bytes })),
  });
  scenarios.push({
    name: 'one-huge-file',
    description: `1 file × ${formatBytes(sizes.hugeFile.bytes)}`,
    files: [{ path: 'model.bin', bytes: sizes.hugeFile.bytes }],
  });
  scenarios.push({
    name: 'many-small',
    description: `${sizes.manySmall.count.toLocaleString('en-US')} files × ${formatBytes(sizes.manySmall.bytes)}, nested 3 levels`,
    files: Array.from({ length: sizes.manySmall.count }, (_, i) => ({
      path: `layer-${String(i % 20).padStart(2, '0')}/block-${String(Math.floor(i / 20) % 20).padStart(2, '0')}/part-${String(i).padStart(6, '0')}.bin`,
      bytes: sizes.manySmall.bytes,
    })),
  });
  const hub = sizes.hubLike;
  const shards = Array.from({ length: hub.count }, (_, i) => ({
    path: `model-${String(i + 1).padStart(5, '0')}-of-${String(hub.count).padStart(5, '0')}.safetensors`,
    bytes: hub.bytes,
  }));
  scenarios.push({
    name: 'hub-like',
    description: `config and tokenizer files + ${hub.count} × ${formatBytes(hub.bytes)} weights`,
    files: [
      { path: 'config.json', bytes: 700, text: true },
      { path: 'generation_config.json', bytes: 180, text: true },
      { path: 'tokenizer.json', bytes: 2_100_000, text: true },
      { path: 'tokenizer_config.json', bytes: 50_000, text: true },
      { path: 'special_tokens_map.json', bytes: 400, text: true },
      { path: 'README.md', bytes: 5_000, text: true },
      { path: 'model.safetensors.index.json', bytes: 24_000, text: true },
      ...shards,
    ],
  });
  for (const s of scenarios) s.variants = variantsFor(s.name);
  const memory = sizes.memoryFraction;
  scenarios.push({
    name: 'large-files-small',
    description: `${sizes.largeFiles.count} files × ${formatBytes(Math.round(sizes.largeFiles.bytes * memory))} (large-files at ${memory}× size, for peak memory)`,
    files: Array.from({ length: sizes.largeFiles.count }, (_, i) => ({
      path: `weights-${i + 1}.bin`,
      bytes: Math.round(sizes.largeFiles.bytes * memory),
    })),
    variants: [{ id: 'files-sha256', method: 'files', hash: 'sha256', limit: 'skip', oursOnly: true }],
  });
  scenarios.push(...datasetScenarios(sizes.datasets, formatBytes));
  for (const s of scenarios) s.totalBytes = s.files.reduce((sum, f) => sum + f.bytes, 0);
  return scenarios;
}

/** "1 GiB", "1.5 GB", "4 KiB": binary units for powers of two, decimal otherwise. */
export function formatBytes(bytes) {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', 1024],
  ]) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  for (const [unit, size] of [
    ['GB', 1e9],
    ['MB', 1e6],
    ['kB', 1e3],
  ]) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}

const WRITE_CHUNK = 8 * MiB;

/** Writes `bytes` pseudo-random bytes (an AES-CTR key stream: incompressible, fast to make). */
function writeRandomFile(file, bytes) {
  const cipher = crypto.createCipheriv('aes-128-ctr', crypto.randomBytes(16), crypto.randomBytes(16));
  const zeros = Buffer.alloc(Math.min(WRITE_CHUNK, Math.max(bytes, 1)));
  const fd = fs.openSync(file, 'w');
  try {
    for (let written = 0; written < bytes;) {
      const n = Math.min(zeros.length, bytes - written);
      fs.writeSync(fd, cipher.update(zeros.subarray(0, n)));
      written += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A JSON-ish text file of the given size, like a config or a tokenizer. */
function writeTextFile(file, bytes) {
  const words = crypto.randomBytes(Math.ceil(bytes / 2)).toString('base64url');
  const body = `{"vocab": "${words}"}\n`;
  fs.writeFileSync(file, body.length >= bytes ? body.slice(0, bytes - 2) + '"}' : body.padEnd(bytes, ' '));
}

/**
 * Makes sure `dir` holds exactly the scenario's files. A stamp file beside
 * the model records the layout, so a second run reuses the data.
 */
export function ensureScenarioData(scenario, dir) {
  const stamp = `${dir}.layout.json`;
  const layout = JSON.stringify(scenario.files.map((f) => [f.path, f.bytes]));
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === layout) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(stamp, { force: true });
  const small = Buffer.alloc(64 * 1024);
  for (const f of scenario.files) {
    const file = path.join(dir, f.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (f.text) writeTextFile(file, f.bytes);
    else if (f.bytes <= small.length) fs.writeFileSync(file, crypto.randomFillSync(small, 0, f.bytes).subarray(0, f.bytes));
    else writeRandomFile(file, f.bytes);
  }
  fs.writeFileSync(stamp, layout);
  return true;
}

/**
 * Reads every file of the model once so its bytes are in the page cache:
 * every tool then hashes from memory, and the benchmark compares hashing,
 * not the disk.
 */
export function warmPageCache(dir, scenario) {
  const buffer = Buffer.allocUnsafe(4 * MiB);
  for (const f of scenario.files) {
    const fd = fs.openSync(path.join(dir, f.path), 'r');
    try {
      while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      fs.closeSync(fd);
    }
  }
}

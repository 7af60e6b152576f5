import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RACY_MARGIN_MS } from '@model-signing/core/internal/node';
import { REPO_ROOT, cleanupTempDirs, ours, reference, tempDir, writeKeyPair, type RunResult } from './helpers.js';

// The memory-map finding of issue 20, for real: a process keeps a shared
// writable map of a weight file (as numpy.memmap does) and writes into a page
// it has already dirtied. Linux moves the file's times only for the first
// write to a clean page, so the second write changes the bytes and no time.
// The record must not vouch for a file whose pages may still be dirty (times
// younger than the writeback bound when the record was written): verify
// --trust-cache reads it and fails, sign --incremental hashes it again. Real
// clock, real kernel, real CLI; the library test (core/test/incremental.test.ts)
// moves the clock to test the bound itself.

const WRITER = path.join(REPO_ROOT, 'test-fixtures/mmap_writer.py');
const WEIGHTS_SIZE = 4 * 1024 * 1024;
const OFFSET = 1_000_000;

let work: string;
let savedCache: string | undefined;
beforeAll(async () => {
  work = await tempDir('oms-incr-mmap-');
  // Children inherit it: the records go to a cache of this test only.
  savedCache = process.env['XDG_CACHE_HOME'];
  process.env['XDG_CACHE_HOME'] = path.join(work, 'cache');
});
afterAll(async () => {
  if (savedCache === undefined) delete process.env['XDG_CACHE_HOME'];
  else process.env['XDG_CACHE_HOME'] = savedCache;
  await cleanupTempDirs();
});

function ok(result: RunResult, what: string): RunResult {
  expect(result.code, `${what}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
  return result;
}

/** A python3 process holding one shared writable map of `file`, writing a byte through it on request. */
async function mapWriter(file: string): Promise<{ write(offset: number, byte: number): Promise<void>; close(): Promise<void> }> {
  const child: ChildProcessWithoutNullStreams = spawn('python3', [WRITER, file]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const expectLine = async (want: string) => {
    const { value, done } = await lines.next();
    if (done || value !== want) throw new Error(`mmap writer: expected '${want}', got '${String(value)}'; stderr: ${stderr}`);
  };
  await expectLine('ready');
  return {
    async write(offset, byte) {
      child.stdin.write(`write ${offset} ${byte}\n`);
      await expectLine('written');
    },
    async close() {
      child.stdin.end('exit\n');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const times = async (file: string) => {
  const s = await fs.stat(file, { bigint: true });
  return { mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
};

describe.runIf(process.platform === 'linux')('a write through a memory map into a page that is already dirty', () => {
  it('is read and caught by verify --trust-cache, and hashed again by sign --incremental', async () => {
    const model = path.join(work, 'model');
    await fs.mkdir(model);
    await fs.writeFile(path.join(model, 'README.md'), '# card\n');
    await fs.writeFile(path.join(model, 'config.json'), '{"hidden": 8}');
    const weights = path.join(model, 'weights.bin');
    await fs.writeFile(weights, Buffer.alloc(WEIGHTS_SIZE, 0x11));
    const keys = await writeKeyPair(work, 'P-256');
    const sig = path.join(work, 'model.sig');
    const signArgs = ['sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig];
    const verifyArgs = ['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey];

    const writer = await mapWriter(weights);
    try {
      // The first write dirties a clean page: the times move now.
      await writer.write(OFFSET, 0x22);
      // Older than the 2 s racy margin that was the whole rule before: that record vouched for it.
      await new Promise((r) => setTimeout(r, RACY_MARGIN_MS + 300));
      ok(await ours(signArgs), 'sign');

      // The second write lands in the page that is still dirty.
      const before = await times(weights);
      await writer.write(OFFSET + 1, 0x33);
      const expireCentisecs = Number(readFileSync('/proc/sys/vm/dirty_expire_centisecs', 'utf8'));
      // The kernel moved no time (the page stays dirty for at least the expiry; a machine that expires pages within 10 s may already have cleaned it).
      if (expireCentisecs >= 1000) expect(await times(weights)).toEqual(before);

      const trusted = await ours([...verifyArgs, '--trust-cache']);
      expect(trusted.code, trusted.stdout).toBe(1);
      expect(trusted.stderr).toContain('[DIGEST_MISMATCH]');
      expect(trusted.stderr).toContain('weights.bin');

      const plan = JSON.parse(ok(await ours([...signArgs, '--incremental', '--dry-run', '--json']), 'dry run').stdout) as {
        rehashed: { name: string; reason: string }[];
      };
      expect(plan.rehashed).toContainEqual(expect.objectContaining({ name: 'weights.bin', reason: 'racy' }));
      ok(await ours([...signArgs, '--incremental']), 'incremental sign');
      // The new signature holds the bytes now in the file: a full verification (ours and the reference's) accepts it.
      ok(await ours(verifyArgs), 'full verify of the incremental signature');
      ok(await reference(['verify', 'key', model, '--signature', sig, '--public_key', keys.publicKey]), 'reference verify');
    } finally {
      await writer.close();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeySigner, KeyVerifier, hashModel, signModel, verifyModel, type SignModelResult, type Signer } from '../dist/index.js';
import { RACY_MARGIN_MS, planIncrementalSign, signManifest, walkModel, writeSignature } from '../dist/internal-node.js';
import { HashRecord, OTHER_SYSTEMS_SETTLE_MS, recordSettleMs, statFiles } from '../dist/node/incremental/record.js';
import { readRecordRows, rewriteRecord } from './record-helpers.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

// Library-level behaviour of incremental re-signing and --trust-cache
// verification: what the local record proves, what it refuses, and that an
// incremental result is the payload of a full sign. The CLI test
// (packages/cli/test/incremental.test.ts) runs the scenario end to end with
// the reference verifying every result.

const BIG = 16 * 1024 * 1024;

/**
 * How old a file must be when a record is written for the record to vouch
 * for it on this machine (read from its writeback settings: 72 s with
 * Linux's defaults). The tests do not wait that long: they move this
 * process's clock (`Date.now`, which gives the record's stat time) forward.
 */
const SETTLE_MS = recordSettleMs();
let clockShiftMs = 0;
const realNow = Date.now.bind(Date);
/** Makes `ms` pass for the record (not for the file system): files written so far are that much older at the next record. */
function advanceClock(ms: number): void {
  clockShiftMs += ms;
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + clockShiftMs);
}
/** Every file written so far is old enough for a record written from now on to vouch for it. */
const settle = () => advanceClock(SETTLE_MS! + 1000);

afterEach(async () => {
  vi.restoreAllMocks();
  clockShiftMs = 0;
  await cleanupTempDirs();
});

async function fixture() {
  const work = await tempDir('oms-incr-');
  const modelPath = path.join(work, 'model');
  const big = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i += 4096) big[i] = i % 251;
  await writeTree(modelPath, {
    'README.md': '# model card\n',
    'config.json': '{"hidden": 8}',
    'tokenizer/vocab.txt': 'a\nb\nc\n',
    'weights/model.safetensors': big,
  });
  const keys = ecKeyPair();
  const signer = await KeySigner.create({ privateKey: keys.privateKey });
  const verifier = await KeyVerifier.create({ publicKey: keys.publicKey });
  const cacheDir = path.join(work, 'cache');
  const signaturePath = path.join(work, 'model.sig');
  const common = { modelPath, signer, cacheDir };
  return {
    work,
    modelPath,
    keys,
    signer,
    verifier,
    cacheDir,
    signaturePath,
    full: (sig = path.join(work, 'full.sig'), extra = {}) => signModel({ ...common, signaturePath: sig, ...extra }),
    incremental: (extra: { changed?: string[]; hashAlgorithm?: 'blake2b' } = {}) =>
      signModel({
        ...common,
        signaturePath,
        incremental: { verifier, ...(extra.changed ? { changed: extra.changed } : {}) },
        ...(extra.hashAlgorithm ? { hashAlgorithm: extra.hashAlgorithm } : {}),
      }),
    plan: () => planIncrementalSign({ modelPath, signaturePath, cacheDir, incremental: { verifier } }),
  };
}

const payload = (r: SignModelResult) => r.bundle.dsseEnvelope.payload;

/** Bytes this process has read through read(2) and friends so far (Linux). */
function bytesRead(): number {
  const io = readFileSync('/proc/self/io', 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)![1]);
}

describe('incremental signing', () => {
  it('re-reads only what changed, and its payload is the one a full sign produces', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);

    await fs.appendFile(path.join(f.modelPath, 'README.md'), 'more\n');
    const plan = await f.plan();
    expect(plan.rehashed).toEqual([{ name: 'README.md', size: 18, reason: 'size-changed' }]);
    expect(plan.reused.map((r) => r.name).sort()).toEqual(['config.json', 'tokenizer/vocab.txt', 'weights/model.safetensors']);
    const result = await f.incremental();
    expect(result.reuse).toEqual({ reusedFiles: 3, reusedBytes: BIG + 13 + 6, rehashedFiles: 1, rehashedBytes: 18 });
    expect(payload(result)).toBe(payload(await f.full()));
  });

  it('catches a same-size change with the mtime put back (ctime), and --changed forces a re-read', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    const weights = path.join(f.modelPath, 'weights/model.safetensors');
    const stamp = path.join(f.work, 'stamp');
    await fs.writeFile(stamp, '');
    execFileSync('touch', ['-r', weights, stamp]);
    const handle = await fs.open(weights, 'r+');
    await handle.write(Buffer.from([0xff]), 0, 1, 12345);
    await handle.close();
    execFileSync('touch', ['-r', stamp, weights]);

    expect((await f.plan()).rehashed).toEqual([{ name: 'weights/model.safetensors', size: BIG, reason: 'stat-changed' }]);
    const result = await f.incremental({ changed: ['tokenizer'] });
    expect(result.reuse.rehashedFiles).toBe(2);
    expect(payload(result)).toBe(payload(await f.full()));
    await expect(verifyModel({ modelPath: f.modelPath, signaturePath: f.signaturePath, verifier: f.verifier })).resolves.toBeDefined();
  });

  it('in a folder whose times prove its listing unchanged, still sees each file: changed in place, added, or the folder replaced', async () => {
    const f = await fixture();
    const day = (n: number) =>
      Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`data/day-${n}/part-${i}.bin`, `day ${n} part ${i}`]));
    await writeTree(f.modelPath, { ...day(1), ...day(2), ...day(3) });
    settle();
    await f.full(f.signaturePath);
    const folder = (n: number) => path.join(f.modelPath, `data/day-${n}`);
    const stamp = path.join(f.work, 'stamp');
    await fs.writeFile(stamp, '');
    const keepTimes = async (target: string, change: () => Promise<void>) => {
      execFileSync('touch', ['-r', target, stamp]);
      await change();
      execFileSync('touch', ['-r', stamp, target]);
    };
    // day-1: one file rewritten in place, same size; its mtime and its folder's put back.
    await keepTimes(folder(1), () =>
      keepTimes(path.join(folder(1), 'part-1.bin'), () => fs.writeFile(path.join(folder(1), 'part-1.bin'), 'DAY 1 PART 1')),
    );
    // day-2: a file added (the folder's mtime put back).
    await keepTimes(folder(2), () => fs.writeFile(path.join(folder(2), 'part-3.bin'), 'day 2 part 3'));
    // day-3: replaced by another folder of the same name, files of the same names, sizes and mtimes, other bytes.
    await fs.rename(folder(3), path.join(f.work, 'old-day-3'));
    await fs.mkdir(folder(3));
    for (let i = 0; i < 3; i++) {
      const name = path.join(folder(3), `part-${i}.bin`);
      await fs.writeFile(name, `DAY 3 PART ${i}`);
      execFileSync('touch', ['-r', path.join(f.work, 'old-day-3', `part-${i}.bin`), name]);
    }
    execFileSync('touch', ['-r', path.join(f.work, 'old-day-3'), folder(3)]);

    const plan = await f.plan();
    expect(plan.rehashed.map((r) => [r.name, r.reason])).toEqual([
      ['data/day-1/part-1.bin', 'stat-changed'],
      ['data/day-2/part-3.bin', 'new'],
      ['data/day-3/part-0.bin', 'stat-changed'],
      ['data/day-3/part-1.bin', 'stat-changed'],
      ['data/day-3/part-2.bin', 'stat-changed'],
    ]);
    expect(plan.reusedFiles).toBe(4 + 2 + 3);
    const result = await f.incremental();
    expect(payload(result)).toBe(payload(await f.full()));
  });

  it('reuses shard digests per file and matches a full shards sign', async () => {
    const f = await fixture();
    settle();
    const shards = { method: 'shards' as const, shardSize: 1_000_000 };
    await f.full(f.signaturePath, shards);
    await fs.writeFile(path.join(f.modelPath, 'added.bin'), 'x'.repeat(2_500_000));
    const result = await f.incremental();
    expect(result.reuse).toMatchObject({ reusedFiles: 4, rehashedFiles: 1, rehashedBytes: 2_500_000 });
    expect(result.manifest.serialization).toMatchObject({ method: 'shards', shardSize: 1_000_000 });
    expect(payload(result)).toBe(payload(await f.full(undefined, shards)));
  });

  it('vouches for a file only if its times were older than the settle time when the record was written', async () => {
    const f = await fixture();
    // Ten seconds short of the settle time: a page written through a memory map may still be dirty.
    advanceClock(SETTLE_MS! - 10_000);
    await f.full(f.signaturePath);
    const young = await f.plan();
    expect(young.reused).toEqual([]);
    expect(new Set(young.rehashed.map((r) => r.reason))).toEqual(new Set(['racy']));
    advanceClock(11_000);
    await f.full(f.signaturePath);
    expect((await f.plan()).reusedFiles).toBe(4);
  });

  it('re-reads files written within the racy margin of the record, even when untouched', async () => {
    const f = await fixture();
    await f.full(f.signaturePath); // the files are seconds old: the record cannot vouch for them
    const plan = await f.plan();
    expect(plan.reused).toEqual([]);
    expect(new Set(plan.rehashed.map((r) => r.reason))).toEqual(new Set(['racy']));

    // A rewrite of the same size right after the record, timestamps put back.
    const config = path.join(f.modelPath, 'config.json');
    const stamp = path.join(f.work, 'stamp');
    await fs.writeFile(stamp, '');
    execFileSync('touch', ['-r', config, stamp]);
    await fs.writeFile(config, '{"hidden": 9}');
    execFileSync('touch', ['-r', stamp, config]);
    const result = await f.incremental();
    expect(result.reuse.reusedFiles).toBe(0);
    expect(payload(result)).toBe(payload(await f.full()));
  });

  it('compares times in nanoseconds: a change below a millisecond, size kept, is read again', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    const [name] = (await fs.readdir(f.cacheDir)).filter((n) => n.endsWith('.rec'));
    const recordPath = path.join(f.cacheDir, name);
    // The record says config.json's mtime was 1 µs earlier and vocab.txt's ctime 1 ns earlier than the file system says now.
    await rewriteRecord(recordPath, (row) => {
      if (row.name === 'config.json') row.mtimeNs -= 1000n;
      if (row.name === 'tokenizer/vocab.txt') row.ctimeNs -= 1n;
    });
    const forged = await f.plan();
    expect(forged.rehashed).toEqual([
      { name: 'config.json', size: 13, reason: 'stat-changed' },
      { name: 'tokenizer/vocab.txt', size: 6, reason: 'stat-changed' },
    ]);
    expect(forged.reused.map((r) => r.name).sort()).toEqual(['README.md', 'weights/model.safetensors']);

    // A real change of README.md's mtime by 0.4 ms, same size and bytes.
    const readme = path.join(f.modelPath, 'README.md');
    const before = await fs.stat(readme, { bigint: true });
    await fs.utimes(readme, Number(before.atimeNs) / 1e9, Number(before.mtimeNs) / 1e9 + 0.0004);
    const moved = (await fs.stat(readme, { bigint: true })).mtimeNs - before.mtimeNs;
    expect(moved > 0n && moved < 1_000_000n).toBe(true);
    expect((await f.plan()).rehashed.map((r) => [r.name, r.reason])).toContainEqual(['README.md', 'stat-changed']);
  });

  it('treats a record of an earlier format as missing, and replaces it', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    const [name] = (await fs.readdir(f.cacheDir)).filter((n) => n.endsWith('.rec'));
    const recordPath = path.join(f.cacheDir, name);
    const { header, rows } = await readRecordRows(recordPath);
    const key = header.key as Record<string, unknown>;
    const statTimeNs = header.statTimeNs;
    const v3files = Object.fromEntries(
      rows.map((r) => [r.name, [r.size, String(r.mtimeNs), String(r.ctimeNs), String(r.ino), String(r.dev), ...r.digests]]),
    );
    // What version 1 wrote for the same files: millisecond doubles and numbers.
    const ms = (ns: bigint | string) => Number(BigInt(ns)) / 1e6;
    const files = Object.fromEntries(
      rows.map((r) => [r.name, [r.size, ms(r.mtimeNs), ms(r.ctimeNs), Number(r.ino), Number(r.dev), ...r.digests]]),
    );
    const v1Key = { ...key, rootDev: Number(key['rootDev']), rootIno: Number(key['rootIno']) };
    const earlier = [
      { version: 1, key: v1Key, statTimeMs: ms(statTimeNs), files },
      // Version 2 vouched for files 2 s old, whatever the writeback settings.
      { version: 2, key, statTimeNs, files: v3files },
      // Version 3: one JSON document (bounded at 64 MiB, so no record beyond about 737,000 files).
      { version: 3, key, statTimeNs, settleNs: header.settleNs, files: v3files },
    ];
    for (const record of earlier) {
      // In the record's place, and under the name the JSON versions used.
      await fs.writeFile(recordPath, JSON.stringify(record));
      await fs.writeFile(recordPath.replace(/\.rec$/, '.json'), JSON.stringify(record));
      const plan = await f.plan();
      expect(plan.reusedFiles).toBe(0);
      expect(new Set(plan.rehashed.map((r) => r.reason))).toEqual(new Set(['unrecorded']));
    }

    const result = await f.incremental();
    expect(payload(result)).toBe(payload(await f.full()));
    expect((await f.plan()).reusedFiles).toBe(4);
    // The old JSON record of this model is gone.
    expect((await fs.readdir(f.cacheDir)).filter((n) => n.endsWith('.json'))).toEqual([]);
  });

  it('refuses a previous signature that does not verify, and writes nothing', async () => {
    const f = await fixture();
    await f.full(f.signaturePath);
    const original = await fs.readFile(f.signaturePath, 'utf8');
    const bundle = JSON.parse(original) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      predicate: { resources: { digest: string }[] };
    };
    statement.predicate.resources[0].digest = '00'.repeat(32);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const tampered = JSON.stringify(bundle);
    await fs.writeFile(f.signaturePath, tampered);
    await expectCode(f.incremental(), 'SIGNATURE_INVALID');
    expect(await fs.readFile(f.signaturePath, 'utf8')).toBe(tampered);

    await fs.writeFile(f.signaturePath, original);
    const other = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    await expectCode(
      signModel({
        modelPath: f.modelPath,
        signer: other,
        signaturePath: f.signaturePath,
        cacheDir: f.cacheDir,
        incremental: { verifier: await KeyVerifier.create({ publicKey: ecKeyPair().publicKey }) },
      }),
      'KEY_MISMATCH',
    );
    expect(await fs.readFile(f.signaturePath, 'utf8')).toBe(original);
  });

  it("checks the previous signature with the signer's own key unless a verifier is given", async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    await fs.appendFile(path.join(f.modelPath, 'README.md'), 'more\n');
    const own = await signModel({
      modelPath: f.modelPath,
      signer: f.signer,
      signaturePath: f.signaturePath,
      cacheDir: f.cacheDir,
      incremental: {},
    });
    expect(own.reuse).toMatchObject({ reusedFiles: 3, rehashedFiles: 1 });
    expect(payload(own)).toBe(payload(await f.full()));

    const other = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    const original = await fs.readFile(f.signaturePath, 'utf8');
    await expectCode(
      signModel({ modelPath: f.modelPath, signer: other, signaturePath: f.signaturePath, cacheDir: f.cacheDir, incremental: {} }),
      'KEY_MISMATCH',
    );
    expect(await fs.readFile(f.signaturePath, 'utf8')).toBe(original);

    // A signer that cannot say who it signs as (as keyless Sigstore): the caller must name the verifier.
    const anonymous: Signer = { method: 'key', sign: (pae) => f.signer.sign(pae) };
    const err = await expectCode(
      signModel({ modelPath: f.modelPath, signer: anonymous, signaturePath: f.signaturePath, cacheDir: f.cacheDir, incremental: {} }),
      'INVALID_ARGUMENT',
    );
    expect(err.message).toContain('incremental.verifier');
    await expectCode(
      planIncrementalSign({ modelPath: f.modelPath, signaturePath: f.signaturePath, cacheDir: f.cacheDir, incremental: {} }),
      'INVALID_ARGUMENT',
    );
    const planned = await planIncrementalSign({
      modelPath: f.modelPath,
      signaturePath: f.signaturePath,
      cacheDir: f.cacheDir,
      signer: f.signer,
      incremental: {},
    });
    expect(planned.reused.map((r) => r.name)).toEqual(
      expect.arrayContaining(['config.json', 'tokenizer/vocab.txt', 'weights/model.safetensors']),
    );
  });

  it('leaves git paths out as a full sign does, even when the previous signature did not record them', async () => {
    const f = await fixture();
    await writeTree(f.modelPath, { '.git/config': '[core]', '.gitignore': '*.tmp' });
    // As model_signing 1.0 signed: git paths ignored, but not recorded.
    const manifest = await hashModel({ modelPath: f.modelPath });
    manifest.serialization.ignorePaths = [];
    await writeSignature(f.signaturePath, await signManifest({ manifest, signer: f.signer }));
    const result = await f.incremental();
    expect(result.manifest.resources.map((r) => r.name)).not.toContain('.gitignore');
    expect(result.manifest.resources).toHaveLength(4);
    expect(payload(result)).toBe(payload(await f.full()));
  });

  it('refuses other hashing settings, and a --changed path outside the model', async () => {
    const f = await fixture();
    await f.full(f.signaturePath);
    const err = await expectCode(f.incremental({ hashAlgorithm: 'blake2b' }), 'SETTINGS_CHANGED');
    expect(err.message).toContain('without the incremental option');
    await expectCode(f.incremental({ changed: ['no-such-file'] }), 'INVALID_ARGUMENT');
    await expectCode(f.incremental({ changed: ['../elsewhere'] }), 'INVALID_ARGUMENT');
    await fs.rm(f.signaturePath);
    const missing = await expectCode(f.incremental(), 'NOT_FOUND');
    expect(missing.message).toContain('sign in full first');
  });

  it('never uses a record of another model path, another root directory or other settings', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    expect((await f.plan()).reusedFiles).toBe(4);

    // Same files, same timestamps, other path: the record is another model's.
    const moved = path.join(f.work, 'moved');
    await fs.rename(f.modelPath, moved);
    const atMoved = await planIncrementalSign({
      modelPath: moved,
      signaturePath: f.signaturePath,
      cacheDir: f.cacheDir,
      incremental: { verifier: f.verifier },
    });
    expect(atMoved.reusedFiles).toBe(0);
    expect(new Set(atMoved.rehashed.map((r) => r.reason))).toEqual(new Set(['unrecorded']));

    // Same path again, but a new root directory (copied with timestamps).
    execFileSync('cp', ['-rp', moved, f.modelPath]);
    expect((await f.plan()).reusedFiles).toBe(0);

    // A blake2b signature of the model: the sha256 record is never used for it.
    await fs.rm(f.modelPath, { recursive: true });
    await fs.rename(moved, f.modelPath);
    expect((await f.plan()).reusedFiles).toBe(4);
    const manifest = await hashModel({ modelPath: f.modelPath, hashAlgorithm: 'blake2b' });
    await writeSignature(f.signaturePath, await signManifest({ manifest, signer: f.signer }));
    const blake = await f.plan();
    expect(blake.serialization.hashType).toBe('blake2b');
    expect(blake.reusedFiles).toBe(0);
  });

  it('ignores a corrupt record and replaces it', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    const dir = f.cacheDir;
    const [record] = await fs.readdir(dir);
    await fs.writeFile(path.join(dir, record), '{"version":1,"key":');
    expect((await f.plan()).reusedFiles).toBe(0);
    await fs.writeFile(path.join(dir, record), JSON.stringify({ version: 1, key: {}, statTimeNs: '1', files: {} }));
    expect((await f.plan()).reusedFiles).toBe(0);
    const result = await f.incremental();
    expect(payload(result)).toBe(payload(await f.full()));
    settle();
    expect((await f.plan()).reusedFiles).toBe(4);
  });
});

describe('the record store', () => {
  it('keeps at most 64 model records, dropping the least recently written', async () => {
    const work = await tempDir('oms-incr-many-');
    const cacheDir = path.join(work, 'cache');
    const signer = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    const models: string[] = [];
    for (let i = 0; i < 66; i++) {
      const modelPath = path.join(work, `m${i}`);
      await writeTree(modelPath, { 'w.bin': `model ${i}` });
      await signModel({ modelPath, signer, signaturePath: path.join(work, `m${i}.sig`), cacheDir });
      models.push(modelPath);
    }
    const records = await fs.readdir(cacheDir);
    expect(records.filter((n) => n.endsWith('.rec'))).toHaveLength(64);
    expect(records.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('treats a cache directory it cannot write as no record: signing still succeeds', async () => {
    const f = await fixture();
    await fs.writeFile(f.cacheDir, 'a file where the directory should be');
    const result = await f.full(f.signaturePath);
    expect(result.manifest.resources).toHaveLength(4);
    expect((await f.plan()).reused).toEqual([]);
  });
});

describe('the settle time: how old a file must be for the record to vouch for it', () => {
  const settings = (expire: string, writeback: string) => (name: string) => (name === 'dirty_expire_centisecs' ? expire : writeback);

  it("is read from Linux's writeback settings: twice (expire + writeback interval) plus the racy margin", () => {
    expect(recordSettleMs({ platform: 'linux', readSetting: settings('3000\n', '500\n') })).toBe(2 * 35_000 + RACY_MARGIN_MS);
    expect(recordSettleMs({ platform: 'linux', readSetting: settings('6000\n', '1500\n') })).toBe(2 * 75_000 + RACY_MARGIN_MS);
    // Expiry 0: every dirty inode is written at the next wake-up.
    expect(recordSettleMs({ platform: 'linux', readSetting: settings('0\n', '500\n') })).toBe(2 * 5000 + RACY_MARGIN_MS);
  });

  it('is unknown, and the record proves nothing, when periodic writeback is off or a setting cannot be read', () => {
    expect(recordSettleMs({ platform: 'linux', readSetting: settings('3000\n', '0\n') })).toBeNull();
    expect(recordSettleMs({ platform: 'linux', readSetting: settings('', '500') })).toBeNull();
    expect(recordSettleMs({ platform: 'linux', readSetting: settings('-1', '500') })).toBeNull();
    expect(recordSettleMs({ platform: 'linux', readSetting: settings('3000', 'lots') })).toBeNull();
    const unreadable = () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    expect(recordSettleMs({ platform: 'linux', readSetting: unreadable })).toBeNull();
  });

  it('is a documented conservative constant elsewhere', () => {
    for (const platform of ['darwin', 'win32', 'freebsd'] as const) {
      expect(recordSettleMs({ platform, readSetting: settings('1', '1') })).toBe(OTHER_SYSTEMS_SETTLE_MS + RACY_MARGIN_MS);
    }
    expect(OTHER_SYSTEMS_SETTLE_MS).toBe(600_000);
  });

  it.runIf(process.platform === 'linux')(
    'is known on this machine (else --trust-cache and --incremental can never reuse anything here)',
    () => {
      expect(SETTLE_MS).toBeGreaterThan(RACY_MARGIN_MS);
    },
  );

  it('a record written where the settle time was unknown proves nothing, however old the files', async () => {
    const f = await fixture();
    const walked = await walkModel({ modelPath: f.modelPath });
    const { resources, serialization } = await hashModel({ modelPath: f.modelPath });
    const location = { root: walked.root, serialization, cacheDir: f.cacheDir };
    // Stats taken a day after the files were written, on a system without a writeback bound.
    const snapshot = statFiles(walked.files, Date.now() + 86_400_000, null);
    await (await HashRecord.locate(location)).save(snapshot, resources);
    const record = await HashRecord.open({ ...location, files: walked.files });
    for (let i = 0; i < walked.files.length; i++) expect(record.check(snapshot, i)).toBe('unprovable');
    // The same stats with a known settle time prove the files unchanged.
    await (await HashRecord.locate(location)).save({ ...snapshot, settleMs: SETTLE_MS }, resources);
    const proven = await HashRecord.open({ ...location, files: walked.files });
    for (let i = 0; i < walked.files.length; i++) expect(proven.check(snapshot, i)).toBe(i);
  });

  const shmIsTmpfs = (() => {
    try {
      return statfsSync('/dev/shm').type === 0x01021994;
    } catch {
      return false;
    }
  })();
  it.runIf(shmIsTmpfs)('never vouches for files on tmpfs, which never writes pages back', async () => {
    const work = await fs.mkdtemp(path.join('/dev/shm', 'oms-incr-tmpfs-'));
    try {
      const modelPath = path.join(work, 'model');
      await writeTree(modelPath, { 'config.json': '{}', 'weights.bin': Buffer.alloc(4096, 1) });
      const signer = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
      const verifier = await signer.ownSignatureVerifier();
      const cacheDir = path.join(await tempDir('oms-incr-cache-'), 'records');
      const signaturePath = path.join(work, 'model.sig');
      settle();
      await signModel({ modelPath, signer, signaturePath, cacheDir });
      const plan = await planIncrementalSign({ modelPath, signaturePath, cacheDir, incremental: { verifier } });
      expect(plan.rehashed.map((r) => [r.name, r.reason])).toEqual([
        ['config.json', 'unprovable'],
        ['weights.bin', 'unprovable'],
      ]);
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
});

describe.runIf(process.platform !== 'win32')('who may write the records (as ssh checks ~/.ssh)', () => {
  it('creates the directory 0700 and the record files 0600', async () => {
    const f = await fixture();
    const cacheDir = path.join(f.cacheDir, 'nested', 'records');
    await signModel({ modelPath: f.modelPath, signer: f.signer, signaturePath: f.signaturePath, cacheDir });
    for (const dir of [path.join(f.cacheDir, 'nested'), cacheDir]) expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    const [record] = await fs.readdir(cacheDir);
    expect((await fs.stat(path.join(cacheDir, record))).mode & 0o777).toBe(0o600);
  });

  it('refuses a group- or world-writable records directory, and never writes to it', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    for (const mode of [0o770, 0o707, 0o777]) {
      await fs.chmod(f.cacheDir, mode);
      const err = await expectCode(f.plan(), 'UNSAFE_PERMISSIONS');
      expect(err.message).toContain(f.cacheDir);
      expect(err.message).toContain(`chmod 700 '${f.cacheDir}'`);
      await expectCode(f.incremental(), 'UNSAFE_PERMISSIONS');
      await expectCode(
        verifyModel({
          modelPath: f.modelPath,
          signaturePath: f.signaturePath,
          verifier: f.verifier,
          cacheDir: f.cacheDir,
          trustCache: true,
        }),
        'UNSAFE_PERMISSIONS',
      );
    }
    // Runs that trust no record still succeed, but leave the directory alone.
    const before = await fs.readdir(f.cacheDir);
    const [record] = before;
    const recordBefore = await fs.readFile(path.join(f.cacheDir, record));
    await f.full(f.signaturePath);
    await verifyModel({ modelPath: f.modelPath, signaturePath: f.signaturePath, verifier: f.verifier, cacheDir: f.cacheDir });
    expect(await fs.readdir(f.cacheDir)).toEqual(before);
    expect(await fs.readFile(path.join(f.cacheDir, record))).toEqual(recordBefore);

    await fs.chmod(f.cacheDir, 0o755);
    expect((await f.plan()).reusedFiles).toBe(4);
  });

  it('refuses a record file another user can write', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    const [record] = await fs.readdir(f.cacheDir);
    const recordPath = path.join(f.cacheDir, record);
    await fs.chmod(recordPath, 0o622);
    const err = await expectCode(f.plan(), 'UNSAFE_PERMISSIONS');
    expect(err.message).toContain(`chmod 600 '${recordPath}'`);
    await fs.chmod(recordPath, 0o644);
    expect((await f.plan()).reusedFiles).toBe(4);
  });

  it.runIf(process.getuid?.() === 0)('refuses a directory or record owned by another user', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    const [record] = await fs.readdir(f.cacheDir);
    await fs.chown(path.join(f.cacheDir, record), 4321, 4321);
    expect((await expectCode(f.plan(), 'UNSAFE_PERMISSIONS')).message).toContain('owned by user 4321');
    await fs.chown(path.join(f.cacheDir, record), 0, 0);
    await fs.chown(f.cacheDir, 4321, 4321);
    expect((await expectCode(f.plan(), 'UNSAFE_PERMISSIONS')).message).toContain('owned by user 4321');
  });
});

describe.runIf(process.platform === 'linux')('verify with trustCache', () => {
  it('verifies an unchanged model without reading its weights, and still catches a change behind a restored mtime', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    const verify = (trustCache: boolean) =>
      verifyModel({
        modelPath: f.modelPath,
        signaturePath: f.signaturePath,
        verifier: f.verifier,
        cacheDir: f.cacheDir,
        trustCache,
        workers: 1,
      });

    let before = bytesRead();
    const trusted = await verify(true);
    const readTrusted = bytesRead() - before;
    expect(trusted.reuse).toMatchObject({ reusedFiles: 4, rehashedFiles: 0, rehashedBytes: 0 });
    expect(trusted.files.sort()).toEqual(['README.md', 'config.json', 'tokenizer/vocab.txt', 'weights/model.safetensors']);
    expect(readTrusted).toBeLessThan(1024 * 1024);

    before = bytesRead();
    const full = await verify(false);
    expect(bytesRead() - before).toBeGreaterThanOrEqual(BIG);
    expect(full.reuse.rehashedFiles).toBe(4);

    const weights = path.join(f.modelPath, 'weights/model.safetensors');
    const stamp = path.join(f.work, 'stamp');
    await fs.writeFile(stamp, '');
    execFileSync('touch', ['-r', weights, stamp]);
    const handle = await fs.open(weights, 'r+');
    await handle.write(Buffer.from([0x7f]), 0, 1, 999);
    await handle.close();
    execFileSync('touch', ['-r', stamp, weights]);
    const err = await expectCode(verify(true), 'DIGEST_MISMATCH');
    expect(err.differences.map((d) => d.name)).toEqual(['weights/model.safetensors']);
  });

  it('re-reads a file whose recorded digest is not the signed one', async () => {
    const f = await fixture();
    settle();
    await f.full(f.signaturePath);
    // A signature that claims other bytes for README.md than the record proved.
    const manifest = await hashModel({ modelPath: f.modelPath });
    manifest.resources = manifest.resources.map((r) => (r.name === 'README.md' ? { ...r, digest: 'ab'.repeat(32) } : r));
    await writeSignature(f.signaturePath, await signManifest({ manifest, signer: f.signer }));
    const err = await expectCode(
      verifyModel({ modelPath: f.modelPath, signaturePath: f.signaturePath, verifier: f.verifier, cacheDir: f.cacheDir, trustCache: true }),
      'DIGEST_MISMATCH',
    );
    expect(err.differences.map((d) => d.name)).toEqual(['README.md']);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySigner, KeyVerifier, createClaim, readClaims, verifyClaims, type SerializedBundle } from '../dist/index.js';
import { appendClaim } from '../dist/internal-node.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir } from './helpers.js';

// Appending to claims.jsonl from real processes at once, and killing them with
// SIGKILL mid-write: the file only ever holds whole lines, and none is lost.

const DIST = path.resolve(import.meta.dirname, '../dist/internal-node.js');
const ROOT = 'c'.repeat(64);

let work: string;
let verifier: KeyVerifier;
let signer: KeySigner;

/** A signed claim whose predicate names its writer (and is `padding` bytes larger, to make writes slow). */
async function claimOf(writer: number, padding = 0): Promise<SerializedBundle> {
  return createClaim({
    subject: { name: 'm', rootDigest: ROOT },
    predicateType: 'https://example.com/append-test/v1',
    predicate: { writer, padding: 'p'.repeat(padding) },
    signer,
  });
}

/** Starts a process that appends `bundleFile` to `claimsPath` `count` times (forever when 0). */
function appender(claimsPath: string, bundleFile: string, count: number): ChildProcess {
  const script = `
    import fs from 'node:fs';
    import { appendClaim } from ${JSON.stringify(DIST)};
    const bundle = JSON.parse(fs.readFileSync(${JSON.stringify(bundleFile)}, 'utf8'));
    for (let i = 0; ${count} === 0 || i < ${count}; i++) await appendClaim(${JSON.stringify(claimsPath)}, bundle, { lockStaleMs: 2000 });
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

beforeAll(async () => {
  work = await tempDir('oms-claims-append-');
  const pair = ecKeyPair();
  signer = await KeySigner.create({ privateKey: pair.privateKey });
  verifier = await KeyVerifier.create({ publicKey: pair.publicKey });
});
afterAll(cleanupTempDirs);

describe('appendClaim across processes', () => {
  it('four processes appending 25 claims each at once leave 100 whole, verified lines', async () => {
    const claimsPath = path.join(work, 'concurrent', 'claims.jsonl');
    await fs.mkdir(path.dirname(claimsPath));
    const writers = [0, 1, 2, 3];
    const files = await Promise.all(
      writers.map(async (w) => {
        const file = path.join(work, `bundle-${w}.json`);
        await fs.writeFile(file, JSON.stringify(await claimOf(w, 20_000)));
        return file;
      }),
    );
    const results = await Promise.all(writers.map((w) => exited(appender(claimsPath, files[w], 25))));
    expect(
      results.map((r) => r.code),
      results.map((r) => r.stderr).join('\n'),
    ).toEqual([0, 0, 0, 0]);
    const { claims, warnings } = await verifyClaims({ claims: await fs.readFile(claimsPath), rootDigest: ROOT, verifiers: [verifier] });
    expect(warnings).toEqual([]);
    expect(claims).toHaveLength(100);
    expect(claims.every((c) => c.verified)).toBe(true);
    const perWriter = writers.map((w) => claims.filter((c) => (c.predicate as { writer: number }).writer === w).length);
    expect(perWriter).toEqual([25, 25, 25, 25]);
    // Nothing left beside it: no temporary file, no lock.
    expect(await fs.readdir(path.dirname(claimsPath))).toEqual(['claims.jsonl']);
  });

  it('a writer killed with SIGKILL mid-append never leaves half a line, and the next writer takes over its lock', async () => {
    const claimsPath = path.join(work, 'killed', 'claims.jsonl');
    await fs.mkdir(path.dirname(claimsPath));
    const bundleFile = path.join(work, 'big-bundle.json');
    // Large lines (4 MB) make each append take long enough to be killed inside it.
    await fs.writeFile(bundleFile, JSON.stringify(await claimOf(9, 4_000_000)));
    let lines = 0;
    for (let round = 0; round < 4; round++) {
      const child = appender(claimsPath, bundleFile, 0);
      const done = exited(child);
      await new Promise((resolve) => setTimeout(resolve, 300 + round * 170));
      child.kill('SIGKILL');
      expect((await done).code).toBe(null);
      const text = await fs.readFile(claimsPath, 'utf8').catch(() => '');
      // Whole lines only: every line ends with a newline and reads as a claim.
      expect(text === '' || text.endsWith('\n')).toBe(true);
      const read = await readClaims({ claims: new TextEncoder().encode(text) });
      expect(read.warnings).toEqual([]);
      expect(read.claims.length).toBeGreaterThanOrEqual(lines);
      lines = read.claims.length;
    }
    // The killed writer may have held the lock: a new append waits for it to go stale, then takes it over.
    const started = Date.now();
    await appendClaim(claimsPath, await claimOf(10), { lockStaleMs: 2000, lockTimeoutMs: 20_000 });
    expect(Date.now() - started).toBeLessThan(15_000);
    const after = await verifyClaims({ claims: await fs.readFile(claimsPath), rootDigest: ROOT, verifiers: [verifier] });
    expect(after.warnings).toEqual([]);
    expect(after.claims).toHaveLength(lines + 1);
    expect(after.claims.every((c) => c.verified)).toBe(true);
    // The killed writers' temporary copies were removed by the last append.
    expect(await fs.readdir(path.dirname(claimsPath))).toEqual(['claims.jsonl']);
  }, 120_000);

  it('a lock held longer than the caller waits is LOCK_TIMEOUT, and nothing is written', async () => {
    const claimsPath = path.join(work, 'held', 'claims.jsonl');
    await fs.mkdir(path.dirname(claimsPath));
    await appendClaim(claimsPath, await claimOf(1));
    const before = await fs.readFile(claimsPath);
    // A live holder: a directory lock refreshed by proper-lockfile in another process.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import lockfile from 'proper-lockfile';
         await lockfile.lock(${JSON.stringify(claimsPath)}, { lockfilePath: ${JSON.stringify(path.join(path.dirname(claimsPath), '.oms-tmp-lock-claims.jsonl'))}, realpath: false, stale: 2000 });
         console.log('locked'); setInterval(() => {}, 1000);`,
      ],
      { cwd: path.resolve(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      await expectCode(appendClaim(claimsPath, await claimOf(2), { lockTimeoutMs: 3000, lockStaleMs: 2000 }), 'LOCK_TIMEOUT');
      expect(await fs.readFile(claimsPath)).toEqual(before);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 30_000);

  it('a last line cut short by another tool gets its newline first, so the new line stays whole', async () => {
    const claimsPath = path.join(work, 'cut', 'claims.jsonl');
    await fs.mkdir(path.dirname(claimsPath));
    const whole = JSON.stringify(await claimOf(1));
    await fs.writeFile(claimsPath, `${whole}\n${whole.slice(0, 200)}`, { mode: 0o640 });
    expect((await appendClaim(claimsPath, await claimOf(2))).created).toBe(false);
    const { claims, warnings } = await readClaims({ claims: await fs.readFile(claimsPath) });
    expect(claims.map((c) => c.line)).toEqual([1, 3]);
    expect(warnings).toEqual([expect.objectContaining({ code: 'CLAIM_NOT_JSON', line: 2 })]);
    // The file keeps its permissions.
    expect((await fs.stat(claimsPath)).mode & 0o777).toBe(0o640);
  });

  it('a directory or FIFO in place of the claims file is SPECIAL_FILE', async () => {
    const dir = path.join(work, 'special');
    await fs.mkdir(path.join(dir, 'claims.jsonl'), { recursive: true });
    await expectCode(appendClaim(path.join(dir, 'claims.jsonl'), await claimOf(1)), 'SPECIAL_FILE');
  });
});

import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLeaf, makeCertificateAuthority } from '../../../test-fixtures/pki.mjs';
import { startSigstoreInstance } from '../../../test-fixtures/sigstore-instance.mjs';
import { cleanupTempDirs, ours, reference, settledShiftMs, shiftChildClocks, tempDir, writeKeyPair, type RunResult } from './helpers.js';
import { certificateSignerFlags } from '../../../test-fixtures/cli-runs.mjs';

// `sign … --incremental` end to end: a model with nested files and a large
// file goes through the edits users make; after each, the incremental
// signature's payload equals a full sign's, and the reference verifies it.

const BIG = 8 * 1024 * 1024;

let work: string;
let restoreClocks: () => void;
let model: string;
let keys: { privateKey: string; publicKey: string };
let savedCache: string | undefined;

function ok(result: RunResult, what: string): RunResult {
  expect(result.code, `${what}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
  return result;
}

async function payloadOf(sig: string): Promise<string> {
  return (JSON.parse(await fs.readFile(sig, 'utf8')) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload;
}

beforeAll(async () => {
  work = await tempDir('oms-incr-cli-');
  // Children inherit it: the records go to a cache of this test only.
  savedCache = process.env['XDG_CACHE_HOME'];
  process.env['XDG_CACHE_HOME'] = path.join(work, 'cache');
  // A record vouches only for files whose times are older than the settle
  // time (72 s with Linux's defaults) when it is written. Rather than wait,
  // every CLI run here sees a clock that much ahead: every file written
  // before it started, even just before, is old enough. The settle rule
  // itself is tested in core's incremental test (moving the clock) and in
  // incremental-mmap.test.ts (real clock).
  restoreClocks = shiftChildClocks(settledShiftMs());
  model = path.join(work, 'model');
  const files: Record<string, string | Buffer> = {
    'README.md': '# A model card\n',
    'config.json': '{"hidden_size": 8}',
    'tokenizer/vocab.txt': 'a\nb\n',
    'tokenizer/merges.txt': 'a b\n',
    'weights/nested/deep/extra.bin': 'deep',
    'weights/model.safetensors': Buffer.alloc(BIG, 7),
  };
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(model, rel)), { recursive: true });
    await fs.writeFile(path.join(model, rel), content);
  }
  keys = await writeKeyPair(work, 'P-256');
});
afterAll(async () => {
  restoreClocks();
  if (savedCache === undefined) delete process.env['XDG_CACHE_HOME'];
  else process.env['XDG_CACHE_HOME'] = savedCache;
  await cleanupTempDirs();
});

describe('sign --incremental', () => {
  const sig = () => path.join(work, 'model.sig');
  const signArgs = (signature: string) => ['sign', 'key', model, '--private-key', keys.privateKey, '--signature', signature];

  /** Signs incrementally, checks the reuse counts, compares with a full sign and has the reference verify. */
  async function resignAndCompare(expected: { rehashed: number; reused: number }, extra: string[] = []) {
    const out = ok(await ours([...signArgs(sig()), '--incremental', '--json', ...extra]), 'incremental sign');
    const report = JSON.parse(out.stdout) as {
      incremental: boolean;
      reuse: { reusedFiles: number; rehashedFiles: number; reusedBytes: number };
    };
    expect(report.incremental).toBe(true);
    expect(report.reuse).toMatchObject({ rehashedFiles: expected.rehashed, reusedFiles: expected.reused });
    const full = path.join(work, 'full.sig');
    ok(await ours(signArgs(full)), 'full sign');
    expect(await payloadOf(sig())).toBe(await payloadOf(full));
    ok(await reference(['verify', 'key', model, '--signature', sig(), '--public_key', keys.publicKey]), 'reference verify');
    ok(await ours(['verify', 'key', model, '--signature', sig(), '--public-key', keys.publicKey]), 'our verify');
    return report;
  }

  it('after each edit, equals a full sign and verifies with the reference', async () => {
    ok(await ours(signArgs(sig())), 'first full sign');

    // Nothing changed: nothing is read.
    const none = await resignAndCompare({ rehashed: 0, reused: 6 });
    expect(none.reuse.reusedBytes).toBeGreaterThan(BIG);

    await fs.appendFile(path.join(model, 'README.md'), 'Now with an evaluation section.\n');
    await resignAndCompare({ rehashed: 1, reused: 5 });

    await fs.writeFile(path.join(model, 'tokenizer/added_tokens.json'), '[]');
    await resignAndCompare({ rehashed: 1, reused: 6 });

    await fs.rm(path.join(model, 'tokenizer/merges.txt'));
    await resignAndCompare({ rehashed: 0, reused: 6 });

    await fs.mkdir(path.join(model, 'configs'));
    await fs.rename(path.join(model, 'config.json'), path.join(model, 'configs/config.json'));
    await resignAndCompare({ rehashed: 1, reused: 5 });

    // One byte of the large file, same size: the record sees the new mtime and ctime.
    const weights = path.join(model, 'weights/model.safetensors');
    const handle = await fs.open(weights, 'r+');
    await handle.write(Buffer.from([1]), 0, 1, BIG / 2);
    await handle.close();
    await resignAndCompare({ rehashed: 1, reused: 5 });

    // Touched, not changed: read again (the stat changed), same payload.
    execFileSync('touch', [path.join(model, 'tokenizer/vocab.txt')]);
    await resignAndCompare({ rehashed: 1, reused: 5 });

    // Named with --changed: read again although the record vouches for it.
    await resignAndCompare({ rehashed: 1, reused: 5 }, ['--changed', 'weights/model.safetensors']);
    // A directory names every file under it.
    await resignAndCompare({ rehashed: 2, reused: 4 }, ['--changed', path.join(model, 'weights')]);
  }, 480_000);

  it('--dry-run lists what would be hashed and writes nothing', async () => {
    await fs.appendFile(path.join(model, 'README.md'), 'Another line.\n');
    const before = await fs.readFile(sig());
    const cache = path.join(work, 'cache/model-signing/records');
    const recordsBefore = await Promise.all((await fs.readdir(cache)).map((n) => fs.readFile(path.join(cache, n))));
    const out = ok(await ours([...signArgs(sig()), '--incremental', '--dry-run']), 'dry run');
    expect(out.stdout).toContain('hash   README.md (size-changed');
    expect(out.stdout).toContain('reuse  weights/model.safetensors');
    expect(out.stdout).toMatch(/Dry run: 1 files \(\d+ bytes\) would be hashed, 5 files/);
    expect(await fs.readFile(sig())).toEqual(before);
    const recordsAfter = await Promise.all((await fs.readdir(cache)).map((n) => fs.readFile(path.join(cache, n))));
    expect(recordsAfter).toEqual(recordsBefore);

    const json = JSON.parse(ok(await ours([...signArgs(sig()), '--incremental', '--dry-run', '--json']), 'dry run json').stdout) as {
      dryRun: boolean;
      rehashed: { name: string; reason: string }[];
    };
    expect(json.dryRun).toBe(true);
    expect(json.rehashed).toMatchObject([{ name: 'README.md', reason: 'size-changed' }]);
  });

  it('refuses other settings, a signature by another key, and incremental-only flags alone', async () => {
    const changedHash = await ours([...signArgs(sig()), '--incremental', '--hash', 'blake2b', '--json']);
    expect(changedHash.code).toBe(1);
    expect(JSON.parse(changedHash.stdout)).toMatchObject({ ok: false, error: { code: 'SETTINGS_CHANGED' } });
    expect(JSON.parse(changedHash.stdout).error.message).toContain('sign without --incremental');

    const other = await writeKeyPair(await tempDir(), 'P-384');
    const before = await fs.readFile(sig());
    const wrongKey = await ours(['sign', 'key', model, '--private-key', other.privateKey, '--signature', sig(), '--incremental']);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('[KEY_MISMATCH]');
    expect(await fs.readFile(sig())).toEqual(before);

    const stray = await ours([...signArgs(path.join(work, 'x.sig')), '--changed', 'README.md']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--changed only applies with --incremental');
  });

  it('starts from --previous-signature when writing elsewhere', async () => {
    const elsewhere = path.join(work, 'new.sig');
    const out = ok(await ours([...signArgs(elsewhere), '--incremental', '--previous-signature', sig(), '--json']), 'sign elsewhere');
    expect(JSON.parse(out.stdout)).toMatchObject({ reuse: { reusedFiles: 5, rehashedFiles: 1 } });
    ok(await reference(['verify', 'key', model, '--signature', elsewhere, '--public_key', keys.publicKey]), 'reference verify');
  });
});

describe('sign certificate --incremental', () => {
  it('checks the previous signature against the signing certificate and chain', async () => {
    const dir = await tempDir();
    const ca = makeCertificateAuthority(path.join(dir, 'ca'));
    const leaf = issueLeaf(dir, ca, { name: 'leaf' });
    const sig = path.join(dir, 'model.sig');
    const args = ['sign', 'certificate', model, ...certificateSignerFlags(leaf, ca.intermediateCert), '--signature', sig];
    ok(await ours(args), 'full sign');
    ok(await ours([...args, '--incremental']), 'incremental sign');
    ok(await ours(['verify', 'certificate', model, '--signature', sig, '--certificate-chain', ca.rootCert]), 'verify');

    const otherCa = makeCertificateAuthority(path.join(dir, 'other-ca'));
    const otherLeaf = issueLeaf(dir, otherCa, { name: 'other' });
    const refused = await ours([
      'sign',
      'certificate',
      model,
      '--private-key',
      otherLeaf.key,
      '--signing-certificate',
      otherLeaf.cert,
      '--certificate-chain',
      otherCa.intermediateCert,
      '--signature',
      sig,
      '--incremental',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[CERT_CHAIN_INVALID]');
  });
});

describe('sign sigstore --incremental', () => {
  it('checks the previous signature against the identity the user states', async () => {
    // Real Fulcio, Rekor v2 and TSA on loopback (test-fixtures/sigstore-instance.mjs).
    const instance = await startSigstoreInstance();
    try {
      const issuer = instance.urls.oidc;
      const email = 'alice@example.com';
      const sig = path.join(work, 'keyless.sig');
      const sign = (extra: string[]) =>
        ours([
          'sign',
          'sigstore',
          model,
          '--identity-token',
          instance.identityToken({ email }),
          '--trust-config',
          instance.trustConfigPath,
          '--signature',
          sig,
          ...extra,
        ]);
      ok(await sign([]), 'full keyless sign');
      ok(
        await ours([
          'verify',
          'sigstore',
          model,
          '--signature',
          sig,
          '--identity',
          email,
          '--identity-provider',
          issuer,
          '--trust-config',
          instance.trustConfigPath,
        ]),
        'verify',
      );

      const resigned = JSON.parse(
        ok(await sign(['--incremental', '--identity', email, '--identity-provider', issuer, '--json']), 'incremental').stdout,
      ) as {
        reuse: { rehashedFiles: number };
      };
      expect(resigned.reuse.rehashedFiles).toBe(0);

      const wrong = await sign(['--incremental', '--identity', 'mallory@example.com', '--identity-provider', issuer]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('[IDENTITY_MISMATCH]');
      // Without --identity: the email and issuer of the token being signed with.
      const fromToken = JSON.parse(ok(await sign(['--incremental', '--json']), 'identity from the token').stdout) as {
        reuse: { rehashedFiles: number };
      };
      expect(fromToken.reuse.rehashedFiles).toBe(0);
      const otherToken = await ours([
        'sign',
        'sigstore',
        model,
        '--identity-token',
        instance.identityToken({ email: 'mallory@example.com' }),
        '--trust-config',
        instance.trustConfigPath,
        '--signature',
        sig,
        '--incremental',
      ]);
      expect(otherToken.code).toBe(1);
      expect(otherToken.stderr).toContain('[IDENTITY_MISMATCH]');
      const unstated = await ours([
        'sign',
        'sigstore',
        model,
        '--use-ambient-credentials',
        '--trust-config',
        instance.trustConfigPath,
        '--signature',
        sig,
        '--incremental',
      ]);
      expect(unstated.code).toBe(2);
      expect(unstated.stderr).toContain('--incremental with sigstore needs --identity and --identity-provider');
    } finally {
      await instance.close();
    }
  });
});

describe('verify --trust-cache', () => {
  /**
   * Runs our CLI with a preloaded module that logs every module the ESM
   * loader loads and, at exit, the bytes the process read (Linux rchar).
   */
  async function oursObserved(args: string[]): Promise<{ result: RunResult; modules: string[]; bytesRead: number }> {
    const log = path.join(work, `observed-${Math.random().toString(36).slice(2)}.log`);
    const hooks = `import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, 'MODULE ' + url + '\\n'); return next(url, context); }`;
    const preload = path.join(work, `observe-${path.basename(log, '.log')}.mjs`);
    await fs.writeFile(
      preload,
      [
        "import { register } from 'node:module';",
        "import { appendFileSync, readFileSync } from 'node:fs';",
        `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`,
        `process.on('exit', () => appendFileSync(${JSON.stringify(log)}, 'RCHAR ' + /^rchar: (\\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))[1] + '\\n'));`,
      ].join('\n'),
    );
    const saved = process.env['NODE_OPTIONS'];
    process.env['NODE_OPTIONS'] = `${saved ?? ''} --import=${preload}`.trim();
    let result: RunResult;
    try {
      result = await ours(args);
    } finally {
      if (saved === undefined) delete process.env['NODE_OPTIONS'];
      else process.env['NODE_OPTIONS'] = saved;
    }
    const lines = (await fs.readFile(log, 'utf8')).split('\n');
    const modules = lines.filter((l) => l.startsWith('MODULE ')).map((l) => l.slice('MODULE '.length));
    const bytesRead = Number(lines.find((l) => l.startsWith('RCHAR '))!.slice('RCHAR '.length));
    return { result, modules, bytesRead };
  }

  it.runIf(process.platform === 'linux')(
    'on an unchanged model reads no weight and loads neither Sigstore, PKI.js, PKCS#11 nor KMS code',
    async () => {
      const sig = path.join(work, 'observed.sig');
      ok(await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig]), 'sign');
      const verifyArgs = ['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey, '--json'];
      const trusted = await oursObserved([...verifyArgs, '--trust-cache']);
      ok(trusted.result, 'verify --trust-cache');
      expect(JSON.parse(trusted.result.stdout).reuse).toMatchObject({ rehashedFiles: 0, rehashedBytes: 0 });
      // The log is not empty: the CLI and core's main entry were loaded through it.
      expect(trusted.modules.some((url) => url.endsWith('/packages/core/dist/index.js'))).toBe(true);
      const heavy = trusted.modules.filter((url) =>
        /\/node_modules\/(pkijs|sigstore|@sigstore|tuf-js|pkcs11js|@aws-sdk|@huggingface)\//.test(url),
      );
      expect(heavy).toEqual([]);

      const full = await oursObserved(verifyArgs);
      ok(full.result, 'verify');
      // Both read the same code, bundle and key; only the full run reads the weights (the trusted one reads the record instead).
      expect(full.bytesRead).toBeGreaterThanOrEqual(BIG);
      expect(full.bytesRead - trusted.bytesRead).toBeGreaterThan(BIG - 64 * 1024);
    },
  );

  it('reports what the record proved, and catches a change with a restored mtime', async () => {
    const sig = path.join(work, 'model.sig');
    const verifyArgs = ['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey, '--trust-cache'];
    ok(await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig]), 'sign');
    const out = JSON.parse(ok(await ours([...verifyArgs, '--json']), 'verify').stdout) as {
      files: number;
      reuse: { reusedFiles: number; rehashedFiles: number };
    };
    expect(out.files).toBe(6);
    expect(out.reuse).toEqual(expect.objectContaining({ reusedFiles: 6, rehashedFiles: 0 }));

    const weights = path.join(model, 'weights/model.safetensors');
    const stamp = path.join(work, 'stamp');
    await fs.writeFile(stamp, '');
    execFileSync('touch', ['-r', weights, stamp]);
    const handle = await fs.open(weights, 'r+');
    await handle.write(Buffer.from([9]), 0, 1, 3);
    await handle.close();
    execFileSync('touch', ['-r', stamp, weights]);
    const caught = await ours(verifyArgs);
    expect(caught.code).toBe(1);
    expect(caught.stderr).toContain('[DIGEST_MISMATCH]');
    expect(caught.stderr).toContain('weights/model.safetensors');
  });
});

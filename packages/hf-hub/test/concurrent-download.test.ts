// Downloads that share one cache: several at once in one process and in
// several processes, against an honest hub and one that serves other bytes
// to a later request; planted symlinks in a shared cache; the lock's timeout
// and takeover; and answers too large or broken to be read.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KeySigner, KeyVerifier } from '@model-signing/core';
import lockfile from 'proper-lockfile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadVerifiedModel, uploadSignedModel, verifyCachedModel, type DownloadVerifiedModelResult } from '../src/index.js';
import { FakeHub } from '../src/testing.js';
import { TOKEN, expectCode, listTree, removeTempDirs, sha256, tempDir, writeModel } from './helpers.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./fixtures/download-child.mjs', import.meta.url));
const WEIGHT = 'model.safetensors';

describe('downloads sharing one cache', () => {
  let hub: FakeHub;
  let publicKeyPem: string;
  let signer: KeySigner;
  let verifier: KeyVerifier;
  let modelDir: string;
  let model: Record<string, Buffer>;
  let repoCount = 0;

  beforeAll(async () => {
    hub = await FakeHub.start({ token: TOKEN });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
    verifier = await KeyVerifier.create({ publicKey: publicKeyPem });
    modelDir = await tempDir('model');
    model = await writeModel(modelDir);
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  async function uploadedRepo(): Promise<{ repo: string; cacheDir: string; repoFolder: string }> {
    const repo = `org/shared-${++repoCount}`;
    hub.createRepo(repo);
    await uploadSignedModel({ repo, modelPath: modelDir, signer, hubUrl: hub.url, accessToken: TOKEN });
    hub.resetCounters();
    const cacheDir = await tempDir('cache');
    return { repo, cacheDir, repoFolder: path.join(cacheDir, `models--${repo.replace('/', '--')}`) };
  }

  const download = (repo: string, cacheDir: string, extra: Partial<Parameters<typeof downloadVerifiedModel>[0]> = {}) =>
    downloadVerifiedModel({ repo, verifier, cacheDir, hubUrl: hub.url, accessToken: TOKEN, ...extra });

  /** Every weight is served slowly, so that downloads started together overlap. */
  const slowHub = (repo: string, plan: (nth: number) => { data?: Buffer; cutOffAfter?: number } | undefined = () => undefined) => {
    for (const file of Object.keys(model))
      hub.planDownloads(repo, file, (nth) => ({ chunkDelayMs: 20, ...(file === WEIGHT ? plan(nth) : {}) }));
  };

  /** The snapshot holds exactly the signed bytes, and the cache re-verifies. */
  const expectVerifiedCache = async (repo: string, cacheDir: string, snapshotPath: string) => {
    for (const [name, data] of Object.entries(model))
      expect(sha256(await fs.readFile(path.join(snapshotPath, name))), name).toBe(sha256(data));
    await verifyCachedModel({ repo, cacheDir, verifier });
  };

  /** What each of several outcomes was: 'ok' or the error code, sorted. */
  const outcomes = (settled: PromiseSettledResult<DownloadVerifiedModelResult>[]) =>
    settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as { code: string }).code)).sort();

  it('three downloads at once in one process all succeed, and each file leaves the hub once', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    slowHub(repo);
    const results = await Promise.all([download(repo, cacheDir), download(repo, cacheDir), download(repo, cacheDir)]);
    // One of them downloaded every file; the others waited and re-hashed the blobs it wrote.
    expect(results.map((r) => r.downloaded.length).sort()).toEqual([0, 0, Object.keys(model).length]);
    for (const r of results) expect([...r.downloaded, ...r.reused].sort()).toEqual(Object.keys(model).sort());
    expect(hub.fullDownloads(repo, WEIGHT)).toBe(1);
    for (const r of results) await expectVerifiedCache(repo, cacheDir, r.snapshotPath);
    expect(await listTree(path.join(cacheDir, '.locks'))).toEqual([]);
  });

  it('a hub that serves other bytes to later requests: each download either succeeds with the signed bytes or fails typed', async () => {
    const { repo, cacheDir, repoFolder } = await uploadedRepo();
    // First answer cut off, second answer other bytes of the same length, third honest.
    slowHub(repo, (nth) => (nth === 1 ? { cutOffAfter: 100_000 } : nth === 2 ? { data: randomBytes(model[WEIGHT].length) } : undefined));
    const settled = await Promise.allSettled([download(repo, cacheDir), download(repo, cacheDir), download(repo, cacheDir)]);
    expect(outcomes(settled)).toEqual(['DIGEST_MISMATCH', 'NETWORK_ERROR', 'ok']);
    expect(hub.fullDownloads(repo, WEIGHT)).toBe(3);
    const ok = settled.find((s) => s.status === 'fulfilled')!.value;
    await expectVerifiedCache(repo, cacheDir, ok.snapshotPath);
    // No temporary file, and no blob but the verified ones, is left behind.
    expect((await fs.readdir(path.join(repoFolder, 'blobs'))).filter((b) => b.includes('incomplete'))).toEqual([]);
  });

  it('a hub that serves other bytes to the second of two overlapping downloads never gets them into the cache', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    slowHub(repo, (nth) => (nth >= 2 ? { data: randomBytes(model[WEIGHT].length) } : undefined));
    const settled = await Promise.allSettled([download(repo, cacheDir), download(repo, cacheDir)]);
    for (const s of settled) {
      if (s.status === 'rejected') expect((s.reason as { code: string }).code).toBe('DIGEST_MISMATCH');
      else await expectVerifiedCache(repo, cacheDir, s.value.snapshotPath);
    }
    expect(outcomes(settled)).toContain('ok');
  });

  async function downloadInProcesses(
    repo: string,
    cacheDir: string,
    count: number,
  ): Promise<{ ok: boolean; code?: string; message?: string; snapshotPath?: string }[]> {
    await fs.access(path.join(path.dirname(CHILD), '..', '..', 'dist', 'index.js')).catch(() => {
      throw new Error('build @model-signing/hf-hub first (the child processes run dist/)');
    });
    const env = { ...process.env, CHILD_PUBLIC_KEY: publicKeyPem, CHILD_TOKEN: TOKEN };
    return Promise.all(
      Array.from({ length: count }, async () => {
        const { stdout, stderr, code, signal } = await run(process.execPath, [CHILD, repo, cacheDir, hub.url], {
          env,
          timeout: 60_000,
        }).then(
          (r) => ({ ...r, code: 0, signal: null }),
          (e: { stdout: string; stderr: string; code: number | null; signal: string | null }) => e,
        );
        // A child that printed no JSON crashed, hung or died before its own catch: say how.
        // Exit 0 with nothing printed means its download never settled: Node exits 13 for
        // an unsettled top-level await, but proper-lockfile's signal-exit turns that into 0.
        try {
          return JSON.parse(stdout.trim()) as { ok: boolean; code?: string; message?: string; snapshotPath?: string };
        } catch {
          throw new Error(`child printed no JSON (exit ${code}, signal ${signal})\nstdout: ${stdout}\nstderr: ${stderr}`);
        }
      }),
    );
  }

  it('three processes downloading into one cache all succeed, and each file leaves the hub once', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    slowHub(repo);
    const results = await downloadInProcesses(repo, cacheDir, 3);
    expect(
      results.map((r) => r.ok),
      JSON.stringify(results),
    ).toEqual([true, true, true]);
    expect(hub.fullDownloads(repo, WEIGHT)).toBe(1);
    await expectVerifiedCache(repo, cacheDir, results[0].snapshotPath!);
  });

  it('three processes against a hub that breaks and then lies: one succeeds, the others fail typed, the cache verifies', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    slowHub(repo, (nth) => (nth === 1 ? { cutOffAfter: 100_000 } : nth === 2 ? { data: randomBytes(model[WEIGHT].length) } : undefined));
    const results = await downloadInProcesses(repo, cacheDir, 3);
    expect(results.map((r) => (r.ok ? 'ok' : r.code)).sort(), JSON.stringify(results)).toEqual(['DIGEST_MISMATCH', 'NETWORK_ERROR', 'ok']);
    await expectVerifiedCache(repo, cacheDir, results.find((r) => r.ok)!.snapshotPath!);
  });

  it('symlinks planted in a shared cache are replaced, never written through', async () => {
    const { repo, cacheDir, repoFolder } = await uploadedRepo();
    const outside = await tempDir('outside');
    const victim = path.join(outside, 'victim.txt');
    await fs.writeFile(victim, 'do not overwrite');
    const weightBlob = path.join(repoFolder, 'blobs', sha256(model[WEIGHT]));
    await fs.mkdir(path.join(repoFolder, 'blobs'), { recursive: true });
    await fs.mkdir(path.join(repoFolder, 'refs'), { recursive: true });
    // At the old shared temporary name, at the blob itself, and at the ref.
    await fs.symlink(victim, `${weightBlob}.incomplete`);
    await fs.symlink(victim, weightBlob);
    await fs.symlink(victim, path.join(repoFolder, 'refs', 'main'));

    const result = await download(repo, cacheDir);
    expect(await fs.readFile(victim, 'utf8')).toBe('do not overwrite');
    expect((await fs.lstat(weightBlob)).isFile()).toBe(true);
    expect((await fs.lstat(path.join(repoFolder, 'refs', 'main'))).isFile()).toBe(true);
    expect(result.downloaded).toContain(WEIGHT);
    await expectVerifiedCache(repo, cacheDir, result.snapshotPath);
  });

  it('a planted symlink to a directory inside the cache is refused (PATH_ESCAPE), and nothing outside is touched', async () => {
    const { repo, cacheDir, repoFolder } = await uploadedRepo();
    const outside = await tempDir('outside');
    await fs.writeFile(path.join(outside, 'config.json'), 'precious');
    await fs.mkdir(path.join(repoFolder, 'snapshots'), { recursive: true });
    await fs.symlink(outside, path.join(repoFolder, 'snapshots', hub.head(repo)));
    const error = await expectCode(() => download(repo, cacheDir), 'PATH_ESCAPE');
    expect(error.message).toContain(outside);
    expect(await fs.readdir(outside)).toEqual(['config.json']);
    expect(await fs.readFile(path.join(outside, 'config.json'), 'utf8')).toBe('precious');
    // A cache root that is itself a symlink (a cache moved to another disk) is fine.
    const linkedRoot = path.join(await tempDir('linked'), 'hub');
    await fs.symlink(await tempDir('real-cache'), linkedRoot);
    const result = await download(repo, linkedRoot);
    await expectVerifiedCache(repo, linkedRoot, result.snapshotPath);
  });

  it('waits for a held lock only as long as lockTimeoutMs (LOCK_TIMEOUT, nothing written), and takes over a dead holder’s lock', async () => {
    const { repo, cacheDir, repoFolder } = await uploadedRepo();
    const lockTarget = path.join(cacheDir, '.locks', path.basename(repoFolder), `${sha256(model[WEIGHT])}.model-signing`);
    await fs.mkdir(path.dirname(lockTarget), { recursive: true });
    const release = await lockfile.lock(lockTarget, { realpath: false });
    try {
      const started = Date.now();
      const phases: string[] = [];
      const error = await expectCode(
        () => download(repo, cacheDir, { lockTimeoutMs: 500, onProgress: (p) => phases.push(p.phase) }),
        'LOCK_TIMEOUT',
      );
      expect(phases).toEqual(['signature-verified', 'listing-matched', 'waiting-for-lock']);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(error.message).toContain('.lock');
      expect(await fs.readdir(cacheDir)).toEqual(['.locks']);
    } finally {
      await release();
    }
    // A lock left by a process that died (not refreshed for a minute) is taken over.
    await fs.mkdir(`${lockTarget}.lock`);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(`${lockTarget}.lock`, old, old);
    const result = await download(repo, cacheDir, { lockTimeoutMs: 500 });
    await expectVerifiedCache(repo, cacheDir, result.snapshotPath);
  });

  it('a signature answer larger than the size the hub announced is cut off, with a typed error', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    // The size probe reports the real signature; the download itself sends 40 MiB.
    hub.planDownloads(repo, 'model.sig', () => ({ data: Buffer.alloc(40 * 1024 * 1024, 0x7b) }));
    const error = await expectCode(() => download(repo, cacheDir), 'NETWORK_ERROR');
    expect(error.path).toBe('model.sig');
    expect(error.message).toMatch(/more than the \d+ bytes/);
    expect(hub.bytesServed(repo)).toBeLessThan(40 * 1024 * 1024);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });

  it('a body read that the fetch never ends, even after the abort, fails typed (ABORTED) instead of hanging', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    // Node's fetch sometimes leaves a pending body read unsettled after an abort
    // once it has closed the socket; a child process then exited silently, with
    // no result. This fetch does that every time: the weight's body stalls after
    // its first chunk and ignores the abort.
    const stalled: ReadableStreamDefaultReader<Uint8Array>[] = [];
    const stallingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = decodeURIComponent(input instanceof Request ? input.url : String(input));
      if (!url.endsWith(`/${WEIGHT}`) || new Headers(init?.headers).has('range') || !response.body) return response;
      const reader = response.body.getReader();
      stalled.push(reader);
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          const first = await reader.read();
          if (!first.done) controller.enqueue(first.value);
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    // One file at a time, so that the stalled weight is the only download the abort meets.
    const controller = new AbortController();
    try {
      const error = await expectCode(
        () =>
          download(repo, cacheDir, {
            concurrency: 1,
            fetch: stallingFetch,
            abortSignal: controller.signal,
            onProgress: (p) => p.phase === 'downloading' && p.path === WEIGHT && controller.abort(),
          }),
        'ABORTED',
      );
      expect(error.path).toBe(WEIGHT);
      expect(stalled).toHaveLength(1);
      expect(await fs.readdir(cacheDir)).toEqual([]);
    } finally {
      for (const reader of stalled) await reader.cancel().catch(() => undefined);
    }
  }, 15_000);

  it('an HTTP error on a download after a good size probe fails typed instead of hanging', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    hub.planDownloads(repo, WEIGHT, () => ({ status: 500 }));
    const error = await expectCode(() => download(repo, cacheDir), 'NETWORK_ERROR');
    expect(error.path).toBe(WEIGHT);
    expect(error.message).toContain('HTTP 500');
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });
});

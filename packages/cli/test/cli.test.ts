import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeArgv } from '../src/argv.js';
import { cleanupTempDirs, makeTrickyModel, ours, tempDir, writeKeyPair } from './helpers.js';

afterEach(cleanupTempDirs);

describe('argument normalization', () => {
  it('accepts the reference spellings with underscores', () => {
    expect(normalizeArgv(['sign', 'key', 'm', '--private_key', 'k.pem', '--ignore_paths=a_b'])).toEqual([
      'sign',
      'key',
      'm',
      '--private-key',
      'k.pem',
      '--ignore-paths=a_b',
    ]);
  });
});

describe('model-signing CLI', () => {
  it('prints help with examples on every command, exit 0', async () => {
    for (const args of [
      ['--help'],
      ['sign', '--help'],
      ['sign', 'key', '--help'],
      ['sign', 'certificate', '--help'],
      ['sign', 'sigstore', '--help'],
      ['verify', '--help'],
      ['verify', 'key', '--help'],
      ['verify', 'certificate', '--help'],
      ['verify', 'sigstore', '--help'],
      ['digest', '--help'],
      ['hf', 'upload', '--help'],
      ['hf', 'download', '--help'],
      ['hf', 'verify', '--help'],
    ]) {
      const result = await ours(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/Examples?:/);
    }
  });

  it('prints its version', async () => {
    const result = await ours(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on usage errors', async () => {
    expect((await ours(['sign', 'key', 'model'])).code).toBe(2); // --private-key missing
    expect((await ours(['frobnicate'])).code).toBe(2);
    expect((await ours(['sign', 'key', 'model', '--private-key', 'k', '--hash', 'md5'])).code).toBe(2);
    expect((await ours(['sign', 'key', 'model', '--private-key', 'k', '--shard-size', '-3'])).code).toBe(2);
  });

  it('signs in the current directory by default (model.sig) and verifies it', async () => {
    const work = await tempDir();
    const model = await makeTrickyModel(work);
    const keys = await writeKeyPair(work, 'P-384');
    const signed = await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--json'], work);
    expect(signed.code, signed.stderr).toBe(0);
    const json = JSON.parse(signed.stdout);
    expect(json).toMatchObject({ ok: true, method: 'key', signature: path.join(work, 'model.sig') });
    await fs.access(path.join(work, 'model.sig'));
    const verified = await ours(['verify', 'key', model, '--public-key', keys.publicKey], work);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('digest prints the subject digest a signature carries', async () => {
    const work = await tempDir();
    const model = await makeTrickyModel(work);
    const keys = await writeKeyPair(work, 'P-256');
    const sig = path.join(work, 'm.sig');
    expect((await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig])).code).toBe(0);
    const digest = await ours(['digest', model]);
    expect(digest.code).toBe(0);
    const bundle = JSON.parse(await fs.readFile(sig, 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    expect(digest.stdout.trim()).toBe(`sha256:${statement.subject[0].digest.sha256}`);
  });

  it('keeps an existing signature when signing fails', async () => {
    const work = await tempDir();
    const model = await makeTrickyModel(work);
    const sig = path.join(work, 'model.sig');
    await fs.writeFile(sig, 'previous signature');
    const failed = await ours(['sign', 'key', model, '--private-key', path.join(work, 'missing.pem'), '--signature', sig]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('missing.pem');
    expect(await fs.readFile(sig, 'utf8')).toBe('previous signature');
    expect((await fs.readdir(work)).sort()).toEqual(['model.sig', 'tricky-model']);
  });

  it('refuses to sign an empty model', async () => {
    const work = await tempDir();
    await fs.mkdir(path.join(work, 'empty'));
    const keys = await writeKeyPair(work, 'P-256');
    const result = await ours([
      'sign',
      'key',
      path.join(work, 'empty'),
      '--private-key',
      keys.privateKey,
      '--signature',
      path.join(work, 'e.sig'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[EMPTY_MODEL]');
    await expect(fs.access(path.join(work, 'e.sig'))).rejects.toThrow();
  });
});

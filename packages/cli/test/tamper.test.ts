import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, makeTrickyModel, ours, tempDir, writeKeyPair, type RunResult } from './helpers.js';

// Every tampering a user can meet, through the CLI: exit 1, the right error
// code in --json, and the file named in the one-line message.

let work: string;
let model: string;
let sig: string;
let keys: { privateKey: string; publicKey: string };

beforeEach(async () => {
  work = await tempDir('oms-tamper-');
  model = await makeTrickyModel(work);
  keys = await writeKeyPair(work, 'P-256');
  sig = path.join(work, 'model.sig');
  const signed = await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig]);
  expect(signed.code, signed.stderr).toBe(0);
});
afterEach(cleanupTempDirs);

const verify = (extra: string[] = [], signature = sig, publicKey = keys.publicKey) =>
  ours(['verify', 'key', model, '--signature', signature, '--public-key', publicKey, ...extra]);

async function expectFailure(result: Promise<RunResult>, code: string, mention?: string) {
  const human = await result;
  expect(human.code, human.stderr).toBe(1);
  expect(human.stderr.trim().split('\n')).toHaveLength(1);
  expect(human.stderr).toContain(`[${code}]`);
  if (mention) expect(human.stderr).toContain(mention);
}

async function expectJsonFailure(args: string[], code: string) {
  const result = await ours([...args, '--json']);
  expect(result.code).toBe(1);
  const json = JSON.parse(result.stdout);
  expect(json).toMatchObject({ ok: false, error: { code } });
  return json.error as { differences: { kind: string; name: string }[] };
}

describe('tampered models and signatures are refused through the CLI', () => {
  it('accepts the untouched model', async () => {
    const result = await verify();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Verification succeeded');
  });

  it('a changed byte', async () => {
    const file = path.join(model, 'weights/model-00002-of-00002.safetensors');
    const bytes = await fs.readFile(file);
    bytes[1234] = bytes[1234] ^ 0xff;
    await fs.writeFile(file, bytes);
    await expectFailure(verify(), 'DIGEST_MISMATCH', 'weights/model-00002-of-00002.safetensors');
    const error = await expectJsonFailure(['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey], 'DIGEST_MISMATCH');
    expect(error.differences).toEqual([expect.objectContaining({ kind: 'mismatch', name: 'weights/model-00002-of-00002.safetensors' })]);
  });

  it('a changed file and an extra one: --json names as path the first file the message names', async () => {
    const changed = path.join(model, 'weights/model-00002-of-00002.safetensors');
    await fs.appendFile(changed, 'x');
    // Sorts before every signed name, so a path taken from all differences would name it.
    await fs.writeFile(path.join(model, 'a-extra.txt'), 'extra');
    const result = await ours(['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey, '--json']);
    expect(result.code).toBe(1);
    const { error } = JSON.parse(result.stdout) as { error: { code: string; path: string; message: string } };
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.message).toMatch(
      /changed since signing: weights\/model-00002-of-00002\.safetensors; not covered by the signature: a-extra\.txt/,
    );
    expect(error.path).toBe('weights/model-00002-of-00002.safetensors');
  });

  it('an added file, unless unsigned files are tolerated', async () => {
    await fs.writeFile(path.join(model, 'tokenizer/evil.py'), 'import os; os.system("...")');
    await expectFailure(verify(), 'UNSIGNED_FILE', 'tokenizer/evil.py');
    expect((await verify(['--ignore-unsigned-files'])).code).toBe(0);
    expect((await verify(['--ignore_unsigned_files'])).code).toBe(0);
  });

  it('a removed file', async () => {
    await fs.rm(path.join(model, 'tokenizer/vocab ünïcødé.txt'));
    await expectFailure(verify(), 'MISSING_FILE', 'tokenizer/vocab ünïcødé.txt');
  });

  it('a renamed file', async () => {
    await fs.rename(path.join(model, 'config.json'), path.join(model, 'config.old.json'));
    await expectFailure(verify(), 'MISSING_FILE', 'config.json');
    const error = await expectJsonFailure(['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey], 'MISSING_FILE');
    expect(error.differences.map((d) => `${d.kind}:${d.name}`)).toEqual(['missing:config.json', 'unsigned:config.old.json']);
  });

  it("a signature swapped for another model's", async () => {
    const other = await makeTrickyModel(work, 'other-model');
    await fs.writeFile(path.join(other, 'config.json'), '{"hidden_size": 16}');
    const otherSig = path.join(work, 'other.sig');
    expect((await ours(['sign', 'key', other, '--private-key', keys.privateKey, '--signature', otherSig])).code).toBe(0);
    await expectFailure(verify([], otherSig), 'DIGEST_MISMATCH', 'config.json');
  });

  it('a wrong key', async () => {
    const wrong = await writeKeyPair(await tempDir(), 'P-256');
    await expectFailure(verify([], sig, wrong.publicKey), 'KEY_MISMATCH');
  });

  it('a truncated, a non-JSON and an empty bundle', async () => {
    const text = await fs.readFile(sig, 'utf8');
    await fs.writeFile(sig, text.slice(0, Math.floor(text.length / 2)));
    await expectFailure(verify(), 'BAD_BUNDLE', 'not valid JSON');
    await fs.writeFile(sig, 'this is not a signature');
    await expectFailure(verify(), 'BAD_BUNDLE');
    await fs.writeFile(sig, '');
    await expectFailure(verify(), 'BAD_BUNDLE', 'empty');
  });

  it('a wrong mediaType', async () => {
    const bundle = JSON.parse(await fs.readFile(sig, 'utf8'));
    bundle.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.3';
    await fs.writeFile(sig, JSON.stringify(bundle));
    await expectFailure(verify(), 'BAD_BUNDLE', 'mediaType');
  });

  it('an edited payload', async () => {
    const bundle = JSON.parse(await fs.readFile(sig, 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.predicate.resources[0].digest = '00'.repeat(32);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await fs.writeFile(sig, JSON.stringify(bundle));
    await expectFailure(verify(), 'SIGNATURE_INVALID');
  });

  it('a symlink where none was allowed', async () => {
    await fs.symlink('config.json', path.join(model, 'linked.json'));
    await expectFailure(verify(), 'SYMLINK_REFUSED', 'linked.json');
  });

  it('a missing signature file', async () => {
    await expectFailure(verify([], path.join(work, 'nope.sig')), 'NOT_FOUND', 'nope.sig');
  });

  it('a FIFO or a link to /dev/zero as the signature: refused at once, not read', async () => {
    const { execFileSync } = await import('node:child_process');
    const fifo = path.join(work, 'fifo.sig');
    execFileSync('mkfifo', [fifo]);
    await expectFailure(verify([], fifo), 'SPECIAL_FILE', 'not a regular file');
    await fs.symlink('/dev/zero', path.join(work, 'zero.sig'));
    await expectFailure(verify([], path.join(work, 'zero.sig')), 'SPECIAL_FILE');
  });

  it('a signature over --max-bundle-size, and the same one with the limit raised', async () => {
    const size = (await fs.stat(sig)).size;
    await expectFailure(verify(['--max-bundle-size', String(size - 1)]), 'BUNDLE_TOO_LARGE', '--max-bundle-size');
    expect((await verify(['--max-bundle-size', String(size)])).code).toBe(0);
    expect((await verify(['--max-bundle-size', '0'])).code).toBe(2);
  });

  it('thousands of differences: one short line, every one in --json', async () => {
    await fs.rm(model, { recursive: true });
    await fs.mkdir(model);
    for (let i = 0; i < 2000; i++) await fs.writeFile(path.join(model, `extra-${String(i).padStart(4, '0')}.bin`), '');
    const human = await verify();
    expect(human.stderr).toContain('and 1990 more');
    expect(human.stderr.length).toBeLessThan(2000);
    await expectFailure(verify(), 'MISSING_FILE', 'extra-0009.bin and 1990 more');
    const error = await expectJsonFailure(['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey], 'MISSING_FILE');
    expect(error.differences.filter((d) => d.kind === 'unsigned')).toHaveLength(2000);
  });
});

describe('a signed resource name with ../', () => {
  it('is refused and nothing outside the model is read', async () => {
    // Sign a statement naming ../secret with a real key, as an attacker who
    // controls the signing key of a malicious model would.
    const { KeySigner, rootDigest, signPayload, PAYLOAD_TYPE } = await import('@model-signing/core');
    await fs.writeFile(path.join(work, 'secret'), 'outside the model');
    const resources = [{ name: '../secret', algorithm: 'sha256', digest: 'ab'.repeat(32) }];
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'tricky-model', digest: { sha256: rootDigest(resources) } }],
      predicateType: 'https://model_signing/signature/v1.0',
      predicate: { serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false }, resources },
    };
    const signer = await KeySigner.create({ privateKey: keys.privateKey });
    await fs.writeFile(
      sig,
      JSON.stringify(await signPayload({ signer, payload: Buffer.from(JSON.stringify(statement)), payloadType: PAYLOAD_TYPE })),
    );
    await expectFailure(verify(['--ignore-unsigned-files']), 'PATH_ESCAPE', '../secret');
    await expectFailure(verify(), 'PATH_ESCAPE', '../secret');
  });
});

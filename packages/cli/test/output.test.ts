import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeControlCharacters } from '../src/output.js';
import { cleanupTempDirs, ours, tempDir, writeKeyPair } from './helpers.js';

afterEach(cleanupTempDirs);

describe('escapeControlCharacters', () => {
  it('makes C0, DEL, C1 and bidi controls visible and leaves other text alone', () => {
    expect(escapeControlCharacters('a\rb\nc\td')).toBe('a\\rb\\nc\\td');
    expect(escapeControlCharacters('\x1b[32mok\x1b[0m\x00\x7f\x9b')).toBe('\\x1b[32mok\\x1b[0m\\x00\\x7f\\x9b');
    expect(escapeControlCharacters('evil\u202eexe.bin\u2066')).toBe('evil\\u{202e}exe.bin\\u{2066}');
    expect(escapeControlCharacters('ünï côde ..data 模型')).toBe('ünï côde ..data 模型');
  });

  it('makes every format and separator character visible too (Unicode Cf, Zl, Zp)', () => {
    // Line and paragraph separators, the byte order mark, zero-width space and joiner, soft hyphen, an invisible tag, a word joiner.
    expect(escapeControlCharacters('a\u2028b\u2029c\ufeffd\u200be\u200df\u00adg\u{e0041}h\u2060')).toBe(
      'a\\u{2028}b\\u{2029}c\\u{feff}d\\u{200b}e\\u{200d}f\\xadg\\u{e0041}h\\u{2060}',
    );
    // Every code point of those categories, and nothing else: spaces and letters stay.
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const c = String.fromCodePoint(code);
      const hidden = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(c);
      const escaped = escapeControlCharacters(c);
      if (hidden !== (escaped !== c) || (hidden && /[^\\xu{}0-9a-fnrt]/.test(escaped))) {
        throw new Error(`U+${code.toString(16)} printed as ${JSON.stringify(escaped)}`);
      }
    }
    expect(escapeControlCharacters('a b\u00a0c\u3000d')).toBe('a b\u00a0c\u3000d');
  });
});

async function signedModel(files: Record<string, string>, signArgs: string[] = []) {
  const work = await tempDir();
  const model = path.join(work, 'model');
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(model, name)), { recursive: true });
    await fs.writeFile(path.join(model, name), content);
  }
  const keys = await writeKeyPair(work, 'P-256');
  const signature = path.join(work, 'model.sig');
  const signed = await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', signature, ...signArgs]);
  expect(signed.code, signed.stderr).toBe(0);
  const verify = (...args: string[]) => ours(['verify', 'key', model, '--public-key', keys.publicKey, '--signature', signature, ...args]);
  return { work, model, keys, signature, verify };
}

describe('what verify prints', () => {
  it('escapes a file name that would rewrite the failure line into "Verification succeeded"', async () => {
    const { model, verify } = await signedModel({ 'w.bin': 'w' });
    const evil = 'x\r\x1b[2KVerification succeeded\x1b[8m';
    await fs.writeFile(path.join(model, evil), 'unsigned');
    const human = await verify();
    expect(human.code).toBe(1);
    expect(human.stderr).not.toContain('\r');
    expect(human.stderr).not.toContain('\u001b');
    expect(human.stderr).toContain('x\\r\\x1b[2KVerification succeeded\\x1b[8m');
    expect(human.stderr).toMatch(/^Verification failed \[UNSIGNED_FILE\]/);
    // JSON stays exact: the name round-trips.
    const json = await verify('--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error.differences).toEqual([{ kind: 'unsigned', name: evil }]);
  });

  it('escapes line separators and a byte order mark in names, which docs/cli.md promises', async () => {
    const { model, verify } = await signedModel({ 'w.bin': 'w' });
    const evil = 'a\u2028Verification succeeded\u2029\ufeff.bin';
    await fs.writeFile(path.join(model, evil), 'unsigned');
    const human = await verify();
    expect(human.code).toBe(1);
    expect(human.stderr).not.toMatch(/[\u2028\u2029\ufeff]/);
    expect(human.stderr).toContain('a\\u{2028}Verification succeeded\\u{2029}\\u{feff}.bin');
    expect(JSON.parse((await verify('--json')).stdout).error.differences).toEqual([{ kind: 'unsigned', name: evil }]);
  });

  it('names the recorded ignore paths that exist and were not checked, in human and JSON output', async () => {
    const { model, verify } = await signedModel({ 'w.bin': 'w', 'extra/weights.bin': 'signed-out', '.gitignore': 'x' }, [
      '--ignore-paths',
      'extra',
    ]);
    await fs.writeFile(path.join(model, 'extra/weights.bin'), 'swapped after signing');
    const human = await verify();
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.trim()).toBe('Verification succeeded; not checked (excluded when signed): .gitignore, extra');
    const json = await verify('--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, files: 1, notChecked: ['.gitignore', 'extra'] });

    await fs.rm(path.join(model, 'extra'), { recursive: true });
    await fs.rm(path.join(model, '.gitignore'));
    expect((await verify()).stdout.trim()).toBe('Verification succeeded');
  });
});

describe('sign --signature', () => {
  it('refuses to overwrite a file of the model, before hashing, and leaves it intact', async () => {
    const work = await tempDir();
    const model = path.join(work, 'model');
    await fs.mkdir(path.join(model, 'sub'), { recursive: true });
    await fs.writeFile(path.join(model, 'weights.bin'), 'weights');
    await fs.writeFile(path.join(model, 'sub/config.json'), '{"a":1}');
    const keys = await writeKeyPair(work, 'P-256');
    for (const target of [path.join(model, 'weights.bin'), path.join(model, 'sub/config.json'), path.join(model, 'sub'), model]) {
      const result = await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', target]);
      expect(result.code, target).toBe(2);
      expect(result.stderr).toMatch(/^Signing failed \[INVALID_ARGUMENT\]: The signature path/);
    }
    expect(await fs.readFile(path.join(model, 'weights.bin'), 'utf8')).toBe('weights');
    expect(await fs.readFile(path.join(model, 'sub/config.json'), 'utf8')).toBe('{"a":1}');

    // A new signature inside the model, then re-signing over it, are fine; so is a single-file model's signature beside it.
    const inside = path.join(model, 'model.sig');
    for (let i = 0; i < 2; i++)
      expect((await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', inside])).code).toBe(0);
    expect((await ours(['verify', 'key', model, '--public-key', keys.publicKey, '--signature', inside])).code).toBe(0);
    const single = path.join(model, 'weights.bin');
    expect((await ours(['sign', 'key', single, '--private-key', keys.privateKey, '--signature', single])).code).toBe(2);
    expect((await ours(['sign', 'key', single, '--private-key', keys.privateKey, '--signature', path.join(work, 'w.sig')])).code).toBe(0);
  });
});

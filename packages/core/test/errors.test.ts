import { describe, expect, it } from 'vitest';
import { ManifestMismatchError } from '../dist/index.js';

describe('ManifestMismatchError', () => {
  it('names in path the first file its message names: the first of the kind its code reports', () => {
    const err = new ManifestMismatchError([
      { kind: 'unsigned', name: 'extra.txt' },
      { kind: 'mismatch', name: 'model.safetensors' },
      { kind: 'missing', name: 'config.json' },
    ]);
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toMatch(
      /^The model does not match its signature: changed since signing: model\.safetensors; missing: config\.json;/,
    );
    expect(err.path).toBe('model.safetensors');

    const missing = new ManifestMismatchError([
      { kind: 'unsigned', name: 'a.txt' },
      { kind: 'missing', name: 'z.bin' },
      { kind: 'missing', name: 'b.bin' },
    ]);
    expect(missing).toMatchObject({ code: 'MISSING_FILE', path: 'b.bin' });
    expect(missing.message).toMatch(/: missing: b\.bin, z\.bin;/);

    expect(
      new ManifestMismatchError([
        { kind: 'unsigned', name: 'b' },
        { kind: 'unsigned', name: 'a' },
      ]),
    ).toMatchObject({
      code: 'UNSIGNED_FILE',
      path: 'a',
    });
  });
});

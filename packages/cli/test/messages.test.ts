import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inCliTerms } from '../src/output.js';
import { cleanupTempDirs, ours, tempDir, writeKeyPair } from './helpers.js';

afterAll(cleanupTempDirs);

// The CLI speaks in flags (the library's messages name options), and a
// failure names the paths the user gave, not internal temporary files.
describe('failure messages', () => {
  it('name flags, not library options', async () => {
    const work = await tempDir('oms-messages-');
    const model = path.join(work, 'm');
    await fs.mkdir(model);
    await fs.writeFile(path.join(model, 'a.bin'), 'a');
    const keys = await writeKeyPair(work, 'P-256');
    const sig = path.join(work, 'm.sig');
    expect((await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig])).code).toBe(0);

    await fs.writeFile(path.join(model, 'extra.bin'), 'x');
    const unsigned = await ours(['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('(set --ignore-unsigned-files to tolerate extra files)');
    expect(unsigned.stderr).not.toContain('ignoreUnsignedFiles');
    const json = await ours(['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey, '--json']);
    expect(JSON.parse(json.stdout).error.message).toContain('--ignore-unsigned-files');
    await fs.rm(path.join(model, 'extra.bin'));

    await fs.symlink(path.join(model, 'a.bin'), path.join(model, 'link.bin'));
    const link = await ours(['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey]);
    expect(link.code).toBe(1);
    expect(link.stderr).toContain('symlinks are refused unless --allow-symlinks is set');
    expect(link.stderr).not.toContain('allowSymlinks');

    const sigstore = await ours(['verify', 'sigstore', model, '--signature', sig, '--identity-provider', 'https://accounts.example']);
    expect(sigstore.code).toBe(2);
    expect(sigstore.stderr).toContain('needs exactly one of --identity or --identity-regexp');
  });

  it('show the signature path the user gave when the write fails, and leave nothing behind', async () => {
    const work = await tempDir('oms-messages-');
    const model = path.join(work, 'm');
    await fs.mkdir(model);
    await fs.writeFile(path.join(model, 'a.bin'), 'a');
    await fs.writeFile(path.join(work, 'not-a-dir'), 'a file');
    const keys = await writeKeyPair(work, 'P-256');
    const result = await ours(['sign', 'key', 'm', '--private-key', keys.privateKey, '--signature', 'not-a-dir/m.sig'], work);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^Signing failed \[WRITE_FAILED\]: Could not write 'not-a-dir\/m\.sig': ENOTDIR: not a directory\n$/);
    expect(result.stderr).not.toContain('.tmp');
    expect((await fs.readdir(work)).sort()).toEqual(['P-256.key.pem', 'P-256.pub.pem', 'm', 'not-a-dir']);
  });

  it('turns every library option it knows into its flag, and leaves the rest alone', () => {
    expect(inCliTerms('check the identity and identityProvider options')).toBe('check --identity and --identity-provider');
    expect(inCliTerms('encrypted keys need the password option; pass the issuing CA with the certificateChain option')).toBe(
      'encrypted keys need --password; pass the issuing CA with --certificate-chain',
    );
    expect(inCliTerms('pass the createRepo option, or check the accessToken option')).toBe('pass --create-repo, or check --token');
    expect(inCliTerms('pass the modelFile option')).toBe('pass the modelFile option');
  });
});

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, ours, REPO_ROOT, tempDir, writeKeyPair, type RunResult } from './helpers.js';

// Each usage mistake a new user made, through the real CLI: one line naming
// the mistake, exit 2; nothing falls through to another method.

let work: string;
let keys: { privateKey: string; publicKey: string };
beforeAll(async () => {
  work = await tempDir('oms-usage-');
  await fs.mkdir(path.join(work, 'm'));
  await fs.writeFile(path.join(work, 'm', 'weights.bin'), 'weights');
  keys = await writeKeyPair(work, 'P-256');
});
afterAll(cleanupTempDirs);

const cli = (args: string[]) => ours(args, work);
/** The error line (stderr without the trailing newline); usage errors print exactly one. */
function errorLine(result: RunResult): string {
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0];
}

describe('usage mistakes', () => {
  it('names a misspelt option and suggests the right one, before any missing required option', async () => {
    const result = await cli(['verify', 'key', 'm', '--signature', 'm.sig', '--pubkey', keys.publicKey]);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe("error: unknown option '--pubkey' (did you mean --public-key?)");
  });

  it('suggests the flag a prefix begins, and lists them when several do', async () => {
    const result = await cli(['verify', 'key', 'm', '--sig', 'm.sig', '--public-key', keys.publicKey]);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe("error: unknown option '--sig' (did you mean --signature?)");
    const several = await cli(['verify', 'sigstore', 'm', '--ident', 'me@example.com']);
    expect(several.code).toBe(2);
    expect(errorLine(several)).toBe(
      "error: unknown option '--ident' (did you mean one of --identity, --identity-provider, --identity-regexp?)",
    );
  });

  it('reports an option a method needs, found after parsing, as a usage error too', async () => {
    for (const json of [[], ['--json']]) {
      const result = await cli(['verify', 'certificate', 'm', '--signature', 'm.sig', ...json]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(errorLine(result)).toMatch(
        /^error: verify certificate needs a trust anchor: pass the issuing root or CA with --certificate-chain/,
      );
    }
    const stray = await cli(['sign', 'key', 'm', '--private-key', keys.privateKey, '--dry-run']);
    expect(stray.code).toBe(2);
    expect(errorLine(stray)).toBe('error: --dry-run only applies with --incremental');
  });

  it('still reports a missing required option when nothing is misspelt', async () => {
    const result = await cli(['verify', 'key', 'm', '--signature', 'm.sig']);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe("error: required option '--public-key <path>' not specified");
  });

  it('reports a word that is neither a method nor a path as an unknown method', async () => {
    const result = await cli(['verify', 'kye', 'm', '--signature', 'm.sig', '--public-key', keys.publicKey]);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(/^error: unknown method 'kye' .*model-signing verify <sigstore\|key\|certificate> MODEL/);
  });

  it('does not read a key option without a method as a Sigstore verification', async () => {
    const result = await cli(['verify', 'm', '--signature', 'm.sig', '--public-key', keys.publicKey]);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(
      /^error: --public-key belongs to the key method, but no method was named .*model-signing verify key m/,
    );
    expect(result.stderr).not.toContain('identity-provider');
    const signing = await cli(['sign', 'm', '--private-key', keys.privateKey]);
    expect(signing.code).toBe(2);
    expect(errorLine(signing)).toMatch(/^error: --private-key belongs to the key or certificate method/);
  });

  it('without a method, an existing model path still means sigstore, as in the reference', async () => {
    const result = await cli(['verify', 'm', '--signature', 'm.sig']);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe("error: required option '--identity-provider <issuer>' not specified");
  });

  it('accepts options before the method', async () => {
    const signed = await cli(['sign', '--private-key', keys.privateKey, '--signature', 'm.sig', 'key', 'm']);
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await cli(['verify', '--signature', 'm.sig', 'key', 'm', '--public-key', keys.publicKey]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toBe('Verification succeeded\n');
  });

  it('says the hf commands take the method first', async () => {
    const result = await cli(['hf', 'download', 'me/m1', '--public-key', keys.publicKey]);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe(
      "error: 'me/m1' is not a signing method; the method comes first: model-signing hf download <sigstore|key|certificate> <repo> [options]",
    );
  });

  it('shows usage and exits 2 when a command is incomplete, alike with or without a subcommand', async () => {
    for (const args of [[], ['sign'], ['verify'], ['hf']]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^Usage: model-signing/);
    }
    expect((await cli(['sign', '--help'])).code).toBe(0);
    expect((await cli(['help', 'sign'])).code).toBe(0);
  });

  it('marks required options in --help', async () => {
    const help = (await cli(['verify', 'key', '--help'])).stdout;
    expect(help).toMatch(/--public-key <path>\s+the signer's PEM public key \(required\)/);
    expect(help).not.toMatch(/--signature <path>.*\(required\)/);
    expect((await cli(['sign', 'certificate', '--help'])).stdout).toMatch(/--signing-certificate <path>[^\n]*\n?[^\n]*\(required\)/);
  });

  it('stops quietly when its output pipe is closed early', async () => {
    const cliPath = path.join(REPO_ROOT, 'packages/cli/dist/bin.js');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        '/bin/sh',
        ['-c', `"${process.execPath}" "${cliPath}" verify key --help | head -c 1 >/dev/null`],
        (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
      );
      child.stdin?.end();
    });
    expect(result.stderr).not.toContain('EPIPE');
  });
});

describe('pnpm model-signing from a subdirectory', () => {
  it('resolves paths against the directory the user ran it from (INIT_CWD), not the repository root', async () => {
    const result = await new Promise<RunResult>((resolve) => {
      execFile(
        process.execPath,
        [path.join(REPO_ROOT, 'scripts/model-signing.mjs'), 'digest', 'tiny-model'],
        { cwd: REPO_ROOT, env: { ...process.env, INIT_CWD: path.join(REPO_ROOT, 'examples') } },
        (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });
    expect(result.code, result.stderr).toBe(0);
    const direct = await ours(['digest', path.join(REPO_ROOT, 'examples/tiny-model')]);
    expect(result.stdout).toBe(direct.stdout);
    expect(result.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });
});

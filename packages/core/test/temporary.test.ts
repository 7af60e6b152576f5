import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeySigner, KeyVerifier, signModel, verifyModel } from '../dist/index.js';
import {
  TEMPORARY_PREFIX,
  isTemporaryName,
  removeStaleTemporaries,
  temporaryName,
  walkModel,
  writeFileAtomic,
} from '../dist/internal-node.js';
import { cleanupTempDirs, ecKeyPair, tempDir, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

const DIST = path.resolve(import.meta.dirname, '../dist/index.js');

/** The id of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

const temporaries = (dir: string) => fs.readdirSync(dir).filter(isTemporaryName);

/**
 * Starts writeFileAtomic of 256 MiB in a child process and kills it with
 * SIGKILL as soon as its temporary file appears; returns whether it caught
 * the write in flight.
 */
async function killMidWrite(target: string): Promise<boolean> {
  const script = `import { writeFileAtomic } from ${JSON.stringify(DIST.replace(/index\.js$/, 'internal-node.js'))}; await writeFileAtomic(${JSON.stringify(target)}, Buffer.alloc(256 * 1024 * 1024, 7));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let caught = false;
  for (let done = false; !done && !caught;) {
    caught = temporaries(path.dirname(target)).length > 0;
    if (caught) child.kill('SIGKILL');
    done = child.exitCode !== null || child.signalCode !== null;
    if (!caught && !done) await new Promise((r) => setTimeout(r, 2));
  }
  await exited;
  return caught;
}

describe('temporary files', () => {
  it('are named with the prefix, the process id and the purpose', () => {
    const name = temporaryName('model.sig');
    expect(name.startsWith(`${TEMPORARY_PREFIX}${process.pid}-`)).toBe(true);
    expect(name.endsWith('-model.sig')).toBe(true);
    expect(isTemporaryName(name)).toBe(true);
    expect(isTemporaryName('model.sig')).toBe(false);
  });

  it('a signature write killed with SIGKILL inside the model neither breaks verification nor outlives the next write', async () => {
    const model = await tempDir();
    await writeTree(model, { 'w.bin': 'weights', 'sub/x.bin': 'x' });
    const keys = ecKeyPair();
    const signaturePath = path.join(model, 'model.sig');
    await signModel({ modelPath: model, signaturePath, signer: await KeySigner.create({ privateKey: keys.privateKey }) });

    let caught = false;
    for (let attempt = 0; attempt < 5 && !caught; attempt++) caught = await killMidWrite(path.join(model, 'other.sig'));
    expect(caught, 'the child was killed while its temporary file existed').toBe(true);
    const [leftover] = temporaries(model);
    expect(leftover).toBeDefined();

    // The walk never lists it, so the model still verifies (it was UNSIGNED_FILE).
    expect((await walkModel({ modelPath: model, ignorePaths: [signaturePath] })).files.map((f) => f.name).sort()).toEqual([
      'sub/x.bin',
      'w.bin',
    ]);
    await verifyModel({ modelPath: model, signaturePath, verifier: await KeyVerifier.create({ publicKey: keys.publicKey }) });

    // The next atomic write into that folder removes it: its owner is gone.
    await writeFileAtomic(path.join(model, 'notes.txt'), 'n');
    expect(temporaries(model)).toEqual([]);
  }, 60_000);

  it('removes only leftovers whose process is gone, files and folders alike', async () => {
    const dir = await tempDir();
    const dead = deadPid();
    const staleFile = `${TEMPORARY_PREFIX}${dead}-00-w.bin`;
    const staleDir = `${TEMPORARY_PREFIX}${dead}-01-model.signing-abc`;
    const live = temporaryName('in-progress');
    await writeTree(dir, {
      [staleFile]: 'x',
      [`${staleDir}/weights.bin`]: 'y',
      [live]: 'z',
      [`${TEMPORARY_PREFIX}not-a-pid`]: 'kept',
      'model.bin': 'm',
    });
    await removeStaleTemporaries(dir);
    expect(fs.readdirSync(dir).sort()).toEqual([`${TEMPORARY_PREFIX}not-a-pid`, live, 'model.bin'].sort());
    // A folder that cannot be read is no error: the walk ignores leftovers anyway.
    await removeStaleTemporaries(path.join(dir, 'missing'));
  });
});

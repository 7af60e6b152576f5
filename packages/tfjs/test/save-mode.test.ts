import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { signedSaveHandler } from '../src/index.js';
import { useTempDirs } from './helpers/dirs.js';
import { makeKeyPair } from './helpers/keys.js';
import { denseModel } from './helpers/layers-model.js';

const newDir = useTempDirs();

describe('the mode of a signed save', () => {
  it('gives the model directory the mode a plain mkdir has under the umask, not the staging directory 0700', async () => {
    const { signer } = await makeKeyPair();
    const parent = await newDir();
    const modelDir = path.join(parent, 'dense');
    await denseModel().save(signedSaveHandler({ modelDir, signer }));
    await fs.mkdir(path.join(parent, 'plain'));
    const expected = (await fs.stat(path.join(parent, 'plain'))).mode & 0o7777;
    expect(expected, 'this test needs a umask that lets others at least read').not.toBe(0o700);
    expect(((await fs.stat(modelDir)).mode & 0o7777).toString(8)).toBe(expected.toString(8));
  });
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelSigningError } from '@model-signing/core';
import { removeStaleTemporaries, temporaryName } from '@model-signing/core/internal/node';

/**
 * Creates a fresh directory only this user can enter (mkdtemp makes it 0700
 * with an unpredictable name), for files copied while they are verified.
 * Its name is a core temporary name, so the copies left by a killed process
 * are removed the next time a staging directory is made in `parent`.
 */
export async function createStagingDirectory(parent: string | undefined): Promise<string> {
  const base = parent ?? os.tmpdir();
  await removeStaleTemporaries(base);
  try {
    const dir = await fs.mkdtemp(path.join(base, temporaryName('onnx-staging-')));
    // mkdtemp already uses 0700; chmod makes it explicit whatever the umask did.
    await fs.chmod(dir, 0o700);
    return dir;
  } catch (cause) {
    throw new ModelSigningError({
      code: 'WRITE_FAILED',
      path: base,
      cause,
      message: `Could not create a private staging directory in '${base}' for large external data: ${(cause as Error).message}. Pass stagingDirectory to use another location.`,
    });
  }
}

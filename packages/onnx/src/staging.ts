import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelSigningError, removeStaleTemporaries, temporaryName, type FileHasher } from '@model-signing/core';
import { throwIfAborted } from './abort.js';

/** Read and write in 4 MiB chunks: large enough for throughput, small enough to bound memory. */
const CHUNK_SIZE = 4 * 1024 * 1024;

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

/** Options for {@link copyWhileHashing}. */
export interface CopyWhileHashingOptions {
  source: string;
  destination: string;
  hasher: FileHasher;
  signal?: AbortSignal;
  onBytes?: (count: number) => void;
}

/**
 * Copies `source` to a new file at `destination`, feeding every chunk to
 * `hasher` before writing it, so the copy holds exactly the bytes that were
 * hashed. Ends with `hasher.finish()`, which throws on a digest mismatch.
 */
export async function copyWhileHashing(options: CopyWhileHashingOptions): Promise<void> {
  await fs.mkdir(path.dirname(options.destination), { recursive: true, mode: 0o700 });
  const input = await fs.open(options.source, 'r');
  try {
    const output = await fs.open(options.destination, 'wx', 0o600);
    try {
      const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
      for (;;) {
        throwIfAborted(options.signal);
        const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        options.hasher.update(chunk);
        await writeAll(output, chunk);
        options.onBytes?.(bytesRead);
      }
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
  options.hasher.finish();
}

async function writeAll(handle: fs.FileHandle, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.length - written);
    written += bytesWritten;
  }
}

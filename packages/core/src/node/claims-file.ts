// Reading a claims file on disk as a stream that readClaims and verifyClaims
// consume one bounded line at a time.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { ModelSigningError } from '../errors.js';
import type { ClaimsSource } from '../claims/read-claims.js';

/** Read a claims file in chunks of this size. */
const CHUNK_SIZE = 1024 * 1024;

/**
 * Opens a claims file for {@link readClaims} / {@link verifyClaims}: only a
 * regular file (opened non-blocking, so a FIFO cannot hang us), read in
 * chunks as the reader asks for them; the reader's limits decide how much is
 * read, so a huge file is never held whole.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE`.
 */
export async function openClaimsFile(claimsPath: string): Promise<ClaimsSource> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(claimsPath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: claimsPath,
      cause,
      message: `Claims file '${claimsPath}' cannot be read: ${(cause as Error).message}`,
    });
  }
  const stats = await handle.stat().catch(async (cause: unknown) => {
    await handle.close();
    throw new ModelSigningError({ code: 'NOT_FOUND', path: claimsPath, cause, message: `Claims file '${claimsPath}' cannot be read` });
  });
  if (!stats.isFile()) {
    await handle.close();
    throw new ModelSigningError({
      code: 'SPECIAL_FILE',
      path: claimsPath,
      message: `Claims file '${claimsPath}' is not a regular file (a directory, FIFO, socket or device); refusing to read it`,
    });
  }
  return chunks(handle);
}

async function* chunks(handle: fs.FileHandle): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const buffer = new Uint8Array(CHUNK_SIZE);
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_SIZE, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

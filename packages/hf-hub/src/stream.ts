import { downloadFile } from '@huggingface/hub';
import { ModelSigningError } from '@model-signing/core';
import { hubFailure, repoLabel, type HubContext } from './hub.js';
import type { RemoteFile } from './remote.js';

/**
 * Streams one file of the repo at `commit` chunk by chunk into `onChunk`,
 * awaiting it before reading on, so memory stays flat whatever the file size.
 * The hub may not send more bytes than its listing announced.
 *
 * @throws {ModelSigningError} `NETWORK_ERROR` (naming the file) when the
 *   transfer breaks or overruns, `ABORTED`, `NOT_FOUND`.
 */
export async function streamRemoteFile(ctx: HubContext, commit: string, file: RemoteFile, onChunk: (chunk: Uint8Array) => Promise<void> | void): Promise<void> {
  let received = 0;
  try {
    const blob = await downloadFile({ repo: ctx.repo, path: file.path, revision: commit, hubUrl: ctx.hubUrl, fetch: ctx.fetch, xet: false, ...ctx.credentials });
    if (!blob) {
      throw new ModelSigningError({ code: 'NOT_FOUND', path: file.path, message: `'${file.path}' is listed in ${repoLabel(ctx.repo)} at ${commit} but cannot be downloaded` });
    }
    const reader = blob.stream().getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
        if (received > file.size) {
          throw new ModelSigningError({
            code: 'NETWORK_ERROR',
            path: file.path,
            message: `The hub sent more than the ${file.size} bytes it lists for '${file.path}'; the download was stopped`,
          });
        }
        try {
          await onChunk(value);
        } catch (cause) {
          throw new SinkError(cause);
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  } catch (cause) {
    if (cause instanceof SinkError) throw cause.cause;
    // The client reports a broken body as a bare string reason; give it context.
    const error = typeof cause === 'string' ? new Error(cause) : cause;
    throw hubFailure(error, `downloading '${file.path}' (${received} of ${file.size} bytes received)`, ctx, file.path);
  }
}

/** Marks a failure of the caller's sink (disk, checker), which is not a hub failure. */
class SinkError extends Error {
  constructor(override readonly cause: unknown) {
    super('sink failed');
  }
}

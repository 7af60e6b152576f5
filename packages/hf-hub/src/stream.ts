import { fileDownloadInfo } from '@huggingface/hub';
import { ModelSigningError } from '@model-signing/core';
import { hubFailure, repoLabel, type HubContext } from './hub.js';

/** What {@link streamRemoteFile} needs of a file: its path, and the most bytes the hub may send for it. */
export interface StreamedFile {
  path: string;
  /** The size the hub lists; a longer answer is cut off, so memory and disk stay bounded whatever the hub sends. */
  size: number;
}

/** Where the file's bytes are, as @huggingface/hub's `fileDownloadInfo` found it. */
export type DownloadInfo = NonNullable<Awaited<ReturnType<typeof fileDownloadInfo>>>;

/**
 * Streams one file of the repo at `commit` chunk by chunk into `onChunk`,
 * awaiting it before reading on, so memory stays flat whatever the file size.
 * The hub may not send more bytes than `file.size`.
 *
 * The location comes from @huggingface/hub (`fileDownloadInfo`, or `info`
 * when the caller already has it); the body is read here, from the response
 * itself, because the client's lazy blob turns an HTTP error on the download
 * into a stream that never ends.
 *
 * @throws {ModelSigningError} `NETWORK_ERROR` (naming the file) when the
 *   transfer fails, breaks or overruns, `ABORTED`, `NOT_FOUND`.
 */
export async function streamRemoteFile(
  ctx: HubContext,
  commit: string,
  file: StreamedFile,
  onChunk: (chunk: Uint8Array) => Promise<void> | void,
  info?: DownloadInfo,
): Promise<void> {
  let received = 0;
  try {
    const location =
      info ?? (await fileDownloadInfo({ repo: ctx.repo, path: file.path, revision: commit, hubUrl: ctx.hubUrl, fetch: ctx.fetch }));
    if (!location) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: file.path,
        message: `'${file.path}' is listed in ${repoLabel(ctx.repo)} at ${commit} but cannot be downloaded`,
      });
    }
    const response = await ctx.fetch(location.url);
    if (!response.ok || !response.body) {
      void response.body?.cancel().catch(() => undefined);
      throw Object.assign(new Error(`HTTP ${response.status} ${response.statusText}`), { statusCode: response.status });
    }
    const reader = response.body.getReader();
    // A read pending when the signal aborts must end with it. Node's fetch
    // (undici) sometimes leaves that read pending forever once it has closed
    // the socket; with nothing else to wait for, the process then exits
    // silently in the middle of the download instead of failing typed.
    const abort = abortedPromise(ctx.signal);
    try {
      for (;;) {
        const { done, value } = await Promise.race([reader.read(), abort.promise]);
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
      abort.dispose();
      // Release the body without waiting: after an abort or a broken
      // connection, undici's cancel may never settle, and awaiting it would
      // leave the download pending with nothing else to wait for.
      void reader.cancel().catch(() => undefined);
    }
  } catch (cause) {
    if (cause instanceof SinkError) throw cause.cause;
    throw hubFailure(cause, `downloading '${file.path}' (${received} of ${file.size} bytes received)`, ctx, file.path);
  }
}

/** Marks a failure of the caller's sink (disk, checker), which is not a hub failure. */
class SinkError extends Error {
  constructor(override readonly cause: unknown) {
    super('sink failed');
  }
}

/**
 * A promise that rejects with the signal's reason once it aborts (never
 * without a signal); `dispose` removes the listener when the read is over.
 */
function abortedPromise(signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  if (!signal) return { promise: new Promise<never>(() => undefined), dispose: () => undefined };
  let onAbort: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    // The caller's reason, passed on as given, as fetch does.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // Raced against every read; a rejection nobody awaits any more is not an error.
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

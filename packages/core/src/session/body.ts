// Runtime-neutral. How the session reads any body a source hands over (the
// signature, a file): within a limit, and never waiting past an abort.
import { abortedError } from '../cancellation.js';
import type { ModelSigningError } from '../errors.js';
import type { SourceBody } from './source.js';

/** How {@link boundedChunks} reads a body. */
export interface BoundedRead {
  /** The most bytes accepted; more (announced or arriving) is refused with `tooLarge`. */
  limit: number;
  /** The error for a body over the limit, given its announced or received size. */
  tooLarge: (size: number) => ModelSigningError;
  signal?: AbortSignal | undefined;
}

/**
 * The body's chunks, refused past `limit` (from its announced size before a
 * byte is read, else as bytes arrive) and abandoned the moment `signal`
 * fires: a read pending on a stalled connection must not hold the load (some
 * `fetch` implementations leave it pending for ever once the socket is
 * gone). Stopping early, for any reason, releases the source's body without
 * waiting for it.
 */
export async function* boundedChunks(body: SourceBody, read: BoundedRead): AsyncGenerator<Uint8Array, void, undefined> {
  const iterator = body.chunks[Symbol.asyncIterator]();
  const abort = abortion(read.signal);
  let finished = false;
  try {
    if (body.size !== undefined && body.size > read.limit) throw read.tooLarge(body.size);
    let received = 0;
    for (;;) {
      if (read.signal?.aborted) throw abortedError(read.signal);
      const next = await Promise.race([iterator.next(), abort.promise]);
      if (next.done) {
        finished = true;
        return;
      }
      received += next.value.length;
      if (received > read.limit) throw read.tooLarge(received);
      yield next.value;
    }
  } finally {
    abort.dispose();
    // Released without waiting: after an abort or a broken connection a
    // source's cancel may never settle.
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

/** Every chunk of `chunks`, joined. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * A promise that rejects with the one aborted error once `signal` fires (never
 * without a signal), to race against reads; `dispose` removes the listener.
 */
function abortion(signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  if (!signal) return { promise: new Promise<never>(() => undefined), dispose: () => undefined };
  let onAbort: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // Raced against every read; a rejection nobody awaits any more is not an error.
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

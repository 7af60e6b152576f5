// Runtime-neutral. How the session reads any body a source hands over (the
// signature, a file): within a limit, and never waiting past an abort.
import { abortedError, type AbortedDuring } from '../cancellation.js';
import type { ModelSigningError } from '../errors.js';
import type { SourceBody } from './source.js';

/** How {@link boundedChunks} reads a body. */
export interface BoundedRead {
  /** The most bytes accepted; more (announced or arriving) is refused with `tooLarge`. */
  limit: number;
  /**
   * The error for a body over the limit: given the size it announced, or
   * (`announced` false) the bytes received when they passed the limit.
   */
  tooLarge: (size: number, announced: boolean) => ModelSigningError;
  signal?: AbortSignal | undefined;
  /** What is read, for the error when the signal fires. */
  during: AbortedDuring;
}

/**
 * The body's chunks, refused past `limit` (from its announced size before a
 * byte is read, else as bytes arrive) and abandoned the moment `signal`
 * fires: a read pending on a stalled connection must not hold the load (some
 * `fetch` implementations leave it pending for ever once the socket is
 * gone). Stopping early, for any reason, releases the source's body without
 * waiting for it.
 */
export function boundedChunks(body: SourceBody, read: BoundedRead): AsyncGenerator<Uint8Array, void, undefined> {
  const iterator = body.chunks[Symbol.asyncIterator]();
  // Refused at once, before a byte is pulled, from what the source announced.
  if (body.size !== undefined && body.size > read.limit) {
    release(iterator);
    throw read.tooLarge(body.size, true);
  }
  return chunksWithin(iterator, read);
}

async function* chunksWithin(iterator: AsyncIterator<Uint8Array>, read: BoundedRead): AsyncGenerator<Uint8Array, void, undefined> {
  const abort = abortion(read.signal, read.during);
  let finished = false;
  try {
    let received = 0;
    for (;;) {
      if (read.signal?.aborted) throw abortedError(read.signal, read.during);
      const next = await Promise.race([iterator.next(), abort.promise]);
      if (next.done) {
        finished = true;
        return;
      }
      received += next.value.length;
      if (received > read.limit) throw read.tooLarge(received, false);
      yield next.value;
    }
  } finally {
    abort.dispose();
    if (!finished) release(iterator);
  }
}

/** Stops reading a body without waiting: after an abort or a broken connection a source's cancel may never settle. */
function release(iterator: AsyncIterator<Uint8Array>): void {
  void Promise.resolve(iterator.return?.()).catch(() => undefined);
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
function abortion(signal: AbortSignal | undefined, during: AbortedDuring): { promise: Promise<never>; dispose: () => void } {
  if (!signal) return { promise: new Promise<never>(() => undefined), dispose: () => undefined };
  let onAbort: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(signal, during));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // Raced against every read; a rejection nobody awaits any more is not an error.
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

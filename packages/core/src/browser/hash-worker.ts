/**
 * Module worker of {@link HashWorkerPool}: hashes one source at a time with
 * the hash registry, streaming it (Blob.stream() or a fetch body) so no file
 * is held whole; an ArrayBuffer it was handed is hashed where it lies. Runtime-neutral: a Web Worker in browsers.
 */
import { ModelSigningError } from '../errors.js';
import { hashStream } from '../format/hash-registry.js';
import type { HashRequest, HashResponse, HashSource } from './hash-worker-protocol.js';

/** The worker's global scope, typed without pulling the WebWorker lib into the build. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
  postMessage(message: HashResponse, transfer: Transferable[]): void;
}

/** Bytes already in this worker's memory, in 1 MiB views (no copy). */
function* inMemory(buffer: ArrayBuffer): Generator<Uint8Array> {
  const step = 1024 * 1024;
  for (let start = 0; start < buffer.byteLength; start += step)
    yield new Uint8Array(buffer, start, Math.min(step, buffer.byteLength - start));
}

async function open(source: HashSource): Promise<AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>> {
  if (source instanceof ArrayBuffer) return toAsync(inMemory(source));
  if (typeof source !== 'string') return source.stream();
  let response: Response;
  try {
    response = await fetch(source);
  } catch (cause) {
    throw new ModelSigningError({ code: 'NETWORK_ERROR', message: `Cannot fetch ${source}: ${(cause as Error).message}`, cause });
  }
  if (!response.ok || !response.body) {
    throw new ModelSigningError({ code: 'NETWORK_ERROR', message: `Cannot fetch ${source}: HTTP ${response.status}` });
  }
  return response.body;
}

async function* toAsync(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = ({ data }) => void answer(data);

/** Hashes one request and posts the digest, or the failure as a coded error: it never throws. */
async function answer({ algorithm, source }: HashRequest): Promise<void> {
  try {
    const digest = await hashStream(algorithm, await open(source));
    scope.postMessage({ digest }, [digest.buffer as ArrayBuffer]);
  } catch (err) {
    const code = err instanceof ModelSigningError ? err.code : typeof source === 'string' ? 'NETWORK_ERROR' : 'NOT_FOUND';
    scope.postMessage({ error: { code, message: err instanceof Error ? err.message : String(err) } }, []);
  }
}

/**
 * Module worker of {@link HashWorkerPool}: hashes one source at a time with
 * the hash registry, streaming it (Blob.stream() or a fetch body) so no file
 * is held whole. Runtime-neutral: a Web Worker in browsers.
 */
import { ModelSigningError } from '../errors.js';
import { hashStream } from '../format/hash-registry.js';
import type { HashRequest, HashResponse, HashSource } from './hash-worker-protocol.js';

/** The worker's global scope, typed without pulling the WebWorker lib into the build. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
  postMessage(message: HashResponse, transfer: Transferable[]): void;
}

async function open(source: HashSource): Promise<ReadableStream<Uint8Array>> {
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

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = async ({ data: { algorithm, source } }) => {
  try {
    const digest = await hashStream(algorithm, await open(source));
    scope.postMessage({ digest }, [digest.buffer as ArrayBuffer]);
  } catch (err) {
    const code = err instanceof ModelSigningError ? err.code : typeof source === 'string' ? 'NETWORK_ERROR' : 'NOT_FOUND';
    scope.postMessage({ error: { code, message: err instanceof Error ? err.message : String(err) } }, []);
  }
};

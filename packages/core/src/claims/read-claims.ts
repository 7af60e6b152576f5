// Runtime-neutral (no `node:*`): reads a claims file from its bytes or as
// they stream in, one bounded line at a time.
import { throwIfAborted } from '../cancellation.js';
import { isClaimsWarning, parseClaimLine, type Claim } from './claim.js';
import { ClaimLineSplitter, type ClaimLine, type ClaimsReadOptions, type ClaimsWarning } from './lines.js';

/**
 * A claims file: its bytes, or its chunks as they arrive (a fetch body, a
 * Node read stream). A stream is read only as far as the limits allow and
 * then cancelled.
 */
export type ClaimsSource = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options for {@link readClaims}. */
export interface ReadClaimsParams extends ClaimsReadOptions {
  /** The claims file (`claims.jsonl`): its bytes or a stream of them. */
  claims: ClaimsSource;
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
}

/** What {@link readClaims} found: the claims in file order, and every line skipped. */
export interface ReadClaimsResult {
  claims: Claim[];
  warnings: ClaimsWarning[];
}

/** The chunks of a source, however it comes; a stream is cancelled when the caller stops early. */
async function* chunksOf(source: ClaimsSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array>;
}

/**
 * The lines with content of a claims file, in file order, each parsed into
 * a claim or a warning; warnings about limits and skipped lines go to
 * `warnings` as they are found.
 */
export async function* claimsOf(
  source: ClaimsSource,
  options: ClaimsReadOptions & { abortSignal?: AbortSignal | undefined },
  warnings: ClaimsWarning[],
): AsyncGenerator<Claim> {
  const signal = options.abortSignal;
  let splitter: ClaimLineSplitter;
  try {
    splitter = new ClaimLineSplitter(options);
  } catch (err) {
    // Unread, the source would keep its file or connection open.
    const iterator = source as Partial<AsyncIterator<Uint8Array>>;
    if (!(source instanceof Uint8Array) && typeof iterator.return === 'function') await iterator.return();
    if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) await source.cancel().catch(() => undefined);
    throw err;
  }
  const parse = function* (lines: ClaimLine[]): Generator<Claim> {
    for (const line of lines) {
      const parsed = parseClaimLine(line);
      if (isClaimsWarning(parsed)) warnings.push(parsed);
      else yield parsed;
    }
  };
  const drain = () => warnings.push(...splitter.warnings.splice(0));
  for await (const chunk of chunksOf(source)) {
    throwIfAborted(signal, { doing: 'reading claims' });
    const lines = splitter.push(chunk);
    drain();
    yield* parse(lines);
    if (splitter.stopped) return;
  }
  const last = splitter.end();
  drain();
  yield* parse(last);
}

/**
 * Reads every line of a claims file (`claims.jsonl`: one Sigstore bundle
 * per line) without checking any signature: the claims in file order, and a
 * warning naming each line skipped (not JSON, not a bundle, not an in-toto
 * statement, cut short, too long) or where a limit stopped reading. Time
 * and memory stay within the limits: one line of at most `maxBundleBytes`
 * held at a time, at most `maxClaimsBytes` read, at most `maxLines` lines.
 *
 * Nothing a claim says is trusted until {@link verifyClaims} has checked it.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` (a bad limit), `ABORTED`; a failing stream's own error.
 */
export async function readClaims(params: ReadClaimsParams): Promise<ReadClaimsResult> {
  const warnings: ClaimsWarning[] = [];
  const claims: Claim[] = [];
  for await (const claim of claimsOf(params.claims, params, warnings)) claims.push(claim);
  return { claims, warnings };
}

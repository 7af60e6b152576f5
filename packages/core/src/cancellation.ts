import { ModelSigningError } from './errors.js';

// Every long operation of the project is cancelled through an option named
// `abortSignal` (as in huggingface.js), and fails with the one error below.

/** What was being done when an operation was cancelled, for {@link abortedError}. */
export interface AbortedDuring {
  /** The file (model-relative) or path being read or written, if any; becomes `error.path`. */
  path?: string;
  /** What was being done, e.g. `reading 'model.bin'`. */
  doing?: string;
  /** The underlying failure (default: the signal's reason). */
  cause?: unknown;
}

/**
 * The one error for an operation cancelled through its AbortSignal: coded
 * `ABORTED`, naming what was being done and the file, with the signal's
 * reason as its cause.
 */
export function abortedError(signal?: AbortSignal, during: AbortedDuring = {}): ModelSigningError {
  return new ModelSigningError({
    code: 'ABORTED',
    cause: 'cause' in during ? during.cause : signal?.reason,
    ...(during.path !== undefined ? { path: during.path } : {}),
    message: `Cancelled${during.doing ? ` while ${during.doing}` : ''}: the operation's AbortSignal fired`,
  });
}

/** Throws {@link abortedError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, during?: AbortedDuring): void {
  if (signal?.aborted) throw abortedError(signal, during);
}

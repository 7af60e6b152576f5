import { ModelSigningError } from './errors.js';

/**
 * The cancellation option of every long operation in the project. It is
 * called `abortSignal`, as in huggingface.js (and `@model-signing/hf-hub`);
 * `signal`, its first name in core and the ONNX and TF.js adapters, is kept
 * as a deprecated alias.
 */
export interface Cancellable {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  /** @deprecated Use `abortSignal`, which takes precedence; same meaning. */
  signal?: AbortSignal;
}

/** The signal that cancels `options`: `abortSignal`, else the deprecated `signal`. */
export function abortSignalOf(options: Cancellable): AbortSignal | undefined {
  return options.abortSignal ?? options.signal;
}

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

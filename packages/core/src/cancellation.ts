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

/**
 * The one error for an operation cancelled through its AbortSignal: coded
 * `ABORTED`, the signal's reason as its cause.
 */
export function abortedError(signal?: AbortSignal, cause: unknown = signal?.reason): ModelSigningError {
  return new ModelSigningError({ code: 'ABORTED', cause, message: 'The operation was cancelled through its AbortSignal' });
}

/** Throws {@link abortedError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

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
 * Rejects with the one cancellation error, `ABORTED`, once `signal` has
 * fired (its reason as the cause).
 *
 * @throws {ModelSigningError} `ABORTED`.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ModelSigningError({ code: 'ABORTED', cause: signal.reason, message: 'The operation was cancelled through its AbortSignal' });
  }
}

import { ModelSigningError } from '@model-signing/core';

/** Throws the library's `ABORTED` error when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ModelSigningError({ code: 'ABORTED', cause: signal.reason, message: 'The operation was cancelled through its AbortSignal' });
  }
}

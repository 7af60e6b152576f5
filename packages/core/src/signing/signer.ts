import type { SerializedBundle, SigningMethod } from '../bundle/bundle.js';

/** What a signer is asked to sign: a DSSE payload. */
export interface SignRequest {
  payload: Uint8Array;
  payloadType: string;
  signal?: AbortSignal;
}

/**
 * Signs a DSSE payload and returns the complete Sigstore bundle. Key,
 * certificate and keyless signing differ only in the verification material
 * they attach, so each is one implementation of this interface.
 */
export interface Signer {
  readonly method: SigningMethod;
  sign(request: SignRequest): Promise<SerializedBundle>;
}

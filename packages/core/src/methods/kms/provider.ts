import type { KeyObject } from 'node:crypto';
import type { ExternalSignRequest, ExternalSignature } from '../external-key.js';

/** A signing key held by a key management service, opened by a {@link KmsProvider}. */
export interface KmsKey {
  /** The key's EC public key, as the service reports it. */
  publicKey: KeyObject;
  /** Names the key in errors, e.g. `AWS KMS key arn:aws:kms:…`. */
  description: string;
  /** Has the service sign; the caller checks the result against `publicKey`. */
  sign(request: ExternalSignRequest): Promise<ExternalSignature>;
}

/**
 * One key management service. A provider turns the part of a `kms://` URI
 * after its name into an opened key: it fetches the public key, refuses keys
 * that are not P-256/P-384/P-521 signing keys, and signs digests or messages.
 * AWS KMS is implemented; GCP Cloud KMS and Azure Key Vault would be siblings
 * (see docs/hsm-kms.md).
 */
export interface KmsProvider<Options> {
  open(keyReference: string, options: Options): Promise<KmsKey>;
}

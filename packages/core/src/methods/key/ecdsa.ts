import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { ParsedBundle } from '../../format/bundle.js';
import { compatPreAuthEncoding, preAuthEncoding } from '../../format/dsse.js';
import { ModelSigningError } from '../../errors.js';
import { hashForKey } from './keys.js';

// Kept for the Node entry's public API (a synchronous check with a
// KeyObject); the verifiers use the runtime-neutral check in dsse-signature.ts.

/**
 * Verifies `signatures[0]` over the DSSE PAE with the curve's hash; falls
 * back to the v0.2 PAE (with `compatHash`) so old signatures keep verifying.
 *
 * @deprecated Use `KeyVerifier` / `WebKeyVerifier`, or the
 *   runtime-neutral `verifyDsseSignature({ key, payloadType, payload, signature })`
 *   of `@model-signing/core/browser`.
 * @throws {ModelSigningError} `SIGNATURE_INVALID`.
 */
export function verifyDsseSignature(bundle: ParsedBundle, key: KeyObject, compatHash: string = hashForKey(key)): void {
  const hash = hashForKey(key);
  const ok = (data: Uint8Array, h: string) => {
    try {
      return cryptoVerify(h, data, key, bundle.signature);
    } catch {
      return false;
    }
  };
  if (ok(preAuthEncoding(bundle.payloadType, bundle.payload), hash)) return;
  if (ok(compatPreAuthEncoding(bundle.payloadType, bundle.payload), compatHash)) return;
  throw new ModelSigningError({
    code: 'SIGNATURE_INVALID',
    message: 'The signature does not verify: the signed statement was altered, or it was signed by another key',
  });
}

/** Browser side of key-signature.test.ts: the key method's WebCrypto verification, with JSON-friendly arguments. */
import { ModelSigningError } from '../../../src/browser.js';
import { checkKeyHint, importEcPublicKey, verifyDsseSignature } from '../../../src/internal.js';

/** A DSSE signature to check, as base64 (the way bundles carry it). */
export interface SignatureCase {
  publicKeyPem: string;
  payloadType: string;
  payloadBase64: string;
  signatureBase64: string;
  hint?: string | null;
}

const decode = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** "ok", or the ModelSigningError code (anything else is reported as a crash). */
export async function verify(c: SignatureCase): Promise<string> {
  try {
    const key = await importEcPublicKey(c.publicKeyPem);
    checkKeyHint(key, c.hint);
    await verifyDsseSignature({ key, payloadType: c.payloadType, payload: decode(c.payloadBase64), signature: decode(c.signatureBase64) });
    return 'ok';
  } catch (err) {
    return err instanceof ModelSigningError ? err.code : `crash: ${String(err)}`;
  }
}

/** The key's curve, hash and OMS hint. */
export async function describeKey(pem: string): Promise<{ curve: string; hash: string; hint: string }> {
  const { curve, hash, hint } = await importEcPublicKey(pem);
  return { curve, hash, hint };
}

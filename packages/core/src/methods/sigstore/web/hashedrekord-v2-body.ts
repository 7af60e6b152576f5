import { ModelSigningError } from '../../../errors.js';
import type { PathCertificate } from '../../certificate/certificate-path.js';
import { equal, fromBase64 } from './bytes.js';
import { dssePrehash } from './dsse-prehash.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bodyError(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'SIGNATURE_INVALID', message: `The transparency log entry does not verify: ${message}` });
}

/** Decodes a base64 field of the body; anything else is no match. */
function bytesOf(value: unknown): Uint8Array | undefined {
  try {
    return typeof value === 'string' ? fromBase64(value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that a Rekor v2 `hashedrekord` 0.0.2 entry body logs this DSSE
 * envelope the way the reference (sigstore-python 4.5.1,
 * `_validate_hashedrekord_v002_dsse_entry_body`) requires: `data` is the hash
 * of the envelope's PAE with the signing key's hash, `signature.content` is
 * the envelope's signature, and `signature.verifier` is the signing
 * certificate with its key details. Shared by both Sigstore verifiers.
 *
 * @param canonicalizedBody the entry's body bytes (JSON).
 * @param leaf the bundle's signing certificate.
 * @throws {ModelSigningError} `SIGNATURE_INVALID`.
 */
export async function verifyHashedRekordV2Body(
  canonicalizedBody: Uint8Array,
  envelope: { payloadType: string; payload: Uint8Array; signature: Uint8Array },
  leaf: PathCertificate,
): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(canonicalizedBody));
  } catch {
    throw bodyError('its body is not JSON');
  }
  if (!isRecord(body) || body['kind'] !== 'hashedrekord' || body['apiVersion'] !== '0.0.2')
    throw bodyError('its body is not the hashedrekord/0.0.2 entry its kindVersion names');
  const spec = isRecord(body['spec']) && isRecord(body['spec']['hashedRekordV002']) ? body['spec']['hashedRekordV002'] : {};
  const data = isRecord(spec['data']) ? spec['data'] : {};
  const signature = isRecord(spec['signature']) ? spec['signature'] : {};
  const verifier = isRecord(signature['verifier']) ? signature['verifier'] : {};
  const certificate = isRecord(verifier['x509Certificate']) ? verifier['x509Certificate']['rawBytes'] : undefined;

  const expected = await dssePrehash(leaf, envelope.payloadType, envelope.payload);
  if (!expected) throw bodyError('the signing key is not an ECDSA P-256, P-384 or P-521 key, which a Rekor v2 entry can name');
  const content = bytesOf(signature['content']);
  if (!content || !equal(content, envelope.signature)) throw bodyError("its signature is not the envelope's");
  const digest = bytesOf(data['digest']);
  if (data['algorithm'] !== expected.algorithm || !digest || !equal(digest, expected.digest))
    throw bodyError(`its digest is not the ${expected.algorithm} of the envelope's PAE`);
  const der = bytesOf(certificate);
  if (!der || !equal(der, leaf.der) || verifier['keyDetails'] !== expected.keyDetails)
    throw bodyError(`its verifier is not the signing certificate with key details ${expected.keyDetails}`);
}

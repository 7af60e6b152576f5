/**
 * Verifies the key method's DSSE signature with WebCrypto, runtime-neutral.
 * OMS signatures are DER-encoded ECDSA (as OpenSSL writes them); WebCrypto
 * takes IEEE P1363 `r || s`, so the DER is decoded with asn1js first.
 */
import * as asn1js from 'asn1js';
import { ModelSigningError } from '../../errors.js';
import { compatPreAuthEncoding, preAuthEncoding } from '../../format/dsse.js';
import { CURVE_FIELD_BYTES, type EcCurve, type EcPublicKey } from './ec-public-key.js';

function invalid(): ModelSigningError {
  return new ModelSigningError({
    code: 'SIGNATURE_INVALID',
    message: 'The signature does not verify: the signed statement was altered, or it was signed by another key',
  });
}

/** A DER INTEGER's value as an unsigned big-endian number of exactly `size` bytes, or undefined if it is not one. */
function unsignedFixed(block: unknown, size: number): Uint8Array | undefined {
  if (!(block instanceof asn1js.Integer)) return undefined;
  let value = block.valueBlock.valueHexView;
  if (value.length === 0 || value[0] >= 0x80) return undefined; // empty or negative
  if (value.length > 1 && value[0] === 0 && value[1] < 0x80) return undefined; // not minimal: not DER
  if (value[0] === 0) value = value.subarray(1);
  if (value.length > size) return undefined;
  const out = new Uint8Array(size);
  out.set(value, size - value.length);
  return out;
}

/**
 * Converts a DER ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`) to
 * IEEE P1363 `r || s` for `curve`. Only strict DER is accepted, as OpenSSL
 * does: no trailing bytes, minimal lengths and integers.
 *
 * @returns undefined when the bytes are not such a signature.
 */
export function derToP1363(der: Uint8Array, curve: EcCurve): Uint8Array | undefined {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset !== der.length || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  const items = parsed.result.valueBlock.value;
  if (items.length !== 2) return undefined;
  const size = CURVE_FIELD_BYTES[curve];
  const r = unsignedFixed(items[0], size);
  const s = unsignedFixed(items[1], size);
  if (!r || !s) return undefined;
  // A fresh encoding of the same integers (minimal lengths) must give the
  // same bytes: that rules out the BER-only forms asn1js reads leniently
  // (non-minimal long-form or indefinite lengths), which toBER() of the
  // parsed object would reproduce.
  const integers = items.map((item) => new asn1js.Integer({ valueHex: (item as asn1js.Integer).valueBlock.valueHexView }));
  const reencoded = new Uint8Array(new asn1js.Sequence({ value: integers }).toBER(false));
  if (reencoded.length !== der.length || reencoded.some((byte, i) => byte !== der[i])) return undefined;
  const out = new Uint8Array(2 * size);
  out.set(r);
  out.set(s, size);
  return out;
}

/** What {@link verifyDsseSignature} checks. */
export interface VerifyDsseSignatureParams {
  /** The signer's key, trusted by the caller. */
  key: EcPublicKey;
  /** `dsseEnvelope.payloadType`. */
  payloadType: string;
  /** `dsseEnvelope.payload`, base64-decoded. */
  payload: Uint8Array;
  /** `dsseEnvelope.signatures[0].sig`, base64-decoded: DER ECDSA. */
  signature: Uint8Array;
  /**
   * The hash of the v0.2 fallback. Default: the curve's. Certificate bundles
   * of model_signing v0.2 used SHA-256 whatever the curve.
   */
  compatHash?: 'SHA-256' | 'SHA-384' | 'SHA-512';
}

/**
 * Verifies a key-method DSSE signature over the PAE with the curve's hash,
 * falling back (like the reference, for key bundles with the curve's hash) to
 * the v0.2 PAE so old signatures keep verifying.
 *
 * @throws {ModelSigningError} `SIGNATURE_INVALID`.
 */
export async function verifyDsseSignature(params: VerifyDsseSignatureParams): Promise<void> {
  const { key, payloadType, payload } = params;
  const signature = derToP1363(params.signature, key.curve);
  if (!signature) throw invalid();
  // The v0.2 encoding is built only when the current one fails: it is four
  // times the payload's size (600 MB for a manifest of a million files).
  const attempts: [string, () => Uint8Array][] = [
    [key.hash, () => preAuthEncoding(payloadType, payload)],
    [params.compatHash ?? key.hash, () => compatPreAuthEncoding(payloadType, payload)],
  ];
  for (const [hash, data] of attempts) {
    if (
      await crypto.subtle.verify(
        { name: 'ECDSA', hash },
        key.cryptoKey,
        signature as Uint8Array<ArrayBuffer>,
        data() as Uint8Array<ArrayBuffer>,
      )
    )
      return;
  }
  throw invalid();
}

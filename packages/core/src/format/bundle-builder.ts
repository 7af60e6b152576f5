import { ModelSigningError } from '../errors.js';
import { concatenate, toBase64 as base64, toBase64Parts } from './base64.js';
import { BUNDLE_MEDIA_TYPE, rememberPayloadParts, type SerializedBundle } from './bundle.js';
import { preAuthEncoding } from './dsse.js';
import type { SignOptions, Signer, SignatureWithMaterial, VerificationMaterial, WitnessMaterial } from './signer.js';

/** Options for {@link buildBundle}. */
export interface BuildBundleOptions extends SignatureWithMaterial {
  /** The DSSE payload the signature covers (through its PAE). */
  payload: Uint8Array;
  payloadType: string;
  /** Log entries and timestamps from {@link Signer.witness}, when the method has them. */
  witnessed?: WitnessMaterial;
  /** RFC 3161 timestamps over the signature (DER TimeStampResp each), for methods without a witness. */
  rfc3161Timestamps?: readonly Uint8Array[];
}

function materialJson(material: VerificationMaterial): Record<string, unknown> {
  switch (material.kind) {
    case 'publicKey':
      return { publicKey: { hint: material.hint } };
    case 'x509CertificateChain':
      return { x509CertificateChain: { certificates: material.certificates.map((c) => ({ rawBytes: base64(c) })) } };
    case 'certificate':
      return { certificate: { rawBytes: base64(material.certificate) } };
  }
}

/**
 * Builds the v0.3 Sigstore bundle every method writes: a DSSE envelope with
 * one signature (empty `keyid`, as the reference writes) and the verification
 * material. `tlogEntries` is always present because the reference requires it.
 */
export function buildBundle(options: BuildBundleOptions): SerializedBundle {
  const stamps = options.rfc3161Timestamps ?? [];
  const timestamped =
    stamps.length > 0 ? { timestampVerificationData: { rfc3161Timestamps: stamps.map((t) => ({ signedTimestamp: base64(t) })) } } : {};
  // The payload's base64 is kept in its pieces too, so writing a large
  // signature never reads it whole (serializeBundleParts).
  const parts = toBase64Parts(options.payload);
  const dsseEnvelope: SerializedBundle['dsseEnvelope'] = {
    payload: concatenate(parts),
    payloadType: options.payloadType,
    signatures: [{ sig: base64(options.signature), keyid: '' }],
  };
  rememberPayloadParts(dsseEnvelope, dsseEnvelope.payload, parts);
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { ...materialJson(options.material), tlogEntries: [], ...timestamped, ...options.witnessed },
    dsseEnvelope,
  };
}

/** Options for {@link signPayload}. */
export interface SignPayloadOptions extends SignOptions {
  payload: Uint8Array;
  payloadType: string;
  signer: Signer;
  /**
   * Obtains an RFC 3161 timestamp (DER TimeStampResp) over the signature
   * bytes, for signers without a witness (key, certificate, PKCS#11, KMS);
   * see `requestTimestamp`.
   */
  timestamp?: (signature: Uint8Array, options: SignOptions) => Promise<Uint8Array>;
}

/**
 * Signs a DSSE payload with any {@link Signer}: signs its PAE, timestamps
 * the signature when asked, builds the bundle, and lets the signer witness
 * it when the method logs signatures.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for `timestamp` with a
 *   signer that witnesses (Sigstore timestamps through its own TSA);
 *   the signer's and the timestamp's errors.
 */
export async function signPayload({ payload, payloadType, signer, abortSignal, timestamp }: SignPayloadOptions): Promise<SerializedBundle> {
  if (timestamp && signer.witness) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `The ${signer.method} method timestamps its signatures through its own services; a timestamp authority is only for key, certificate, PKCS#11 and KMS signing`,
    });
  }
  const options = abortSignal ? { abortSignal } : {};
  const signed = await signer.sign(preAuthEncoding(payloadType, payload), options);
  const rfc3161Timestamps = timestamp ? [await timestamp(signed.signature, options)] : [];
  const bundle = buildBundle({ payload, payloadType, ...signed, rfc3161Timestamps });
  if (!signer.witness) return bundle;
  return buildBundle({ payload, payloadType, ...signed, witnessed: await signer.witness(bundle, options) });
}

import { concatenate, toBase64 as base64, toBase64Parts } from './base64.js';
import { BUNDLE_MEDIA_TYPE, rememberPayloadParts, type SerializedBundle, type SerializedEnvelope } from './bundle.js';
import { preAuthEncoding } from './dsse.js';
import type { SignOptions, Signer, SignatureWithMaterial, VerificationMaterial, WitnessMaterial } from './signer.js';

/** Options for {@link buildBundle}. */
export interface BuildBundleOptions extends SignatureWithMaterial {
  /** The DSSE payload the signature covers (through its PAE). */
  payload: Uint8Array;
  payloadType: string;
  /** Log entries and timestamps from {@link Signer.witness}, when the method has them. */
  witnessed?: WitnessMaterial;
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
  // The payload's base64 is kept in its pieces too, so writing a large
  // signature never reads it whole (serializeBundleParts).
  const parts = toBase64Parts(options.payload);
  const dsseEnvelope: SerializedEnvelope = {
    payload: concatenate(parts),
    payloadType: options.payloadType,
    signatures: [{ sig: base64(options.signature), keyid: '' }],
  };
  rememberPayloadParts(dsseEnvelope, dsseEnvelope.payload, parts);
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { ...materialJson(options.material), tlogEntries: [], ...options.witnessed },
    dsseEnvelope,
  };
}

/** Options for {@link signPayload}. */
export interface SignPayloadOptions extends SignOptions {
  payload: Uint8Array;
  payloadType: string;
  signer: Signer;
}

/**
 * Signs a DSSE payload with any {@link Signer}: signs its PAE, builds the
 * bundle, and lets the signer witness it when the method logs signatures.
 */
export async function signPayload({ payload, payloadType, signer, signal }: SignPayloadOptions): Promise<SerializedBundle> {
  const options = signal ? { signal } : {};
  const signed = await signer.sign(preAuthEncoding(payloadType, payload), options);
  const bundle = buildBundle({ payload, payloadType, ...signed });
  if (!signer.witness) return bundle;
  return buildBundle({ payload, payloadType, ...signed, witnessed: await signer.witness(bundle, options) });
}

/**
 * The key method's verifier over WebCrypto, runtime-neutral: same checks,
 * order and error codes as Node's `KeyVerifier`.
 */
import type { ParsedBundle } from '../../format/bundle.js';
import { ModelSigningError } from '../../errors.js';
import { wrongMethodMessage, type SignerInfo, type Verifier } from '../../format/verifier.js';
import { verifyDsseSignature } from './dsse-signature.js';
import { checkKeyHint, importEcPublicKey, publicKeyHintOfPem, type EcPublicKey } from './ec-public-key.js';
import { bundleTimestamps, tsaAuthoritiesOf } from '../timestamp/verifier-timestamps.js';
import type { TimestampAuthority } from '../timestamp/verify-timestamp.js';

/** What {@link WebKeyVerifier.create} takes. */
export interface WebKeyVerifierParams {
  /** The signer's EC public key (P-256, P-384 or P-521) as PEM SubjectPublicKeyInfo: text, or its UTF-8 bytes. */
  publicKey: string | Uint8Array;
  /**
   * The timestamp authorities to check RFC 3161 timestamps against: PEM
   * texts or their bytes, every certificate a trust anchor (the TSA's chain,
   * or its root and intermediates). Then every timestamp the bundle carries must
   * verify (`TIMESTAMP_INVALID` otherwise). Without it, timestamps are
   * reported unverified and not used. See docs/timestamps.md.
   */
  tsaCertificateChain?: ReadonlyArray<string | Uint8Array>;
}

/** Verifies signatures made with an EC key against the public key the caller trusts, with WebCrypto. */
export class WebKeyVerifier implements Verifier {
  readonly method = 'key' as const;

  private constructor(
    private readonly key: EcPublicKey,
    private readonly timestampAuthorities: TimestampAuthority[] | undefined,
  ) {}

  /**
   * @throws {ModelSigningError} `BAD_KEY` for anything but an EC public key on
   *   an OMS curve, or TSA certificates that are not PEM certificates;
   *   `INVALID_ARGUMENT` for an empty `tsaCertificateChain`.
   */
  static async create(params: WebKeyVerifierParams): Promise<WebKeyVerifier> {
    const pem = typeof params.publicKey === 'string' ? params.publicKey : new TextDecoder().decode(params.publicKey);
    return new WebKeyVerifier(await importEcPublicKey(pem), await tsaAuthoritiesOf(params.tsaCertificateChain));
  }

  /** @throws {ModelSigningError} `WRONG_METHOD`, `KEY_MISMATCH`, `SIGNATURE_INVALID`, `TIMESTAMP_INVALID`. */
  async verify(bundle: ParsedBundle): Promise<SignerInfo> {
    // A certificate or keyless bundle is trusted through its certificate
    // (a chain to an anchor, an identity), which a bare key cannot check:
    // refused as the certificate verifier refuses a key bundle, so either
    // mix-up names the method to use. (The reference checks a certificate
    // bundle's signature against the key, warning that the material is of
    // an old format; the OMS spec ties each method to its material.)
    if (bundle.method !== 'key') {
      throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, this.method) });
    }
    checkKeyHint(this.key, bundle.publicKeyHint);
    if (bundle.embeddedPublicKeyPem !== undefined) {
      // Unreadable old material is left to the signature check, as in Node.
      const embedded = await publicKeyHintOfPem(bundle.embeddedPublicKeyPem);
      if (embedded !== undefined && embedded !== this.key.hint) {
        throw new ModelSigningError({
          code: 'KEY_MISMATCH',
          message: `The signature was made by another key (hint ${embedded}) than the public key given (hint ${this.key.hint})`,
        });
      }
    }
    await verifyDsseSignature({ key: this.key, payloadType: bundle.payloadType, payload: bundle.payload, signature: bundle.signature });
    // A key does not expire: a verified time changes nothing about it, but a timestamp that does not verify still refuses.
    return { method: bundle.method, publicKeyHint: this.key.hint, ...(await bundleTimestamps(bundle, this.timestampAuthorities)) };
  }
}

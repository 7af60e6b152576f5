/**
 * The certificate method's verifier without Node: RFC 5280 path validation
 * through PKI.js (certificate-path.ts, the same rules Node's
 * `CertificateVerifier` applies) and the signature through WebCrypto.
 * Trust anchors are PEM text or bytes: a browser has no files and no
 * system root store to read.
 */
import type { ParsedBundle } from '../../format/bundle.js';
import { ModelSigningError } from '../../errors.js';
import { verifyDsseSignature } from '../key/dsse-signature.js';
import { importEcSpki } from '../key/ec-public-key.js';
import {
  checkCertificateIdentity,
  validateCertificatePath,
  type CertificateIdentity,
  type CertificatePath,
  type PathCertificate,
} from './certificate-path.js';
import { parsePemCertificates } from './pem-certificates.js';
import { bundleTimestamps, tsaAuthoritiesOf } from '../timestamp/verifier-timestamps.js';
import type { TimestampAuthority } from '../timestamp/verify-timestamp.js';
import { wrongMethodMessage, type SignerInfo, type Verifier } from '../../format/verifier.js';

/** What {@link WebCertificateVerifier.create} takes. */
export interface WebCertificateVerifierParams {
  /**
   * Trust anchors: PEM texts or their bytes, each holding one or more
   * certificates (roots, or intermediates you choose to trust). At least one.
   */
  certificateChain: ReadonlyArray<string | Uint8Array>;
  /** Who the signing certificate must name (SAN, subject or fingerprint). */
  identity?: CertificateIdentity;
  /** The time the certificates must be valid at, unless a verified timestamp proves another. Default: now. */
  now?: Date;
  /**
   * The timestamp authorities to check RFC 3161 timestamps against: PEM
   * texts or their bytes, every certificate a trust anchor (the TSA's chain,
   * or its root and intermediates). Then every timestamp the bundle carries must
   * verify (`TIMESTAMP_INVALID` otherwise), and the certificate path is
   * validated at each stamped time instead of now: a signature made while
   * the certificate was valid verifies after it expires. Without it,
   * timestamps are reported unverified and not used. See docs/timestamps.md.
   */
  tsaCertificateChain?: ReadonlyArray<string | Uint8Array>;
}

/**
 * Verifies certificate-method bundles: a path from the leaf (through the
 * bundle's intermediates) to a trust anchor, every certificate on it valid
 * at `now` (or, given `tsaCertificateChain`, at each time a verified RFC 3161
 * timestamp proves), a leaf that may sign and matches the pinned identity,
 * and the leaf's key verifies the signature.
 */
export class WebCertificateVerifier implements Verifier {
  readonly method = 'certificate' as const;

  private constructor(
    private readonly anchors: PathCertificate[],
    private readonly identity: CertificateIdentity,
    private readonly now: Date | undefined,
    private readonly timestampAuthorities: TimestampAuthority[] | undefined,
  ) {}

  /**
   * @throws {ModelSigningError} `INVALID_ARGUMENT` without anchors, for a
   *   malformed fingerprint or an empty `tsaCertificateChain`; `BAD_KEY` for
   *   anchors or TSA certificates that are not PEM certificates.
   */
  static async create(params: WebCertificateVerifierParams): Promise<WebCertificateVerifier> {
    if (params.certificateChain.length === 0) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: 'Certificate verification needs trust anchors: give certificateChain (PEM text or bytes)',
      });
    }
    const fingerprint = params.identity?.fingerprintSha256;
    if (fingerprint !== undefined && !/^[0-9a-f]{64}$/i.test(fingerprint.replace(/:/g, ''))) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `The certificate fingerprint '${fingerprint}' is not a SHA-256 fingerprint (64 hex digits, colons optional)`,
      });
    }
    return new WebCertificateVerifier(
      parsePemCertificates(params.certificateChain, 'The certificate chain'),
      params.identity ?? {},
      params.now,
      await tsaAuthoritiesOf(params.tsaCertificateChain),
    );
  }

  /**
   * @throws {ModelSigningError} `WRONG_METHOD`, `TIMESTAMP_INVALID`,
   *   `CERT_CHAIN_INVALID`, `IDENTITY_MISMATCH`, `BAD_BUNDLE`, `BAD_KEY`, `SIGNATURE_INVALID`.
   */
  async verify(bundle: ParsedBundle): Promise<SignerInfo> {
    if (bundle.method !== 'certificate') {
      throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, this.method) });
    }
    // Timestamps first, as Sigstore does: the times they prove are the ones the path must hold at.
    const stamped = await bundleTimestamps(bundle, this.timestampAuthorities);
    const proven = (stamped.timestamps ?? []).filter((t) => t.verified).map((t) => t.time);
    const path = await this.pathAtEveryTime(bundle, proven, (stamped.timestamps?.length ?? 0) > proven.length);
    const leaf = path[0];
    await checkCertificateIdentity(leaf, this.identity);
    const key = await importEcSpki(new Uint8Array(leaf.certificate.subjectPublicKeyInfo.toSchema().toBER(false)));
    // model_signing v0.2 signed certificate bundles with SHA-256 whatever the curve.
    await verifyDsseSignature({
      key,
      payloadType: bundle.payloadType,
      payload: bundle.payload,
      signature: bundle.signature,
      compatHash: 'SHA-256',
    });
    return { method: 'certificate', certificateSubject: leaf.subject, ...stamped };
  }

  /**
   * The path from the leaf to an anchor, valid at every time a verified
   * timestamp proves, or else at `now`. A refusal at `now` of a bundle whose
   * timestamps were not checked says how to use them.
   */
  private async pathAtEveryTime(bundle: ParsedBundle, proven: readonly Date[], unverifiedStamps: boolean): Promise<CertificatePath> {
    const [leaf, ...intermediates] = bundle.certificates;
    let path: CertificatePath = [];
    for (const now of proven.length > 0 ? proven : [this.now ?? new Date()]) {
      try {
        path = await validateCertificatePath({ leaf, intermediates, anchors: this.anchors, now, leafPurpose: 'codeSigning' });
      } catch (cause) {
        const hint =
          proven.length > 0
            ? ' (at the signing time the verified RFC 3161 timestamp proves)'
            : unverifiedStamps
              ? '; the signature carries an RFC 3161 timestamp: give its timestamp authority with the tsaCertificateChain option to check the certificate at the time it proves instead'
              : '';
        if (!hint || !(cause instanceof ModelSigningError) || cause.code !== 'CERT_CHAIN_INVALID') throw cause;
        throw new ModelSigningError({ code: 'CERT_CHAIN_INVALID', cause, message: `${cause.message}${hint}` });
      }
    }
    return path;
  }
}

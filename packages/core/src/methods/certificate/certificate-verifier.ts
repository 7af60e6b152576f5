// Node's certificate verifier: it reads trust anchors from files and can add
// Node's bundled root store, then hands them to the runtime-neutral
// WebCertificateVerifier, so both entries run one path validation and one
// ECDSA check with the same error codes.
import { rootCertificates } from 'node:tls';
import type { ParsedBundle } from '../../format/bundle.js';
import { ModelSigningError } from '../../errors.js';
import type { SignerInfo, Verifier } from '../../format/verifier.js';
import { readCertificatePems } from '../key/keys.js';
import type { CertificateIdentity } from './certificate-path.js';
import type { WebCertificateVerifier, WebCertificateVerifierParams } from './web-certificate-verifier.js';

export type { CertificateIdentity } from './certificate-path.js';

/**
 * Options for {@link CertificateVerifier.create}. Trust must be explicit:
 * give `certificateChain`, or opt in to the public roots with `useSystemRoots`.
 */
export interface CertificateVerifierOptions {
  /**
   * Trust anchors: PEM paths, texts or bytes, each holding one or more
   * certificates (roots, or intermediates you choose to trust).
   */
  certificateChain?: ReadonlyArray<string | Buffer>;
  /**
   * Also trust the Mozilla root store bundled with Node (the reference's
   * default, certifi, is the same list). Any publicly trusted certificate that
   * may sign then verifies, so pin an `identity` with it.
   */
  useSystemRoots?: boolean;
  /** Who the signing certificate must name (SAN, subject or fingerprint). */
  identity?: CertificateIdentity;
  /** The time the certificates must be valid at, unless a verified timestamp proves another. Default: now. */
  now?: Date;
  /**
   * The timestamp authorities to check RFC 3161 timestamps against: PEM
   * paths, texts or bytes, every certificate a trust anchor (the TSA's chain,
   * or its root and intermediates). Then every timestamp the bundle carries must
   * verify (`TIMESTAMP_INVALID` otherwise), and the certificate path is
   * validated at each stamped time instead of now: a signature made while
   * the certificate was valid verifies after it expires. Without it,
   * timestamps are reported unverified and not used. See docs/timestamps.md.
   */
  tsaCertificateChain?: ReadonlyArray<string | Buffer>;
}

/**
 * Verifies certificate-method bundles: RFC 5280 path validation from the
 * leaf (through the bundle's intermediates) to a trust anchor, every
 * certificate on the path valid now, a leaf that may sign (digitalSignature
 * or codeSigning) and matches the pinned identity, and the leaf's key
 * verifies the signature.
 */
export class CertificateVerifier implements Verifier {
  readonly method = 'certificate' as const;

  private constructor(private readonly verifier: WebCertificateVerifier) {}

  /**
   * @throws {ModelSigningError} `INVALID_ARGUMENT` without `certificateChain`
   *   or `useSystemRoots`, for a malformed fingerprint or an empty
   *   `tsaCertificateChain`; `NOT_FOUND`, `BAD_KEY` for unreadable anchors or TSA certificates.
   */
  static async create(options: CertificateVerifierOptions): Promise<CertificateVerifier> {
    const chain = options.certificateChain ?? [];
    if (chain.length === 0 && options.useSystemRoots !== true) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message:
          'Certificate verification needs trust anchors: give the certificateChain option, or opt in to the public roots with the useSystemRoots option',
      });
    }
    const anchors = await readCertificatePems(chain, 'certificate chain');
    if (options.useSystemRoots === true) anchors.push(...rootCertificates);
    const params: WebCertificateVerifierParams = { certificateChain: anchors };
    if (options.identity !== undefined) params.identity = options.identity;
    if (options.now !== undefined) params.now = options.now;
    if (options.tsaCertificateChain !== undefined) {
      params.tsaCertificateChain = await readCertificatePems(options.tsaCertificateChain, 'TSA certificate chain');
    }
    // Loaded here, not at import: PKI.js's import alone costs more than a
    // `verify key --trust-cache` run, and most users of this entry never need it.
    const { WebCertificateVerifier: Web } = await import('./web-certificate-verifier.js');
    return new CertificateVerifier(await Web.create(params));
  }

  /** @throws {ModelSigningError} `WRONG_METHOD`, `TIMESTAMP_INVALID`, `CERT_CHAIN_INVALID`, `IDENTITY_MISMATCH`, `BAD_BUNDLE`, `BAD_KEY`, `SIGNATURE_INVALID`. */
  verify(bundle: ParsedBundle): Promise<SignerInfo> {
    return this.verifier.verify(bundle);
  }
}

import { X509Certificate, type KeyObject } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { ParsedBundle } from '../../format/bundle.js';
import { ModelSigningError } from '../../errors.js';
import { loadCertificates, readPem } from '../key/keys.js';
import type { CertificateIdentity, PathCertificate } from './certificate-path.js';
import { verifyDsseSignature } from '../key/ecdsa.js';
import { wrongMethodMessage, type SignerInfo, type Verifier } from '../../format/verifier.js';

export type { CertificateIdentity } from './certificate-path.js';

/**
 * The path validation module, loaded on first use: PKI.js takes a noticeable
 * share of start-up, and key and keyless verification never need it.
 */
const certificatePath = () => import('./certificate-path.js');

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
  /** The time the certificates must be valid at. Default: now. */
  now?: Date;
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

  private constructor(
    private readonly anchors: PathCertificate[],
    private readonly identity: CertificateIdentity,
    private readonly now: Date | undefined,
  ) {}

  /**
   * @throws {ModelSigningError} `INVALID_ARGUMENT` without `certificateChain`
   *   or `useSystemRoots`, or for a malformed fingerprint; `NOT_FOUND`,
   *   `BAD_KEY` for unreadable anchors.
   */
  static async create(options: CertificateVerifierOptions): Promise<CertificateVerifier> {
    const chain = options.certificateChain ?? [];
    if (chain.length === 0 && options.useSystemRoots !== true) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: 'Certificate verification needs trust anchors: give certificateChain (--certificate-chain) or opt in to the public roots with useSystemRoots (--use-system-roots)',
      });
    }
    const fingerprint = options.identity?.fingerprintSha256;
    if (fingerprint !== undefined && !/^[0-9a-f]{64}$/i.test(fingerprint.replace(/:/g, ''))) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `The certificate fingerprint '${fingerprint}' is not a SHA-256 fingerprint (64 hex digits, colons optional)`,
      });
    }
    const { parseCertificate } = await certificatePath();
    const parseAnchor = (der: Uint8Array, what: string): PathCertificate => {
      try {
        return parseCertificate(der);
      } catch (cause) {
        throw new ModelSigningError({ code: 'BAD_KEY', cause, message: `${what} holds a certificate that cannot be parsed: ${(cause as Error).message}` });
      }
    };
    const anchors: PathCertificate[] = [];
    for (const source of chain) {
      for (const cert of loadCertificates(await readPem(source, 'certificate chain'), 'The certificate chain')) {
        anchors.push(parseAnchor(cert.raw, 'The certificate chain'));
      }
    }
    if (options.useSystemRoots === true) {
      for (const pem of rootCertificates) anchors.push(parseAnchor(new X509Certificate(pem).raw, 'The system root store'));
    }
    return new CertificateVerifier(anchors, options.identity ?? {}, options.now);
  }

  async verify(bundle: ParsedBundle): Promise<SignerInfo> {
    if (bundle.method !== 'certificate') {
      throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, this.method) });
    }
    const { checkCertificateIdentity, validateCertificatePath } = await certificatePath();
    const [leafDer, ...intermediates] = bundle.certificates;
    const path = await validateCertificatePath({ leaf: leafDer!, intermediates, anchors: this.anchors, now: this.now ?? new Date() });
    const leaf = path[0]!;
    await checkCertificateIdentity(leaf, this.identity);
    // model_signing v0.2 signed certificate bundles with SHA-256 whatever the curve.
    verifyDsseSignature(bundle, leafPublicKey(leafDer!), 'sha256');
    return { method: 'certificate', certificateSubject: leaf.subject };
  }
}

function leafPublicKey(der: Uint8Array): KeyObject {
  try {
    return new X509Certificate(der).publicKey;
  } catch (cause) {
    throw new ModelSigningError({ code: 'BAD_BUNDLE', cause, message: `Invalid signature bundle: the signing certificate's key cannot be read: ${(cause as Error).message}` });
  }
}

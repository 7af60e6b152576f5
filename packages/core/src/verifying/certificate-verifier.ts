import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { ParsedBundle } from '../bundle/bundle.js';
import { ModelSigningError } from '../errors.js';
import { loadCertificates, readPem } from '../signing/keys.js';
import { verifyDsseSignature } from './ecdsa.js';
import { wrongMethodMessage, type SignerInfo, type Verifier } from './verifier.js';

const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
const MAX_CHAIN_LENGTH = 10;

/** Options for {@link CertificateVerifier.create}. */
export interface CertificateVerifierOptions {
  /**
   * Trust anchors: PEM paths, texts or bytes, each holding one or more
   * certificates. Default: the Mozilla roots bundled with Node (as the
   * reference defaults to certifi's).
   */
  certificateChain?: ReadonlyArray<string | Buffer>;
  /** The time the certificates must be valid at. Default: now. */
  now?: Date;
}

function chainError(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'CERT_CHAIN_INVALID', message });
}

function subjectOf(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ');
}

/**
 * Verifies certificate-method bundles: the leaf chains (through the bundle's
 * intermediates) to a trust anchor, every certificate on the path is valid
 * now, the leaf may sign (digitalSignature or codeSigning), and the leaf's
 * key verifies the signature.
 */
export class CertificateVerifier implements Verifier {
  readonly method = 'certificate' as const;

  private constructor(
    private readonly anchors: X509Certificate[],
    private readonly now: Date | undefined,
  ) {}

  /** @throws {ModelSigningError} `NOT_FOUND`, `BAD_KEY`. */
  static async create(options: CertificateVerifierOptions = {}): Promise<CertificateVerifier> {
    const anchors: X509Certificate[] = [];
    if (options.certificateChain && options.certificateChain.length > 0) {
      for (const source of options.certificateChain) anchors.push(...loadCertificates(await readPem(source, 'certificate chain'), 'The certificate chain'));
    } else {
      for (const pem of rootCertificates) anchors.push(new X509Certificate(pem));
    }
    return new CertificateVerifier(anchors, options.now);
  }

  async verify(bundle: ParsedBundle): Promise<SignerInfo> {
    if (bundle.method !== 'certificate') {
      throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, this.method) });
    }
    let certs: X509Certificate[];
    try {
      certs = bundle.certificates.map((der) => new X509Certificate(der));
    } catch (cause) {
      throw new ModelSigningError({ code: 'BAD_BUNDLE', cause, message: `Invalid signature bundle: a certificate cannot be parsed: ${(cause as Error).message}` });
    }
    const leaf = certs[0]!;
    const path = this.buildPath(leaf, certs.slice(1));
    const now = this.now ?? new Date();
    for (const cert of path) {
      if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
        throw chainError(`Certificate '${subjectOf(cert)}' is not valid at ${now.toISOString()} (valid ${cert.validFrom} to ${cert.validTo})`);
      }
    }
    await this.checkSigningUsage(leaf);
    // model_signing v0.2 signed certificate bundles with SHA-256 whatever the curve.
    verifyDsseSignature(bundle, leaf.publicKey, 'sha256');
    return { method: 'certificate', certificateSubject: subjectOf(leaf) };
  }

  private buildPath(leaf: X509Certificate, intermediates: X509Certificate[]): X509Certificate[] {
    const isAnchor = (c: X509Certificate) => this.anchors.some((a) => a.fingerprint256 === c.fingerprint256);
    const issuedBy = (child: X509Certificate, parent: X509Certificate) => {
      try {
        return child.checkIssued(parent) && child.verify(parent.publicKey);
      } catch {
        return false;
      }
    };
    const path = [leaf];
    let current = leaf;
    for (let depth = 0; depth < MAX_CHAIN_LENGTH; depth++) {
      if (isAnchor(current)) return path;
      const anchor = this.anchors.find((a) => issuedBy(current, a));
      if (anchor) {
        if (!anchor.ca) throw chainError(`Trust anchor '${subjectOf(anchor)}' is not a CA certificate`);
        path.push(anchor);
        return path;
      }
      const parent = intermediates.find((c) => !path.includes(c) && issuedBy(current, c));
      if (!parent) break;
      if (!parent.ca) throw chainError(`Certificate '${subjectOf(parent)}' issued a certificate but is not a CA`);
      path.push(parent);
      current = parent;
    }
    throw chainError(
      `The signing certificate '${subjectOf(leaf)}' does not chain to any trusted certificate; pass the issuing CA with --certificate-chain`,
    );
  }

  private async checkSigningUsage(leaf: X509Certificate): Promise<void> {
    // node:crypto does not expose the KeyUsage bits; @sigstore/core parses them.
    // Loaded here, on first use, to keep start-up fast for everyone else.
    const { X509Certificate: SigstoreX509 } = await import('@sigstore/core');
    const keyUsage = SigstoreX509.parse(leaf.raw).extKeyUsage;
    const digitalSignature = keyUsage?.digitalSignature ?? false;
    const codeSigning = (leaf.keyUsage ?? []).includes(CODE_SIGNING_EKU);
    if (!digitalSignature && !codeSigning) {
      throw chainError(`Certificate '${subjectOf(leaf)}' may not be used for signing (needs key usage digitalSignature or extended key usage codeSigning)`);
    }
  }
}

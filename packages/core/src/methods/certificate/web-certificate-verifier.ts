/**
 * The certificate method's verifier without Node: RFC 5280 path validation
 * through PKI.js (certificate-path.ts, the same rules Node's
 * `CertificateVerifier` applies) and the signature through WebCrypto.
 * Trust anchors are PEM text or bytes: a browser has no files and no
 * system root store to read.
 */
import type { ParsedBundle } from '../../format/bundle.js';
import { ModelSigningError } from '../../errors.js';
import { fromBase64 } from '../../format/base64.js';
import { verifyDsseSignature } from '../key/dsse-signature.js';
import { importEcSpki } from '../key/ec-public-key.js';
import {
  checkCertificateIdentity,
  parseCertificate,
  validateCertificatePath,
  type CertificateIdentity,
  type PathCertificate,
} from './certificate-path.js';
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
  /** The time the certificates must be valid at. Default: now. */
  now?: Date;
}

function badAnchor(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_KEY', cause, message });
}

/** Every certificate of one PEM source, parsed. */
function anchorsOf(source: string | Uint8Array): PathCertificate[] {
  const text = typeof source === 'string' ? source : new TextDecoder().decode(source);
  const blocks = text.match(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw badAnchor('The certificate chain contains no PEM certificate');
  return blocks.map((block) => {
    try {
      return parseCertificate(fromBase64(block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')));
    } catch (cause) {
      throw badAnchor(`The certificate chain holds a certificate that cannot be parsed: ${(cause as Error).message}`, cause);
    }
  });
}

/**
 * Verifies certificate-method bundles: a path from the leaf (through the
 * bundle's intermediates) to a trust anchor, every certificate on it valid
 * at `now`, a leaf that may sign and matches the pinned identity, and the
 * leaf's key verifies the signature.
 */
export class WebCertificateVerifier implements Verifier {
  readonly method = 'certificate' as const;

  private constructor(
    private readonly anchors: PathCertificate[],
    private readonly identity: CertificateIdentity,
    private readonly now: Date | undefined,
  ) {}

  /**
   * @throws {ModelSigningError} `INVALID_ARGUMENT` without anchors or for a
   *   malformed fingerprint; `BAD_KEY` for anchors that are not PEM certificates.
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
    return new WebCertificateVerifier(params.certificateChain.flatMap(anchorsOf), params.identity ?? {}, params.now);
  }

  /** @throws {ModelSigningError} `WRONG_METHOD`, `CERT_CHAIN_INVALID`, `IDENTITY_MISMATCH`, `BAD_BUNDLE`, `BAD_KEY`, `SIGNATURE_INVALID`. */
  async verify(bundle: ParsedBundle): Promise<SignerInfo> {
    if (bundle.method !== 'certificate') {
      throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, this.method) });
    }
    const [leafDer, ...intermediates] = bundle.certificates;
    const path = await validateCertificatePath({
      leaf: leafDer,
      intermediates,
      anchors: this.anchors,
      now: this.now ?? new Date(),
      leafPurpose: 'codeSigning',
    });
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
    return { method: 'certificate', certificateSubject: leaf.subject };
  }
}

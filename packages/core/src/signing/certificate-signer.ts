import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { BUNDLE_MEDIA_TYPE, type SerializedBundle } from '../bundle/bundle.js';
import { ModelSigningError } from '../errors.js';
import { signPae } from './key-signer.js';
import { loadCertificates, loadPrivateKey, readPem } from './keys.js';
import type { SignRequest, Signer } from './signer.js';

/** Options for {@link CertificateSigner.create}. */
export interface CertificateSignerOptions {
  /** EC private key: PEM path, text or bytes. */
  privateKey: string | Buffer;
  password?: string;
  /** The signing (leaf) certificate for that key: PEM path, text or bytes. */
  signingCertificate: string | Buffer;
  /** Certificates to include after the leaf (intermediates, optionally the root), in order. */
  certificateChain?: ReadonlyArray<string | Buffer>;
}

/** Signs with an EC key; the bundle carries the leaf certificate and chain (`x509CertificateChain`). */
export class CertificateSigner implements Signer {
  readonly method = 'certificate' as const;

  private constructor(
    private readonly key: KeyObject,
    private readonly chain: X509Certificate[],
  ) {}

  /**
   * @throws {ModelSigningError} `NOT_FOUND`, `BAD_KEY` (also when the certificate is not for this key),
   *   `INVALID_ARGUMENT` (a password for a key that is not encrypted).
   */
  static async create(options: CertificateSignerOptions): Promise<CertificateSigner> {
    const key = loadPrivateKey(await readPem(options.privateKey, 'private key'), options.password);
    const [leaf] = loadCertificates(await readPem(options.signingCertificate, 'signing certificate'), 'The signing certificate');
    const chain = [leaf!];
    for (const source of options.certificateChain ?? []) {
      chain.push(...loadCertificates(await readPem(source, 'certificate chain'), 'The certificate chain'));
    }
    const keySpki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    const certSpki = leaf!.publicKey.export({ type: 'spki', format: 'der' });
    if (!keySpki.equals(certSpki)) {
      throw new ModelSigningError({
        code: 'BAD_KEY',
        message: `The signing certificate (${leaf!.subject.replace(/\n/g, ', ')}) is not for this private key`,
      });
    }
    return new CertificateSigner(key, chain);
  }

  async sign({ payload, payloadType }: SignRequest): Promise<SerializedBundle> {
    return {
      mediaType: BUNDLE_MEDIA_TYPE,
      verificationMaterial: {
        x509CertificateChain: { certificates: this.chain.map((c) => ({ rawBytes: c.raw.toString('base64') })) },
        tlogEntries: [],
      },
      dsseEnvelope: {
        payload: Buffer.from(payload).toString('base64'),
        payloadType,
        signatures: [{ sig: signPae(this.key, payloadType, payload).toString('base64'), keyid: '' }],
      },
    };
  }
}

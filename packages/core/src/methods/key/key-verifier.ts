// Node's key verifier: it reads the key from a file and accepts every PEM form
// node:crypto reads (a certificate too), then hands the key, re-encoded as
// SubjectPublicKeyInfo, to the runtime-neutral WebKeyVerifier, so both
// entries run one ECDSA check with the same order of checks and error codes.
import type { ParsedBundle } from '../../format/bundle.js';
import type { SignerInfo, Verifier } from '../../format/verifier.js';
import { loadPublicKey, publicKeyPem, readCertificatePems, readPem } from './keys.js';
import { WebKeyVerifier, type WebKeyVerifierParams } from './web-key-verifier.js';

/** Options for {@link KeyVerifier.create}. */
export interface KeyVerifierOptions {
  /** The signer's EC public key: PEM path, text or bytes. */
  publicKey: string | Buffer;
  /**
   * The timestamp authorities to check RFC 3161 timestamps against: PEM
   * paths, texts or bytes, every certificate a trust anchor. Then every
   * timestamp the bundle carries must verify (`TIMESTAMP_INVALID`
   * otherwise); a key does not expire, so the time is only reported.
   * Without it, timestamps are reported unverified. See docs/timestamps.md.
   */
  tsaCertificateChain?: ReadonlyArray<string | Buffer>;
}

/** Verifies signatures made with an EC key against the public key the caller trusts. */
export class KeyVerifier implements Verifier {
  readonly method = 'key' as const;

  private constructor(private readonly verifier: WebKeyVerifier) {}

  /**
   * @throws {ModelSigningError} `NOT_FOUND`, `BAD_KEY` (also when given a
   *   private key, or TSA certificates that are not PEM certificates);
   *   `INVALID_ARGUMENT` for an empty `tsaCertificateChain`.
   */
  static async create(options: KeyVerifierOptions): Promise<KeyVerifier> {
    const key = loadPublicKey(await readPem(options.publicKey, 'public key'));
    const params: WebKeyVerifierParams = { publicKey: publicKeyPem(key) };
    if (options.tsaCertificateChain !== undefined) {
      params.tsaCertificateChain = await readCertificatePems(options.tsaCertificateChain, 'TSA certificate chain');
    }
    return new KeyVerifier(await WebKeyVerifier.create(params));
  }

  /** @throws {ModelSigningError} `WRONG_METHOD`, `KEY_MISMATCH`, `SIGNATURE_INVALID`, `TIMESTAMP_INVALID`. */
  verify(bundle: ParsedBundle): Promise<SignerInfo> {
    return this.verifier.verify(bundle);
  }
}

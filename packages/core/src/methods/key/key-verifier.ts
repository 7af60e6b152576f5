import { createPublicKey, type KeyObject } from 'node:crypto';
import type { ParsedBundle } from '../../format/bundle.js';
import { ModelSigningError } from '../../errors.js';
import { loadPublicKey, publicKeyHint, readPem } from './keys.js';
import { verifyDsseSignature } from './ecdsa.js';
import { wrongMethodMessage, type SignerInfo, type Verifier } from '../../format/verifier.js';

/** Options for {@link KeyVerifier.create}. */
export interface KeyVerifierOptions {
  /** The signer's EC public key: PEM path, text or bytes. */
  publicKey: string | Buffer;
}

/** Verifies signatures made with an EC key against the public key the caller trusts. */
export class KeyVerifier implements Verifier {
  readonly method = 'key' as const;

  private constructor(private readonly key: KeyObject) {}

  /** @throws {ModelSigningError} `NOT_FOUND`, `BAD_KEY` (also when given a private key). */
  static async create(options: KeyVerifierOptions): Promise<KeyVerifier> {
    return new KeyVerifier(loadPublicKey(await readPem(options.publicKey, 'public key')));
  }

  async verify(bundle: ParsedBundle): Promise<SignerInfo> {
    // Like the reference, a certificate bundle may be checked against its key
    // directly; a keyless bundle must go through Sigstore verification.
    if (bundle.method === 'sigstore') {
      throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, this.method) });
    }
    const hint = publicKeyHint(this.key);
    if (bundle.publicKeyHint !== undefined && bundle.publicKeyHint !== hint) {
      throw new ModelSigningError({
        code: 'KEY_MISMATCH',
        message: `The signature was made by another key (key hint ${bundle.publicKeyHint}) than the public key given (hint ${hint})`,
      });
    }
    if (bundle.embeddedPublicKeyPem !== undefined) {
      let embedded: string | undefined;
      try {
        embedded = publicKeyHint(createPublicKey(bundle.embeddedPublicKeyPem));
      } catch {
        embedded = undefined; // unreadable old material: the signature check decides
      }
      if (embedded !== undefined && embedded !== hint) {
        throw new ModelSigningError({ code: 'KEY_MISMATCH', message: `The signature was made by another key (hint ${embedded}) than the public key given (hint ${hint})` });
      }
    }
    verifyDsseSignature(bundle, this.key);
    return { method: bundle.method, publicKeyHint: hint };
  }
}

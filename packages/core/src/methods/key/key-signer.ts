import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { hashForKey, loadPrivateKey, publicKeyHint, readPem } from './keys.js';
import type { SignatureWithMaterial, Signer } from '../../format/signer.js';
import type { Verifier } from '../../format/verifier.js';
import { ownSignatureVerifier } from '../own-signature-verifier.js';

/** Options for {@link KeySigner.create}. */
export interface KeySignerOptions {
  /** PEM file path, PEM text, or PEM bytes of an EC private key (SEC1 or PKCS#8). */
  privateKey: string | Buffer;
  /** Password of an encrypted key. */
  password?: string;
}

/** Signs with an EC private key; the bundle carries the key's hint (`publicKey.hint`). */
export class KeySigner implements Signer {
  readonly method = 'key' as const;

  private constructor(private readonly key: KeyObject) {}

  /** @throws {ModelSigningError} `NOT_FOUND`, `BAD_KEY`. */
  static async create(options: KeySignerOptions): Promise<KeySigner> {
    return new KeySigner(loadPrivateKey(await readPem(options.privateKey, 'private key'), options.password));
  }

  /** ECDSA with the curve's hash; DER signature. */
  async sign(pae: Uint8Array): Promise<SignatureWithMaterial> {
    return { signature: cryptoSign(hashForKey(this.key), pae, this.key), material: { kind: 'publicKey', hint: publicKeyHint(this.key) } };
  }

  /** A {@link KeyVerifier} for this key's public half. */
  ownSignatureVerifier(): Promise<Verifier> {
    return ownSignatureVerifier(this.key);
  }
}

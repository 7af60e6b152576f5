import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { BUNDLE_MEDIA_TYPE, type SerializedBundle } from '../bundle/bundle.js';
import { preAuthEncoding } from '../bundle/dsse.js';
import { hashForKey, loadPrivateKey, publicKeyHint, readPem } from './keys.js';
import type { SignRequest, Signer } from './signer.js';

/** Options for {@link KeySigner.create}. */
export interface KeySignerOptions {
  /** PEM file path, PEM text, or PEM bytes of an EC private key (SEC1 or PKCS#8). */
  privateKey: string | Buffer;
  /** Password of an encrypted key. */
  password?: string;
}

/** ECDSA-signs the DSSE PAE with the curve's hash; returns DER. */
export function signPae(key: KeyObject, payloadType: string, payload: Uint8Array): Buffer {
  return cryptoSign(hashForKey(key), preAuthEncoding(payloadType, payload), key);
}

/** Signs with an EC private key; the bundle carries the key's hint (`publicKey.hint`). */
export class KeySigner implements Signer {
  readonly method = 'key' as const;

  private constructor(private readonly key: KeyObject) {}

  /** @throws {ModelSigningError} `NOT_FOUND`, `BAD_KEY`. */
  static async create(options: KeySignerOptions): Promise<KeySigner> {
    return new KeySigner(loadPrivateKey(await readPem(options.privateKey, 'private key'), options.password));
  }

  async sign({ payload, payloadType }: SignRequest): Promise<SerializedBundle> {
    return {
      mediaType: BUNDLE_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint: publicKeyHint(this.key) }, tlogEntries: [] },
      dsseEnvelope: {
        payload: Buffer.from(payload).toString('base64'),
        payloadType,
        signatures: [{ sig: signPae(this.key, payloadType, payload).toString('base64'), keyid: '' }],
      },
    };
  }
}

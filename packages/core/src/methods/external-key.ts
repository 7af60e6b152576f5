import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { throwIfAborted } from '../cancellation.js';
import { ModelSigningError } from '../errors.js';
import { hashForKey, publicKeyHint } from './key/keys.js';
import type { SignOptions, SignatureWithMaterial, Signer, VerificationMaterial } from '../format/signer.js';
import type { Verifier } from '../format/verifier.js';
import { ownSignatureVerifier } from './own-signature-verifier.js';

/** What an external key (a PKCS#11 token, a cloud KMS) is asked to sign. */
export interface ExternalSignRequest extends SignOptions {
  /** The DSSE PAE, for services that hash the message themselves. */
  pae: Uint8Array;
  /** `pae` hashed with `hash`, for services that sign a digest. */
  digest: Buffer;
  /** The hash OMS pairs with the key's curve. */
  hash: 'sha256' | 'sha384' | 'sha512';
}

/** A signature from an external key: DER (KMS) or raw `r || s` (PKCS#11 `CKM_ECDSA`). */
export interface ExternalSignature {
  signature: Uint8Array;
  encoding: 'der' | 'ieee-p1363';
}

/** Options for {@link ExternalKeySigner}. */
export interface ExternalKeySignerOptions {
  /** The EC public key of the external private key. */
  publicKey: KeyObject;
  /** Where the service is named in errors, e.g. `PKCS#11 token 'ci'`. */
  description: string;
  /** Certificate chain material (certificate method); the key's hint otherwise. */
  material?: VerificationMaterial;
  /** Has the service sign `request.digest` (the PAE hashed with the curve's hash) and returns its signature. */
  sign(request: ExternalSignRequest): Promise<ExternalSignature>;
}

/**
 * A signer whose private key never leaves a token or a key service. It
 * hashes the PAE with the curve's hash, has the service sign, and checks the
 * result against the public key before returning it, so a service that signs
 * with another key or another hash never produces a signature file.
 */
export class ExternalKeySigner implements Signer {
  readonly method: 'key' | 'certificate';
  private readonly material: VerificationMaterial;

  /** @throws {ModelSigningError} `BAD_KEY` when the public key is not P-256, P-384 or P-521. */
  constructor(private readonly options: ExternalKeySignerOptions) {
    hashForKey(options.publicKey);
    this.material = options.material ?? { kind: 'publicKey', hint: publicKeyHint(options.publicKey) };
    this.method = this.material.kind === 'publicKey' ? 'key' : 'certificate';
  }

  /** The external key's public key, e.g. to export it for verifiers. */
  get publicKey(): KeyObject {
    return this.options.publicKey;
  }

  /**
   * The token's or the service's public key as a {@link KeyVerifier}, or the
   * certificate and chain as trust anchors of a {@link CertificateVerifier}:
   * no signature is requested.
   */
  ownSignatureVerifier(): Promise<Verifier> {
    return ownSignatureVerifier(
      this.options.publicKey,
      this.material.kind === 'x509CertificateChain' ? this.material.certificates : undefined,
    );
  }

  /** @throws {ModelSigningError} `ABORTED`; the service's errors; `KEY_SERVICE_ERROR` when its signature does not verify. */
  async sign(pae: Uint8Array, { abortSignal }: SignOptions = {}): Promise<SignatureWithMaterial> {
    throwIfAborted(abortSignal, { doing: 'signing' });
    const hash = hashForKey(this.options.publicKey);
    const digest = createHash(hash).update(pae).digest();
    const { signature, encoding } = await this.options.sign({ pae, digest, hash, ...(abortSignal ? { abortSignal } : {}) });
    let valid: boolean;
    try {
      valid = cryptoVerify(hash, pae, { key: this.options.publicKey, dsaEncoding: encoding }, signature);
    } catch {
      valid = false;
    }
    if (!valid) {
      throw new ModelSigningError({
        code: 'KEY_SERVICE_ERROR',
        message: `The signature from ${this.options.description} does not verify with its public key; nothing was written`,
      });
    }
    return { signature: encoding === 'der' ? Buffer.from(signature) : p1363ToDer(signature), material: this.material };
  }
}

/** A DER INTEGER holding the unsigned big-endian `bytes`. */
function derInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = Buffer.from(bytes.subarray(start));
  // A set top bit would make the INTEGER negative: prefix a zero byte.
  const value = body[0] & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body;
  return Buffer.concat([Buffer.from([0x02, value.length]), value]);
}

/**
 * Converts a raw ECDSA signature (`r || s`, IEEE P1363, as PKCS#11 and
 * WebCrypto return it) to the DER `ECDSA-Sig-Value` bundles carry.
 */
export function p1363ToDer(signature: Uint8Array): Buffer {
  const half = signature.length / 2;
  const body = Buffer.concat([derInteger(signature.subarray(0, half)), derInteger(signature.subarray(half))]);
  // P-521 signatures exceed 127 bytes and need the long length form.
  const length = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), length, body]);
}

/**
 * Loads an optional package on first use, so core works without the native
 * PKCS#11 binding or a cloud SDK for everyone who does not need them.
 *
 * @throws {ModelSigningError} `MISSING_DEPENDENCY` naming the package to install.
 */
export async function loadOptionalPackage<T>(name: string, load: () => Promise<T>, feature: string): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw cause;
    throw new ModelSigningError({
      code: 'MISSING_DEPENDENCY',
      cause,
      message: `${feature} needs the optional package '${name}': install it beside @model-signing/core (npm install ${name})`,
    });
  }
}

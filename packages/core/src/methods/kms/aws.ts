import { createPublicKey, type KeyObject } from 'node:crypto';
import type { GetPublicKeyCommandOutput, KMSClient } from '@aws-sdk/client-kms';
import { abortedError } from '../../cancellation.js';
import { ModelSigningError, type ErrorCode } from '../../errors.js';
import { loadOptionalPackage, type ExternalSignRequest } from '../external-key.js';
import { hashForKey } from '../key/keys.js';
import type { KmsProvider } from './provider.js';

/**
 * AWS credentials, in the shape the AWS SDK takes them (its
 * `AwsCredentialIdentity`). Spelled out here so this package's types do not
 * depend on the optional `@aws-sdk/client-kms`: a project without it still
 * type-checks them (no `skipLibCheck` needed).
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** How to reach AWS KMS; anything left out comes from the usual AWS configuration (environment, `~/.aws`, instance roles). */
export interface AwsKmsOptions {
  /** Region; default from the key ARN, else `AWS_REGION` / the AWS config file. */
  region?: string;
  /** Endpoint URL, e.g. a VPC endpoint; default from `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL`, else AWS's. */
  endpoint?: string;
  /** Explicit credentials, or a function that resolves them (e.g. one of `@aws-sdk/credential-providers`); default the SDK's credential chain. */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
}

/** The KMS signing algorithm for the hash OMS pairs with each curve. */
const ALGORITHMS = { sha256: 'ECDSA_SHA_256', sha384: 'ECDSA_SHA_384', sha512: 'ECDSA_SHA_512' } as const;

/** The curve's hash, or undefined for curves OMS does not allow (e.g. ECC_SECG_P256K1). */
function curveHash(key: KeyObject): keyof typeof ALGORITHMS | undefined {
  try {
    return hashForKey(key);
  } catch {
    return undefined;
  }
}

/** KMS signs messages of up to 4096 bytes itself; larger PAEs are sent as their digest. */
const MAX_RAW_MESSAGE = 4096;

const CODES: Record<string, ErrorCode> = {
  NotFoundException: 'NOT_FOUND',
  InvalidArnException: 'INVALID_ARGUMENT',
  ValidationException: 'INVALID_ARGUMENT',
  AccessDeniedException: 'ACCESS_DENIED',
  UnrecognizedClientException: 'ACCESS_DENIED',
  InvalidSignatureException: 'ACCESS_DENIED',
  ExpiredTokenException: 'ACCESS_DENIED',
  CredentialsProviderError: 'ACCESS_DENIED',
  InvalidKeyUsageException: 'BAD_KEY',
  UnsupportedOperationException: 'BAD_KEY',
};

const NETWORK = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up|TimeoutError/;

function kmsError(err: unknown, doing: string, key: string): ModelSigningError {
  if (err instanceof ModelSigningError) return err;
  const e = err as Error & { code?: string };
  if (e.name === 'AbortError') return abortedError(undefined, { doing: `${doing} with ${key}`, cause: err });
  const detail = `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  const code =
    CODES[e.name] ??
    (NETWORK.test(`${e.code ?? ''} ${e.name} ${e.message}`)
      ? 'NETWORK_ERROR'
      : /region is missing/i.test(e.message)
        ? 'INVALID_ARGUMENT'
        : 'KEY_SERVICE_ERROR');
  const hint =
    code === 'NETWORK_ERROR'
      ? ' (is the endpoint reachable? set AWS_ENDPOINT_URL_KMS or AWS_REGION)'
      : code === 'INVALID_ARGUMENT' && /region/i.test(e.message)
        ? ' (set AWS_REGION, or use the key ARN)'
        : '';
  return new ModelSigningError({ code, cause: err, message: `AWS KMS ${doing} for key '${key}' failed: ${detail}${hint}` });
}

/** The region in a KMS key or alias ARN (`arn:aws:kms:<region>:<account>:key/<id>`). */
function regionOf(keyId: string): string | undefined {
  return /^arn:aws[\w-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1];
}

/**
 * AWS KMS asymmetric keys (`kms://aws/<key id | alias/name | key or alias ARN>`),
 * through the official AWS SDK for JavaScript v3 (the optional package
 * `@aws-sdk/client-kms`).
 */
export const awsKms: KmsProvider<AwsKmsOptions> = {
  async open(keyId, options) {
    const sdk = await loadOptionalPackage('@aws-sdk/client-kms', () => import('@aws-sdk/client-kms'), 'AWS KMS signing');
    const region = options.region ?? regionOf(keyId);
    const client: KMSClient = new sdk.KMSClient({
      ...(region ? { region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    let response: GetPublicKeyCommandOutput;
    try {
      response = await client.send(new sdk.GetPublicKeyCommand({ KeyId: keyId }));
    } catch (err) {
      client.destroy();
      throw kmsError(err, 'reading the public key', keyId);
    }
    // The curve is read from the public key itself: moto, like older KMS
    // responses, reports the key spec only as the deprecated CustomerMasterKeySpec.
    const spec = response.KeySpec ?? response.CustomerMasterKeySpec ?? 'unknown';
    const publicKey = response.PublicKey && createPublicKey({ key: Buffer.from(response.PublicKey), format: 'der', type: 'spki' });
    const hash =
      response.KeyUsage === 'SIGN_VERIFY' && publicKey && publicKey.asymmetricKeyType === 'ec' ? curveHash(publicKey) : undefined;
    if (!publicKey || !hash) {
      client.destroy();
      throw new ModelSigningError({
        code: 'BAD_KEY',
        message: `AWS KMS key '${keyId}' is a ${spec} key for ${response.KeyUsage ?? 'unknown use'}; OMS signing needs an ECC_NIST_P256, ECC_NIST_P384 or ECC_NIST_P521 key with usage SIGN_VERIFY`,
      });
    }
    const algorithm = ALGORITHMS[hash];
    const arn = response.KeyId ?? keyId;
    return {
      publicKey,
      description: `AWS KMS key ${arn}`,
      async sign({ pae, digest, abortSignal }: ExternalSignRequest) {
        const raw = pae.length <= MAX_RAW_MESSAGE;
        const command = new sdk.SignCommand({
          KeyId: keyId,
          Message: raw ? pae : digest,
          MessageType: raw ? 'RAW' : 'DIGEST',
          SigningAlgorithm: algorithm,
        });
        try {
          const signed = await client.send(command, abortSignal ? { abortSignal } : {});
          if (!signed.Signature)
            throw new ModelSigningError({ code: 'KEY_SERVICE_ERROR', message: `AWS KMS returned no signature for key '${keyId}'` });
          return { signature: signed.Signature, encoding: 'der' as const };
        } catch (err) {
          throw kmsError(err, 'signing', keyId);
        }
      },
    };
  },
};

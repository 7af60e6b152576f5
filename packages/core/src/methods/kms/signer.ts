import { ModelSigningError } from '../../errors.js';
import { certificateChainMaterial } from '../certificate/certificate-signer.js';
import { ExternalKeySigner } from '../external-key.js';
import { awsKms, type AwsKmsOptions } from './aws.js';

/** Options for {@link createKmsSigner}. */
export interface KmsSignerOptions {
  /** The key: `kms://aws/<key id | alias/name | key or alias ARN>`. */
  uri: string;
  /** AWS connection settings (region, endpoint, credentials); the usual AWS configuration otherwise. */
  aws?: AwsKmsOptions;
  /** Certificate method: the leaf certificate for the KMS key (PEM path, text or bytes). Without it, key bundles. */
  signingCertificate?: string | Buffer;
  /** Certificate method: intermediates (and optionally the root) after the leaf, in order. */
  certificateChain?: ReadonlyArray<string | Buffer>;
}

/** Providers by the name after `kms://`. `gcp` and `azure` would be added here (see docs/hsm-kms.md). */
const PROVIDERS = { aws: (key: string, options: KmsSignerOptions) => awsKms.open(key, options.aws ?? {}) } as const;

/** Whether `value` is a `kms://` key URI rather than a key file. */
export function isKmsUri(value: string): boolean {
  return value.startsWith('kms://');
}

/**
 * Creates a signer for an asymmetric EC key in a key management service. The
 * private key never leaves the service; the public key is fetched once, and
 * each signature is checked against it before it is returned.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` (URI, region), `NOT_FOUND`, `ACCESS_DENIED`, `BAD_KEY`
 *   (not an EC signing key on P-256/384/521, certificate for another key), `NETWORK_ERROR`,
 *   `KEY_SERVICE_ERROR`, `MISSING_DEPENDENCY`.
 */
export async function createKmsSigner(options: KmsSignerOptions): Promise<ExternalKeySigner> {
  const match = /^kms:\/\/([a-z0-9]+)\/(.+)$/.exec(options.uri);
  if (!match)
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `Invalid KMS key URI '${options.uri}': expected kms://aws/<key id, alias/name or ARN>`,
    });
  const [, provider, key] = match as unknown as [string, string, string];
  const open = PROVIDERS[provider as keyof typeof PROVIDERS];
  if (!open)
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `Unsupported KMS '${provider}' in '${options.uri}': only kms://aws/… is implemented`,
    });
  const kmsKey = await open(key, options);
  const material =
    options.signingCertificate === undefined
      ? undefined
      : await certificateChainMaterial(
          { signingCertificate: options.signingCertificate, certificateChain: options.certificateChain ?? [] },
          kmsKey.publicKey,
        );
  return new ExternalKeySigner({
    publicKey: kmsKey.publicKey,
    description: kmsKey.description,
    sign: (r) => kmsKey.sign(r),
    ...(material ? { material } : {}),
  });
}

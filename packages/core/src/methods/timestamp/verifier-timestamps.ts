/**
 * What the key and certificate verifiers of both entries do with RFC 3161
 * timestamps, behind dynamic imports: PKI.js is loaded only for a bundle
 * that carries a timestamp or a verifier given TSA certificates, because
 * its import alone costs more than verifying a key-signed model.
 */
import type { ParsedBundle } from '../../format/bundle.js';
import type { SignerInfo } from '../../format/verifier.js';
import type { TimestampAuthority } from './verify-timestamp.js';

/** The bundle's timestamps, checked against `authorities` when given; PKI.js is loaded only for a bundle that has some. */
export async function bundleTimestamps(
  bundle: ParsedBundle,
  authorities: readonly TimestampAuthority[] | undefined,
): Promise<Pick<SignerInfo, 'timestamps'>> {
  if (bundle.rfc3161Timestamps.length === 0) return {};
  const { checkBundleTimestamps } = await import('./bundle-timestamps.js');
  return { timestamps: await checkBundleTimestamps(bundle, authorities) };
}

/** The timestamp authorities of a `tsaCertificateChain` option, parsed (PKI.js loaded only then). */
export async function tsaAuthoritiesOf(
  tsaCertificateChain: ReadonlyArray<string | Uint8Array> | undefined,
): Promise<TimestampAuthority[] | undefined> {
  if (tsaCertificateChain === undefined) return undefined;
  const { timestampAuthoritiesOf } = await import('./bundle-timestamps.js');
  return timestampAuthoritiesOf(tsaCertificateChain);
}

/**
 * The RFC 3161 timestamps of key and certificate bundles, for their
 * verifiers: verified against the TSA certificates the caller trusts, or,
 * without them, only read to be reported. Runtime-neutral; loaded on first
 * use, because PKI.js's import costs more than verifying a key-signed model.
 */
import type { ParsedBundle } from '../../format/bundle.js';
import type { TimestampInfo } from '../../format/verifier.js';
import { ModelSigningError } from '../../errors.js';
import { parsePemCertificates } from '../certificate/pem-certificates.js';
import { checkMessageImprint, readTimestampToken, tokenSigner, verifyTimestamp, type TimestampAuthority } from './verify-timestamp.js';

/**
 * The timestamp authorities `tsaCertificateChain` names: every certificate
 * in it is a trust anchor (a TSA's root, an intermediate, or the TSA's own
 * certificate), as `certificateChain` is for the certificate method.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for an empty list, `BAD_KEY` for sources that are not PEM certificates.
 */
export function timestampAuthoritiesOf(tsaCertificateChain: ReadonlyArray<string | Uint8Array>): TimestampAuthority[] {
  if (tsaCertificateChain.length === 0) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'The tsaCertificateChain option is empty: give the PEM certificates of the timestamp authority (its root at least)',
    });
  }
  return [{ anchors: parsePemCertificates(tsaCertificateChain, 'The TSA certificate chain') }];
}

/**
 * The bundle's timestamps, in bundle order. With `authorities`, each must
 * verify over the bundle's signature (a present timestamp is never skipped);
 * without, each must still be a readable token over this signature (what
 * needs no trust), and is reported as unverified.
 *
 * @throws {ModelSigningError} `TIMESTAMP_INVALID` for a token that cannot be
 *   read or stamps other bytes, or with `authorities`, one that does not verify.
 */
export async function checkBundleTimestamps(
  bundle: ParsedBundle,
  authorities: readonly TimestampAuthority[] | undefined,
): Promise<TimestampInfo[]> {
  const timestamps: TimestampInfo[] = [];
  for (const token of bundle.rfc3161Timestamps) {
    if (authorities) {
      const { time, authority } = await verifyTimestamp({ token, signature: bundle.signature, authorities });
      timestamps.push({ time, verified: true, authority });
      continue;
    }
    // Unverified, but still over this signature: a timestamp of other bytes is never shown as this one's.
    const read = readTimestampToken(token);
    await checkMessageImprint(read, bundle.signature);
    const signer = tokenSigner(read, read.certificates);
    timestamps.push({ time: read.tstInfo.genTime, verified: false, ...(signer ? { authority: signer.subject } : {}) });
  }
  return timestamps;
}

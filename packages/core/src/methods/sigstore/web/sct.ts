/**
 * The Fulcio certificate's embedded signed certificate timestamps (RFC 6962
 * §3.2), verified with PKI.js, which rebuilds the precertificate TBS without
 * the SCT extension, against the CT log keys of the trusted root valid at
 * each SCT's time.
 */
import * as pkijs from 'pkijs';
import { ModelSigningError } from '../../../errors.js';
import type { PathCertificate } from '../../certificate/certificate-path.js';
import { toBase64 } from './bytes.js';
import { validAt, type LogAuthority } from './trusted-root.js';

const SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';

/** SCT failures are `CERT_CHAIN_INVALID`, as the Node verifier maps sigstore-js's CERTIFICATE_ERROR. */
function sctError(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'CERT_CHAIN_INVALID', cause, message: `The signing certificate's SCT does not verify: ${message}` });
}

/**
 * Verifies every SCT embedded in `leaf` (issued by `issuer`); at least one is required.
 *
 * @throws {ModelSigningError} `CERT_CHAIN_INVALID`.
 */
export async function verifyScts(leaf: PathCertificate, issuer: PathCertificate, ctlogs: readonly LogAuthority[]): Promise<void> {
  const list = leaf.certificate.extensions?.find((e) => e.extnID === SCT_LIST)?.parsedValue as unknown;
  const timestamps = list instanceof pkijs.SignedCertificateTimestampList ? list.timestamps : [];
  if (timestamps.length === 0) throw sctError('the certificate carries no SCT');
  const crypto = new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto });
  for (const [index, sct] of timestamps.entries()) {
    const logs = ctlogs
      .filter((log) => validAt(log.validFor, sct.timestamp))
      .map((log) => ({ log_id: toBase64(log.logId), key: toBase64(log.spki) }));
    let verified: boolean;
    try {
      [verified] = await pkijs.verifySCTsForCertificate(leaf.certificate, issuer.certificate, logs, index, crypto);
    } catch (cause) {
      throw sctError(`SCT ${index} is not from a CT log of the trusted root valid at ${sct.timestamp.toISOString()}`, cause);
    }
    if (!verified) throw sctError(`SCT ${index} is not signed by its CT log's key`);
  }
}

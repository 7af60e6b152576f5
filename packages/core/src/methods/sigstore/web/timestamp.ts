/**
 * RFC 3161 timestamps over the bundle's signature, verified with PKI.js
 * against the timestamp authorities of the trusted root, with sigstore-js's
 * rules: an authority valid at the stamped time, whose leaf is the token's
 * signer (issuer and serial), whose chain holds at that time, and whose key
 * signed the token over this signature's digest.
 */
import * as pkijs from 'pkijs';
import { ModelSigningError } from '../../../errors.js';
import { validateCertificatePath } from '../../certificate/certificate-path.js';
import { copy, equal, toHex, type Bytes } from './bytes.js';
import { validAt, type CertificateAuthority } from './trusted-root.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const TST_INFO = '1.2.840.113549.1.9.16.1.4';

/**
 * A timestamp that does not verify: `CERT_CHAIN_INVALID`, the code the Node
 * verifier maps sigstore-js's TIMESTAMP_ERROR to.
 */
function timestampError(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'CERT_CHAIN_INVALID', cause, message: `The RFC 3161 timestamp does not verify: ${message}` });
}

/** The token's parts that verification needs. */
interface Token {
  /** The SignedData as parsed; verification parses its own copy to swap in the authority's certificate. */
  content: pkijs.ContentInfo['content'];
  tstInfo: pkijs.TSTInfo;
  signer: pkijs.IssuerAndSerialNumber;
}

function readToken(der: Bytes): Token {
  let response: pkijs.TimeStampResp;
  try {
    response = pkijs.TimeStampResp.fromBER(der);
  } catch (cause) {
    throw timestampError('it is not a DER TimeStampResp', cause);
  }
  const token = response.timeStampToken;
  if (!token || token.contentType !== SIGNED_DATA) throw timestampError('it holds no CMS SignedData token');
  try {
    const signedData = new pkijs.SignedData({ schema: token.content });
    const content = signedData.encapContentInfo;
    if (content.eContentType !== TST_INFO || !content.eContent) throw timestampError('its token does not carry a TSTInfo');
    const tstInfo = pkijs.TSTInfo.fromBER(content.eContent.getValue());
    const signer = signedData.signerInfos[0]?.sid as unknown;
    if (signedData.signerInfos.length !== 1 || !(signer instanceof pkijs.IssuerAndSerialNumber)) {
      throw timestampError('its token does not have exactly one signer named by issuer and serial number');
    }
    return { content: token.content as unknown, tstInfo, signer };
  } catch (cause) {
    if (cause instanceof ModelSigningError) throw cause;
    throw timestampError('its token cannot be parsed', cause);
  }
}

async function verifiedBy(token: Token, authority: CertificateAuthority, data: Bytes, crypto: pkijs.ICryptoEngine): Promise<boolean> {
  const [leaf, ...issuers] = authority.chain;
  const time = token.tstInfo.genTime;
  try {
    await validateCertificatePath({
      leaf: leaf.der,
      intermediates: [],
      anchors: issuers.length > 0 ? issuers : [leaf],
      now: time,
      leafPurpose: 'timeStamping',
    });
    // The signer's certificate is the authority's leaf, not whatever the token
    // embeds. For a TSTInfo, PKI.js checks its message imprint against `data`,
    // the messageDigest attribute against the TSTInfo and the signature.
    const signedData = new pkijs.SignedData({ schema: token.content });
    signedData.certificates = [leaf.certificate];
    return (await signedData.verify({ signer: 0, data: data.buffer, checkChain: false, extendedMode: false }, crypto)) === true;
  } catch {
    return false;
  }
}

/**
 * Verifies one RFC 3161 timestamp over `signature` (the DSSE signature bytes).
 *
 * @returns the stamped time and the signer's certificate serial number (hex).
 * @throws {ModelSigningError} `CERT_CHAIN_INVALID`.
 */
export async function verifyRfc3161Timestamp(
  der: Bytes,
  signature: Uint8Array,
  authorities: readonly CertificateAuthority[],
): Promise<{ time: Date; signerSerial: string }> {
  const token = readToken(der);
  const time = token.tstInfo.genTime;
  const serial = token.signer.serialNumber.valueBlock.valueHexView;
  const candidates = authorities.filter((a) => {
    const leaf = a.chain[0].certificate;
    return (
      validAt(a.validFor, time) && equal(leaf.serialNumber.valueBlock.valueHexView, serial) && leaf.issuer.isEqual(token.signer.issuer)
    );
  });
  const crypto = new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto });
  const data = copy(signature);
  for (const authority of candidates) {
    if (await verifiedBy(token, authority, data, crypto)) return { time, signerSerial: toHex(serial) };
  }
  throw timestampError(`no timestamp authority of the trusted root, valid at ${time.toISOString()}, signed it over this signature`);
}

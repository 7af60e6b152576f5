/**
 * RFC 3161 timestamps over a bundle's signature, read and verified with
 * PKI.js. One verifier serves every method: Sigstore keyless bundles (the
 * timestamp authorities of the trusted root) and key and certificate bundles
 * (the TSA certificates the caller trusts), and signing checks the answer of
 * the TSA it asked with it too.
 *
 * It applies sigstore-js's rules (an authority valid at the stamped time,
 * the token's signer named by issuer and serial, its chain valid at that
 * time, its key's signature over the signed attributes, the messageDigest
 * attribute over the TSTInfo, the message imprint over this signature), and
 * adds what RFC 3161 and sigstore-go's TSA verification require on top: a
 * granted response, signed attributes naming the TSTInfo content type, an
 * imprint by SHA-256/384/512, a signer certificate whose extended key usage
 * is id-kp-timeStamping alone and critical (RFC 3161 §2.3), CAs on its path
 * that do not exclude time-stamping, and the nonce when the caller sent one.
 *
 * Runs in every runtime (no `node:*`): the browser verifiers use it as is.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ModelSigningError } from '../../errors.js';
import { toHex } from '../../format/hex.js';
import { parseCertificate, validateCertificatePath, type PathCertificate } from '../certificate/certificate-path.js';

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentTypeAttribute: '1.2.840.113549.1.9.3',
  extKeyUsage: '2.5.29.37',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** Message imprint hashes accepted (as sigstore-js: SHA-2 only, no SHA-1). */
const IMPRINT_HASHES: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

/** PKIStatus values that come with a token (RFC 3161 §2.4.2): granted, grantedWithMods. */
const GRANTED = new Set([0, 1]);

/** When an authority may be used; both ends included. */
export interface TimestampAuthorityValidity {
  start: Date;
  end: Date;
}

/** A timestamp authority a verifier trusts. */
export interface TimestampAuthority {
  /** Trusted certificates the TSA's certificate must chain to (it may be one of them itself). */
  anchors: readonly PathCertificate[];
  /**
   * The TSA certificate that must have signed the token (a Sigstore trusted
   * root names it, and its issuers are the anchors). Without it the signer is
   * found by issuer and serial among the certificates the token carries and
   * the anchors, and the token's other certificates may complete its path.
   */
  signer?: PathCertificate;
  /** When the authority may be used: the stamped time must fall inside. Default: always. */
  validFor?: TimestampAuthorityValidity;
}

/** A timestamp whose token verified. */
export interface VerifiedTimestamp {
  /** The stamped time (the TSTInfo's genTime). */
  time: Date;
  /** The subject of the TSA certificate that signed it (`CN=…, O=…`). */
  authority: string;
  /** Its serial number, lower-case hex. */
  signerSerial: string;
}

/** What {@link verifyTimestamp} checks. */
export interface VerifyTimestampParams {
  /** The DER TimeStampResp, as a Sigstore bundle's `signedTimestamp` holds it. */
  token: Uint8Array;
  /** The bytes that were stamped: the DSSE signature. */
  signature: Uint8Array;
  authorities: readonly TimestampAuthority[];
  /** The nonce sent with the request, when checking a TSA's answer (a verifier never knows it). */
  nonce?: bigint;
}

/** A timestamp that does not verify. */
export function timestampError(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'TIMESTAMP_INVALID', cause, message: `The RFC 3161 timestamp does not verify: ${message}` });
}

/** A token, parsed; nothing in it is trusted yet. */
export interface TimestampToken {
  /** The SignedData as parsed; verification parses its own copy to swap in the trusted signer certificate. */
  readonly content: unknown;
  readonly tstInfo: pkijs.TSTInfo;
  readonly signer: pkijs.IssuerAndSerialNumber;
  /** The certificates the token carries (what `certReq` asked for), unverified. */
  readonly certificates: readonly PathCertificate[];
}

function tokenCertificates(signedData: pkijs.SignedData): PathCertificate[] {
  return (signedData.certificates ?? []).flatMap((c) =>
    c instanceof pkijs.Certificate ? [parseCertificate(new Uint8Array(c.toSchema().toBER(false)))] : [],
  );
}

/**
 * Parses a DER TimeStampResp down to the parts verification needs.
 *
 * @throws {ModelSigningError} `TIMESTAMP_INVALID` naming what is missing or malformed.
 */
export function readTimestampToken(der: Uint8Array): TimestampToken {
  const ber = asn1js.fromBER(new Uint8Array(der));
  if (ber.offset === -1 || ber.offset !== der.byteLength) throw timestampError('it is not a DER TimeStampResp');
  let response: pkijs.TimeStampResp;
  try {
    response = new pkijs.TimeStampResp({ schema: ber.result });
  } catch (cause) {
    throw timestampError('it is not a DER TimeStampResp', cause);
  }
  if (!GRANTED.has(response.status.status)) {
    const text = (response.status.statusStrings ?? []).map((s) => s.valueBlock.value).join(' ');
    throw timestampError(`the timestamp authority refused the request (status ${response.status.status}${text ? `: ${text}` : ''})`);
  }
  const token = response.timeStampToken;
  if (!token || token.contentType !== OID.signedData) throw timestampError('it holds no CMS SignedData token');
  try {
    const signedData = new pkijs.SignedData({ schema: token.content });
    const content = signedData.encapContentInfo;
    if (content.eContentType !== OID.tstInfo || !content.eContent) throw timestampError('its token does not carry a TSTInfo');
    const tstInfo = pkijs.TSTInfo.fromBER(content.eContent.getValue());
    if (tstInfo.version !== 1) throw timestampError(`its TSTInfo has version ${tstInfo.version}, not 1`);
    const signerInfo = signedData.signerInfos[0];
    const signer = signerInfo?.sid as unknown;
    if (signedData.signerInfos.length !== 1 || !(signer instanceof pkijs.IssuerAndSerialNumber)) {
      throw timestampError('its token does not have exactly one signer named by issuer and serial number');
    }
    // RFC 5652 §5.3: with any content but id-data, signed attributes are
    // required and name that content type (PKI.js checks the messageDigest one).
    const contentType = signerInfo.signedAttrs?.attributes.find((a) => a.type === OID.contentTypeAttribute)?.values[0] as unknown;
    if (!(contentType instanceof asn1js.ObjectIdentifier) || contentType.valueBlock.toString() !== OID.tstInfo) {
      throw timestampError('its signed attributes do not name the TSTInfo content type');
    }
    return { content: token.content as unknown, tstInfo, signer, certificates: tokenCertificates(signedData) };
  } catch (cause) {
    if (cause instanceof ModelSigningError) throw cause;
    throw timestampError('its token cannot be parsed', cause);
  }
}

/** The certificate among `candidates` that the token names as its signer (by issuer and serial number). */
export function tokenSigner(token: TimestampToken, candidates: readonly PathCertificate[]): PathCertificate | undefined {
  const { issuer, serialNumber } = token.signer;
  return candidates.find((c) => c.certificate.issuer.isEqual(issuer) && c.certificate.serialNumber.isEqual(serialNumber));
}

function extendedKeyUsage(cert: PathCertificate): { critical: boolean; purposes: string[] } | undefined {
  const extension = cert.certificate.extensions?.find((e) => e.extnID === OID.extKeyUsage);
  if (!extension) return undefined;
  const parsed = extension.parsedValue as unknown;
  return { critical: extension.critical, purposes: parsed instanceof pkijs.ExtKeyUsage ? parsed.keyPurposes : [] };
}

/**
 * RFC 3161 §2.3: the TSA's certificate has exactly one extended key usage,
 * id-kp-timeStamping, marked critical; a CA above it that restricts its
 * extended key usage must allow time-stamping (EKU chaining, as sigstore-go
 * and the timestamp-authority server require).
 */
function checkTimeStampingUsage(path: readonly PathCertificate[]): void {
  const [leaf, ...issuers] = path;
  const eku = extendedKeyUsage(leaf);
  if (!eku || !eku.critical || eku.purposes.length !== 1 || eku.purposes[0] !== OID.timeStamping) {
    throw timestampError(
      `its signer certificate '${leaf.subject}' is not a timestamp authority certificate (RFC 3161 requires a critical extended key usage of timeStamping alone)`,
    );
  }
  for (const issuer of issuers) {
    const usage = extendedKeyUsage(issuer);
    if (usage && !usage.purposes.includes(OID.timeStamping) && !usage.purposes.includes(OID.anyExtendedKeyUsage)) {
      throw timestampError(`certificate '${issuer.subject}' on its signer's path restricts extended key usage to exclude timeStamping`);
    }
  }
}

function validAt(validity: TimestampAuthorityValidity | undefined, time: Date): boolean {
  return validity === undefined || (validity.start <= time && time <= validity.end);
}

/** Checks the token against one authority; resolves to the signer's certificate or throws why not. */
async function verifyWith(token: TimestampToken, authority: TimestampAuthority, data: ArrayBuffer): Promise<PathCertificate> {
  const time = token.tstInfo.genTime;
  const signer = tokenSigner(token, authority.signer ? [authority.signer] : [...token.certificates, ...authority.anchors]);
  if (!signer) throw timestampError('it is not signed by a certificate of this timestamp authority');
  const path = await validateCertificatePath({
    leaf: signer.der,
    intermediates: authority.signer ? [] : token.certificates.map((c) => c.der),
    anchors: authority.anchors,
    now: time,
    leafPurpose: 'timeStamping',
  }).catch((cause: unknown) => {
    throw timestampError(
      `its signer certificate '${signer.subject}' is not a trusted TSA certificate at ${time.toISOString()}: ${(cause as Error).message}`,
      cause,
    );
  });
  checkTimeStampingUsage(path);
  // The signer's certificate is the trusted one, not whatever the token
  // embeds. For a TSTInfo, PKI.js checks its message imprint against `data`,
  // the messageDigest attribute against the TSTInfo, and the signature.
  const signedData = new pkijs.SignedData({ schema: token.content });
  signedData.certificates = [signer.certificate];
  const crypto = new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto });
  const verified = await signedData.verify({ signer: 0, data, checkChain: false, extendedMode: false }, crypto).catch((cause: unknown) => {
    throw timestampError(`its CMS signature does not verify with the key of '${signer.subject}'`, cause);
  });
  if (verified !== true) throw timestampError(`its CMS signature does not verify with the key of '${signer.subject}'`);
  return signer;
}

/**
 * Checks that the token stamps `signature`: its message imprint is the
 * digest of exactly these bytes, by SHA-256, SHA-384 or SHA-512. Needs no
 * trust in the token's signer.
 *
 * @throws {ModelSigningError} `TIMESTAMP_INVALID`.
 */
export async function checkMessageImprint(token: TimestampToken, signature: Uint8Array): Promise<void> {
  const { messageImprint } = token.tstInfo;
  const hash = IMPRINT_HASHES[messageImprint.hashAlgorithm.algorithmId];
  if (!hash) {
    throw timestampError(`its message imprint uses hash ${messageImprint.hashAlgorithm.algorithmId}, not SHA-256, SHA-384 or SHA-512`);
  }
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest(hash, new Uint8Array(signature)));
  const imprint = messageImprint.hashedMessage.valueBlock.valueHexView;
  if (digest.length !== imprint.length || digest.some((b, i) => b !== imprint[i])) {
    throw timestampError('it stamps other bytes than this signature (its message imprint is not the digest of the signature)');
  }
}

/**
 * Verifies one RFC 3161 timestamp over `signature` (the DSSE signature
 * bytes) against the authorities the caller trusts.
 *
 * @returns the stamped time and the authority's certificate.
 * @throws {ModelSigningError} `TIMESTAMP_INVALID` saying why.
 */
export async function verifyTimestamp(params: VerifyTimestampParams): Promise<VerifiedTimestamp> {
  const token = readTimestampToken(params.token);
  const { tstInfo } = token;
  const time = tstInfo.genTime;
  const data = new Uint8Array(params.signature).buffer;
  await checkMessageImprint(token, params.signature);
  if (params.nonce !== undefined && tstInfo.nonce?.toBigInt() !== params.nonce) {
    throw timestampError('its nonce is not the one sent with the request (a replayed or mixed-up answer)');
  }
  const candidates = params.authorities.filter((a) => validAt(a.validFor, time));
  if (candidates.length === 0) throw timestampError(`no trusted timestamp authority was valid at its time, ${time.toISOString()}`);
  let failure: unknown;
  for (const authority of candidates) {
    try {
      const signer = await verifyWith(token, authority, data);
      return { time, authority: signer.subject, signerSerial: toHex(signer.certificate.serialNumber.valueBlock.valueHexView) };
    } catch (cause) {
      failure = cause;
    }
  }
  if (candidates.length === 1) throw failure;
  throw timestampError(
    `none of the ${candidates.length} trusted timestamp authorities valid at ${time.toISOString()} signed it over this signature (the last one: ${(failure as Error).message})`,
    failure,
  );
}

/**
 * A Sigstore bundle verifier that needs no Node: WebCrypto through
 * `globalThis.crypto.subtle`, PKI.js and asn1js for X.509, CMS and ASN.1, and
 * trusted roots given as JSON. It makes sigstore-js's checks in sigstore-js's
 * order, and refuses with the codes the Node verifier ({@link SigstoreVerifier})
 * maps sigstore-js's failures to, so both give the same verdict.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { ParsedBundle } from '../../../format/bundle.js';
import { ModelSigningError } from '../../../errors.js';
import { preAuthEncoding } from '../../../format/dsse.js';
import {
  parseCertificate,
  validateCertificatePath,
  type CertificatePath,
  type PathCertificate,
} from '../../certificate/certificate-path.js';
import { wrongMethodMessage, type SignerInfo, type Verifier } from '../../../format/verifier.js';
import { copy, toHex, type Bytes } from './bytes.js';
import { importSpki, verifies } from './keys.js';
import { identityPolicy } from './identity-policy.js';
import { checkLogEntryKinds } from './log-entry-kind.js';
import { verifyScts } from './sct.js';
import { readTlogEntries, type TlogEntry } from './log-entry.js';
import { verifyBody, verifyInclusion } from './tlog.js';
import { verifyTimestamp, type TimestampAuthority } from '../../timestamp/verify-timestamp.js';
import { bundledTrustedRoot, parseTrustedRoot, validAt, type TrustedRoot } from './trusted-root.js';

/** Fulcio's OIDC issuer extensions: v2 holds a DER UTF8String, v1 (deprecated) the raw text. */
const FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const SUBJECT_ALT_NAME = '2.5.29.17';

/** Options for {@link WebSigstoreVerifier.create}. */
export interface WebSigstoreVerifierOptions {
  /** The signer's identity: exact match of the certificate's SAN (email or URI). */
  identity?: string;
  /** Alternative to `identity`: a regular expression the whole SAN must match (anchored). */
  identityRegExp?: string;
  /** The OIDC issuer that vouched for the identity: exact match. Required. */
  identityProvider: string;
  /** Verify against the public-good staging instance's shipped trusted root. */
  useStaging?: boolean;
  /**
   * A private instance's `trusted_root.json` or ClientTrustConfig document,
   * as text or parsed JSON; wins over `useStaging`.
   */
  trustedRoot?: string | Record<string, unknown>;
}

function bad(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_BUNDLE', message: `Invalid signature bundle: ${message}` });
}

function chainError(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'CERT_CHAIN_INVALID', cause, message });
}

/** What the bundle's verification material holds, decoded; nothing in it is trusted yet. */
interface Material {
  leaf: PathCertificate;
  tlogEntries: TlogEntry[];
  rfc3161Timestamps: Uint8Array[];
}

function readMaterial(bundle: ParsedBundle): Material {
  const material = bundle.json.verificationMaterial;
  const leafDer = bundle.certificates[0];
  if (!leafDer) throw bad('the keyless bundle has no certificate');
  let leaf: PathCertificate;
  try {
    leaf = parseCertificate(leafDer);
  } catch (cause) {
    throw new ModelSigningError({
      code: 'BAD_BUNDLE',
      cause,
      message: `Invalid signature bundle: the certificate cannot be parsed: ${(cause as Error).message}`,
    });
  }
  return { leaf, tlogEntries: readTlogEntries(material['tlogEntries']), rfc3161Timestamps: bundle.rfc3161Timestamps };
}

/** The identity sigstore-js reports: the SAN's first URI, else its first email address. */
function subjectAlternativeName(cert: pkijs.Certificate): string {
  const value = cert.extensions?.find((e) => e.extnID === SUBJECT_ALT_NAME)?.parsedValue as unknown;
  if (!(value instanceof pkijs.AltName)) return '';
  const of = (type: number) => value.altNames.find((n) => n.type === type)?.value as unknown;
  const name = of(6) ?? of(1);
  return typeof name === 'string' ? name : '';
}

/** The OIDC issuer Fulcio recorded: the v2 extension when present, else v1. */
export function oidcIssuer(cert: pkijs.Certificate): string {
  const find = (oid: string) => cert.extensions?.find((e) => e.extnID === oid)?.extnValue.valueBlock.valueHexView;
  const v2 = find(FULCIO_ISSUER_V2);
  if (v2) {
    const parsed = asn1js.fromBER(copy(v2));
    return parsed.result instanceof asn1js.Utf8String ? parsed.result.valueBlock.value : '';
  }
  const v1 = find(FULCIO_ISSUER_V1);
  return v1 ? new TextDecoder().decode(v1) : '';
}

/**
 * Verifies Sigstore keyless bundles in any JavaScript runtime with WebCrypto,
 * offline, against a shipped or caller-given trusted root:
 * RFC 3161 timestamps; the Fulcio chain at every verified time (log
 * integrated time with an inclusion promise, timestamp authority time) and the
 * embedded SCTs; each log entry's SET, checkpoint and inclusion proof and its
 * body against this envelope; the DSSE signature with the certificate's key;
 * then identity (SAN) and OIDC issuer.
 */
export class WebSigstoreVerifier implements Verifier {
  readonly method = 'sigstore' as const;

  private constructor(
    private readonly root: TrustedRoot,
    private readonly trustRoot: string,
    private readonly matchesIdentity: (san: string) => boolean,
    private readonly expectedIdentity: string,
    private readonly issuer: string,
  ) {}

  /**
   * @throws {ModelSigningError} `INVALID_ARGUMENT` (no or both identity forms,
   *   no issuer, bad regular expression, invalid trusted root).
   */
  static async create(options: WebSigstoreVerifierOptions): Promise<WebSigstoreVerifier> {
    const { matchesIdentity, expectedIdentity, issuer } = identityPolicy(options);
    const instance = options.useStaging ? 'staging' : 'production';
    const [root, source] =
      options.trustedRoot !== undefined
        ? [await parseTrustedRoot(options.trustedRoot, 'custom'), 'custom trust config']
        : [await bundledTrustedRoot(instance), `${instance} (bundled)`];
    return new WebSigstoreVerifier(root, source, matchesIdentity, expectedIdentity, issuer);
  }

  async verify(bundle: ParsedBundle): Promise<SignerInfo> {
    if (bundle.method !== 'sigstore') {
      throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, this.method) });
    }
    const material = readMaterial(bundle);
    checkLogEntryKinds(material.tlogEntries);
    const signature = copy(bundle.signature);
    const payload = copy(bundle.payload);

    const times = await this.verifiedTimes(material, signature);
    const path = await this.chainAtEveryTime(material.leaf, times);
    await verifyScts(path[0], path[1], this.root.ctlogs);
    for (const entry of material.tlogEntries) {
      await verifyInclusion(entry, this.root.tlogs);
      await verifyBody(entry, { payloadType: bundle.payloadType, payload, signature }, material.leaf);
    }
    if (material.tlogEntries.length === 0) throw chainError('The bundle has no transparency log entry');

    let key;
    try {
      key = await importSpki(new Uint8Array(material.leaf.certificate.subjectPublicKeyInfo.toSchema().toBER()));
    } catch (cause) {
      throw new ModelSigningError({
        code: 'BAD_KEY',
        cause,
        message: `The signing certificate's key cannot be used: ${(cause as Error).message}`,
      });
    }
    if (!(await verifies(key, copy(preAuthEncoding(bundle.payloadType, payload)), signature))) {
      throw new ModelSigningError({
        code: 'SIGNATURE_INVALID',
        message:
          "The signature does not verify with the signing certificate's key: the signed statement was altered, or it was signed by another key",
      });
    }

    const san = subjectAlternativeName(material.leaf.certificate);
    const issuer = oidcIssuer(material.leaf.certificate);
    if (!this.matchesIdentity(san) || issuer !== this.issuer) {
      throw new ModelSigningError({
        code: 'IDENTITY_MISMATCH',
        message:
          `The signature is valid but was made by '${san}' (OIDC issuer '${issuer}'), ` +
          `not by identity ${this.expectedIdentity} with issuer '${this.issuer}'; check the identity and identityProvider options`,
      });
    }
    return { method: 'sigstore', identity: san, issuer, trustRoot: this.trustRoot };
  }

  /**
   * The times the signature provably existed: each verified RFC 3161
   * timestamp, and each log entry's integrated time that an inclusion promise
   * vouches for (checked with the entry later, as sigstore-js does).
   */
  private async verifiedTimes(material: Material, signature: Bytes): Promise<Date[]> {
    // Keyed by source and time: the same proof twice must not count as two (sigstore-js refuses duplicates).
    const times = new Map<string, Date>();
    const add = (source: string, time: Date) => {
      const key = `${source} ${time.getTime()}`;
      if (times.has(key)) throw chainError(`The bundle holds the same timestamp twice (${source} at ${time.toISOString()})`);
      times.set(key, time);
    };
    for (const entry of material.tlogEntries) {
      if (entry.integratedTime !== 0n && entry.signedEntryTimestamp)
        add(`log ${toHex(entry.logId)}`, new Date(Number(entry.integratedTime) * 1000));
    }
    // The trusted root names each authority's certificate; its issuers are the anchors.
    const authorities: TimestampAuthority[] = this.root.timestampAuthorities.map(({ chain: [leaf, ...issuers], validFor }) => ({
      signer: leaf,
      anchors: issuers.length > 0 ? issuers : [leaf],
      validFor,
    }));
    for (const token of material.rfc3161Timestamps) {
      // A bad timestamp is CERT_CHAIN_INVALID here, the code the Node verifier maps sigstore-js's TIMESTAMP_ERROR to.
      const { time, signerSerial } = await verifyTimestamp({ token, signature, authorities }).catch((cause: unknown) => {
        throw chainError((cause as Error).message, cause);
      });
      add(`timestamp authority certificate ${signerSerial}`, time);
    }
    if (times.size === 0)
      throw chainError(
        'The bundle has no verified time: neither a transparency log entry with an inclusion promise nor an RFC 3161 timestamp',
      );
    return [...times.values()];
  }

  /** The leaf must chain to a Fulcio CA of the trusted root, both valid, at every verified time. */
  private async chainAtEveryTime(leaf: PathCertificate, times: readonly Date[]): Promise<CertificatePath> {
    let path: CertificatePath = [];
    for (const time of times) {
      let failure: unknown = undefined;
      let found: CertificatePath | undefined;
      for (const ca of this.root.certificateAuthorities.filter((a) => validAt(a.validFor, time))) {
        try {
          found = await validateCertificatePath({
            leaf: leaf.der,
            intermediates: [],
            anchors: ca.chain,
            now: time,
            leafPurpose: 'codeSigning',
          });
          break;
        } catch (cause) {
          failure = cause;
        }
      }
      if (!found) {
        const reason = failure instanceof Error ? `: ${failure.message}` : ': no certificate authority of the trusted root was valid then';
        throw chainError(
          `The signing certificate does not chain to a Fulcio CA of the ${this.trustRoot} trusted root at ${time.toISOString()}${reason}`,
          failure,
        );
      }
      path = found;
    }
    if (path.length < 2) throw chainError('The signing certificate is itself a trust anchor; a Fulcio certificate must be issued by one');
    return path;
  }
}

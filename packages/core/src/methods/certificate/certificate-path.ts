/**
 * RFC 5280 certificate path validation for the certificate method.
 *
 * PKI.js's `CertificateChainValidationEngine` builds the path (matching names,
 * key identifiers and issuer signatures through WebCrypto) and checks what it
 * implements: validity of every certificate, issuers marked CA with
 * keyCertSign, unparsable critical extensions on issuers, policies and name
 * constraints. It does not enforce `pathLenConstraint`, does not look at the
 * leaf's critical extensions, does not stop on a loop of cross-signed
 * certificates, and its refusals do not say which certificate broke the rule.
 * This module adds exactly those, on PKI.js's parsed objects, and names the
 * certificate in every refusal.
 *
 * Runs in every runtime (no `node:*` imports, no Buffer): the browser verifier
 * reuses it as is. Reading PEM files stays in the Node-side callers.
 */
import * as pkijs from 'pkijs';
import { ModelSigningError } from '../../errors.js';

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

/** Critical extensions this validation acts on; any other critical extension refuses the path (RFC 5280 §6.1.3). */
const PROCESSED_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.policyMappings,
  OID.policyConstraints,
  OID.inhibitAnyPolicy,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
]);

/** KeyUsage bits, as in the first byte of the DER BIT STRING (bit 0 is 0x80). */
const DIGITAL_SIGNATURE = 0x80;
const KEY_CERT_SIGN = 0x04;
const CRL_SIGN = 0x02;

/**
 * What the leaf certifies its key for: signing models (a model signature is
 * code signing: OMS certificates, Fulcio's) or RFC 3161 timestamps (a
 * timestamp authority's certificate).
 */
export type LeafPurpose = 'codeSigning' | 'timeStamping';

/**
 * Bounds on PKI.js's depth-first path search: a loop of cross-signed
 * certificates would otherwise recurse forever. A certificate met more often
 * than this on the search (a loop visits it again and again) ends its branch…
 */
const MAX_LOOKUPS_PER_CERTIFICATE = 4;
/** …and the whole search stops after this many issuer look-ups. */
const MAX_ISSUER_LOOKUPS = 256;

const ED25519 = '1.3.101.112';

/**
 * PKI.js's engine over WebCrypto, taught Ed25519 issuer signatures (RFC 8410),
 * which PKI.js 3.4 does not map although WebCrypto verifies them; the
 * reference accepts Ed25519 CAs, so we must too.
 */
class PathCryptoEngine extends pkijs.CryptoEngine {
  override async verifyWithPublicKey(
    data: BufferSource,
    signature: Parameters<pkijs.CryptoEngine['verifyWithPublicKey']>[1],
    publicKeyInfo: pkijs.PublicKeyInfo,
    signatureAlgorithm: pkijs.AlgorithmIdentifier,
    shaAlgorithm?: string,
  ): Promise<boolean> {
    if (signatureAlgorithm.algorithmId !== ED25519) {
      return super.verifyWithPublicKey(data, signature, publicKeyInfo, signatureAlgorithm, shaAlgorithm);
    }
    const key = await this.crypto.subtle.importKey('spki', publicKeyInfo.toSchema().toBER(), { name: 'Ed25519' }, false, ['verify']);
    return this.crypto.subtle.verify({ name: 'Ed25519' }, key, new Uint8Array(signature.valueBlock.valueHexView), data);
  }
}

/** Short names of the attribute types seen in practice, as OpenSSL prints them. */
const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** A parsed certificate with the name used in messages. */
export interface PathCertificate {
  readonly certificate: pkijs.Certificate;
  /** DER bytes (a copy of those given). */
  readonly der: Uint8Array<ArrayBuffer>;
  /** The subject as `CN=…, O=…`, in certificate order. */
  readonly subject: string;
}

/** What {@link validateCertificatePath} needs. */
export interface CertificatePathParams {
  /** The signing certificate (DER). */
  leaf: Uint8Array;
  /** Untrusted certificates that may complete the path (the bundle's chain, DER). */
  intermediates: ReadonlyArray<Uint8Array>;
  /** Trust anchors: roots, or intermediates the caller chooses to trust. */
  anchors: ReadonlyArray<PathCertificate>;
  /** Every certificate on the path must be valid at this time. */
  now: Date;
  /** What the leaf must be certified for (see {@link checkLeaf}). */
  leafPurpose: LeafPurpose;
}

/** The validated path, leaf first, trust anchor last. */
export type CertificatePath = PathCertificate[];

function chainError(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'CERT_CHAIN_INVALID', message });
}

/** Formats a distinguished name as `CN=…, O=…` in certificate order. */
function formatName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${ATTRIBUTE_NAMES[tv.type] ?? tv.type}=${String((tv.value as { valueBlock: { value: unknown } }).valueBlock.value)}`)
    .join(', ');
}

/**
 * Parses one DER certificate.
 *
 * @throws {Error} when the bytes are not an X.509 certificate; callers turn it
 *   into the `ModelSigningError` that fits where the bytes came from.
 */
export function parseCertificate(der: Uint8Array): PathCertificate {
  // A copy: WebCrypto and PKI.js take plain ArrayBuffer views, not Node's pooled Buffers.
  const bytes = new Uint8Array(der);
  const certificate = pkijs.Certificate.fromBER(bytes);
  return { certificate, der: bytes, subject: formatName(certificate.subject) };
}

function extension(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid);
}

/** The KeyUsage bits' first byte, or undefined when the extension is absent. */
function keyUsageByte(cert: pkijs.Certificate): number | undefined {
  const ext = extension(cert, OID.keyUsage);
  if (!ext) return undefined;
  const bits = ext.parsedValue as { valueBlock: { valueHexView: Uint8Array } } | undefined;
  return bits?.valueBlock.valueHexView[0] ?? 0;
}

function basicConstraints(cert: pkijs.Certificate): pkijs.BasicConstraints | undefined {
  const value = extension(cert, OID.basicConstraints)?.parsedValue as unknown;
  return value instanceof pkijs.BasicConstraints ? value : undefined;
}

function isSelfIssued(cert: pkijs.Certificate): boolean {
  return cert.subject.isEqual(cert.issuer);
}

/** The leaf's subject alternative names (email, DNS and URI entries) as strings. */
export function subjectAlternativeNames(cert: pkijs.Certificate): string[] {
  const value = extension(cert, OID.subjectAltName)?.parsedValue as unknown;
  if (!(value instanceof pkijs.AltName)) return [];
  // GeneralName tags: 1 rfc822Name, 2 dNSName, 6 uniformResourceIdentifier.
  return value.altNames.filter((n) => n.type === 1 || n.type === 2 || n.type === 6).map((n) => String(n.value));
}

/**
 * What a leaf must be to sign for `purpose`, as RFC 5280 and the CA/Browser
 * Forum's code signing requirements (§7.1.2.3) have it, and at least as
 * strict as the reference (which asks for key usage digitalSignature or
 * extended key usage codeSigning, and nothing else of the leaf):
 * - a key that may not certify: no keyCertSign or cRLSign in its key usage,
 *   and no basicConstraints cA unless a key usage without keyCertSign rules
 *   certifying out (RFC 5280 §4.2.1.3, §4.2.1.9: a CA's key certifies, it
 *   does not sign content). A cA certificate whose key usage excludes
 *   keyCertSign cannot issue a certificate any conforming verifier accepts;
 *   the reference's test PKI made its signing certificate so (certtool's
 *   `ca` flag), and with it the OMS spec's valid certificate vector and every
 *   historical certificate signature of the reference, so it is accepted;
 * - a key usage, if present, that includes digitalSignature (§4.2.1.3);
 * - an extended key usage, if present, that names the purpose itself
 *   (§4.2.1.12: the certificate may then be used for the purposes listed
 *   only; anyExtendedKeyUsage is not enough, as §4.2.1.12 allows
 *   applications to require their own purpose);
 * - and at least one of the two: a certificate with neither says nothing
 *   about signing, which the reference refuses too.
 * A certificate without an extended key usage is accepted when its key
 * usage includes digitalSignature, as by the reference and RFC 5280 (no
 * extension, no restriction); the CA/Browser Forum requires one of publicly
 * trusted code signing certificates, which those CAs' own rules enforce.
 */
function checkLeaf({ certificate, subject }: PathCertificate, purpose: LeafPurpose): void {
  const refuse = (why: string) =>
    chainError(`Certificate '${subject}' may not be used for ${purpose === 'codeSigning' ? 'signing' : 'timestamps'}: ${why}`);
  const usage = keyUsageByte(certificate);
  if (usage !== undefined && (usage & (KEY_CERT_SIGN | CRL_SIGN)) !== 0)
    throw refuse("its key usage includes keyCertSign or cRLSign: it is a CA's key, which certifies and does not sign content");
  if (basicConstraints(certificate)?.cA && usage === undefined)
    throw refuse(
      "it is a CA certificate (basicConstraints cA) and no key usage keeps its key from certifying: a CA's key does not sign content",
    );
  if (usage !== undefined && (usage & DIGITAL_SIGNATURE) === 0) throw refuse('its key usage does not include digitalSignature');
  const ekuExtension = extension(certificate, OID.extKeyUsage);
  if (ekuExtension) {
    const eku = ekuExtension.parsedValue as unknown;
    const purposes = eku instanceof pkijs.ExtKeyUsage ? eku.keyPurposes : [];
    if (!purposes.includes(OID[purpose])) {
      const named = purposes.map((p) => EXTENDED_KEY_USAGE_NAMES[p] ?? p).join(', ') || 'none';
      throw refuse(`its extended key usage (${named}) does not include ${purpose}`);
    }
  }
  if (usage === undefined && !ekuExtension) throw refuse(`it has neither key usage digitalSignature nor extended key usage ${purpose}`);
}

/**
 * Why `der` may not sign for `purpose` ({@link checkLeaf}'s rules), or
 * undefined when it may: for signers, which check the certificate they are
 * given before they sign anything a verifier would refuse.
 *
 * @throws {Error} when the bytes are not a certificate.
 */
export function leafUnfitness(der: Uint8Array, purpose: LeafPurpose): string | undefined {
  try {
    checkLeaf(parseCertificate(der), purpose);
    return undefined;
  } catch (err) {
    if (err instanceof ModelSigningError) return err.message;
    throw err;
  }
}

/** Names of the extended key usages a refusal may list. */
const EXTENDED_KEY_USAGE_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  [OID.codeSigning]: 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  [OID.timeStamping]: 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

/**
 * The rules PKI.js does not enforce or does not attribute, checked on the
 * chosen path (leaf first), in path order so the first broken rule is named;
 * then the leaf's purpose ({@link checkLeaf}).
 */
function checkPath(path: CertificatePath, now: Date, purpose: LeafPurpose): void {
  let intermediatesBelow = 0;
  path.forEach(({ certificate: cert, subject }, index) => {
    const notBefore = cert.notBefore.value;
    const notAfter = cert.notAfter.value;
    if (now < notBefore)
      throw chainError(
        `Certificate '${subject}' is not valid yet: its validity starts ${notBefore.toISOString()} (checked at ${now.toISOString()})`,
      );
    if (now > notAfter)
      throw chainError(
        `Certificate '${subject}' has expired: its validity ended ${notAfter.toISOString()} (checked at ${now.toISOString()})`,
      );
    for (const ext of cert.extensions ?? []) {
      if (ext.critical && !PROCESSED_EXTENSIONS.has(ext.extnID)) {
        throw chainError(
          `Certificate '${subject}' has a critical extension this verifier does not process (${ext.extnID}); RFC 5280 requires refusing it`,
        );
      }
    }
    if (index === 0) return;
    const issued = path[index - 1].subject;
    const constraints = basicConstraints(cert);
    if (!constraints?.cA) {
      throw chainError(`Certificate '${subject}' issued '${issued}' but is not a CA (basicConstraints cA is not set)`);
    }
    const usage = keyUsageByte(cert);
    if (usage !== undefined && (usage & KEY_CERT_SIGN) === 0) {
      throw chainError(`Certificate '${subject}' issued '${issued}' but its key usage does not include keyCertSign`);
    }
    const pathLen = constraints.pathLenConstraint;
    if (typeof pathLen === 'number' && intermediatesBelow > pathLen) {
      throw chainError(
        `Certificate '${subject}' allows ${pathLen} intermediate CA certificate(s) below it (basicConstraints pathLenConstraint ${pathLen}) but the path has ${intermediatesBelow}`,
      );
    }
    if (!isSelfIssued(cert)) intermediatesBelow += 1;
  });
  checkLeaf(path[0], purpose);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Validates the path from `leaf` to one of `anchors` (RFC 5280 §6.1 through
 * PKI.js, plus path length, critical extensions on every certificate, a loop
 * guard, validity of every certificate including the anchor, and a leaf that
 * is an end entity certified for `leafPurpose`).
 *
 * @returns the path, leaf first, anchor last.
 * @throws {ModelSigningError} `CERT_CHAIN_INVALID` naming the certificate and
 *   the rule it broke; `BAD_BUNDLE` when a certificate cannot be parsed.
 */
export async function validateCertificatePath(params: CertificatePathParams): Promise<CertificatePath> {
  let leaf: PathCertificate;
  let intermediates: PathCertificate[];
  try {
    leaf = parseCertificate(params.leaf);
    intermediates = params.intermediates.map(parseCertificate);
  } catch (cause) {
    throw new ModelSigningError({
      code: 'BAD_BUNDLE',
      cause,
      message: `Invalid signature bundle: a certificate cannot be parsed: ${(cause as Error).message}`,
    });
  }
  // A leaf the caller trusts directly is its own path. PKI.js would instead
  // drop it as a duplicate of the anchor and validate another certificate as
  // the leaf, so this case (and a leaf repeated in the chain) is settled here.
  if (params.anchors.some((a) => sameBytes(a.der, leaf.der))) {
    checkPath([leaf], params.now, params.leafPurpose);
    return [leaf];
  }
  intermediates = intermediates.filter((c) => !sameBytes(c.der, leaf.der));
  const known = new Map<pkijs.Certificate, PathCertificate>();
  for (const c of [leaf, ...intermediates, ...params.anchors]) known.set(c.certificate, c);
  const anchorSet = new Set(params.anchors.map((a) => a.certificate));

  // Records every issuer edge PKI.js finds (each one signature-checked), so a
  // refusal can be explained on the same path PKI.js judged.
  const issuersOf = new Map<pkijs.Certificate, pkijs.Certificate[]>();
  const lookupsOf = new Map<pkijs.Certificate, number>();
  let lookups = 0;
  let loop = false;
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: params.anchors.map((a) => a.certificate),
    // PKI.js takes the last certificate as the leaf.
    certs: [...intermediates.map((c) => c.certificate), leaf.certificate],
    checkDate: params.now,
    findIssuer: async (cert, eng, crypto) => {
      // PKI.js abandons the whole search when one branch finds no issuer, so
      // a dead end answers with the certificate itself: PKI.js then treats the
      // branch as an untrusted self-signed end and drops it, and the other
      // branches (another cross-signature of the same CA) still count.
      const seen = (lookupsOf.get(cert) ?? 0) + 1;
      lookupsOf.set(cert, seen);
      if (seen > MAX_LOOKUPS_PER_CERTIFICATE || ++lookups > MAX_ISSUER_LOOKUPS) {
        loop = true;
        return [cert];
      }
      const found = await eng.defaultFindIssuer(cert, eng, crypto);
      // An anchor among the issuers ends the path here (the shortest one
      // through this certificate); the others need not be walked.
      const anchors = found.filter((c) => anchorSet.has(c));
      const issuers = anchors.length > 0 ? anchors : found;
      issuersOf.set(cert, issuers);
      return issuers.length > 0 ? issuers : [cert];
    },
  });
  const crypto = new PathCryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto });
  const result = await engine.verify({ passedWhenNotRevValues: true }, crypto);
  // Every certificate PKI.js returns is one of the objects it was given.
  const pathOf = (certs: ReadonlyArray<pkijs.Certificate>): CertificatePath => certs.map((c) => known.get(c)!);

  if (result.result) {
    const path = pathOf(result.certificatePath ?? []);
    // Guards identity pinning against PKI.js ever choosing another leaf (it takes the last certificate given).
    if (path[0] !== leaf) throw chainError(`The certificate path PKI.js found does not start at the signing certificate '${leaf.subject}'`);
    checkPath(path, params.now, params.leafPurpose);
    return path;
  }
  if (loop) {
    throw chainError(
      `The signing certificate '${leaf.subject}' does not chain to a trusted certificate: its issuers form a loop of cross-signed certificates`,
    );
  }
  const candidate = shortestPathToAnchor(leaf.certificate, issuersOf, anchorSet);
  if (!candidate) throw noPathError(leaf, issuersOf, known);
  const path = pathOf(candidate);
  checkPath(path, params.now, params.leafPurpose);
  // Every rule checkPath knows passed: the refusal is one only PKI.js applies
  // (name constraints, policies); name the path it was judged on.
  throw chainError(`The certificate path '${path.map((c) => c.subject).join("' -> '")}' is invalid: ${result.resultMessage}`);
}

/**
 * Explains a missing path from where it stops: following the issuers PKI.js
 * found from the leaf, the last certificate either names an issuer that is
 * present but whose key did not sign it, or one that is nowhere to be found.
 */
function noPathError(
  leaf: PathCertificate,
  issuersOf: ReadonlyMap<pkijs.Certificate, pkijs.Certificate[]>,
  known: ReadonlyMap<pkijs.Certificate, PathCertificate>,
): ModelSigningError {
  let stuck = leaf.certificate;
  const seen = new Set([stuck]);
  for (let next = issuersOf.get(stuck)?.[0]; next && !seen.has(next); next = issuersOf.get(stuck)?.[0]) {
    seen.add(next);
    stuck = next;
  }
  const subject = known.get(stuck)!.subject;
  const issuerName = formatName(stuck.issuer);
  const namesake = [...known.values()].find((c) => c.certificate !== stuck && c.certificate.subject.isEqual(stuck.issuer));
  if (namesake) {
    return chainError(
      `Certificate '${subject}' names '${issuerName}' as its issuer, but its signature does not verify with that certificate's key`,
    );
  }
  return chainError(
    `The signing certificate '${leaf.subject}' does not chain to any trusted certificate: the issuer of '${subject}', '${issuerName}', is neither a trust anchor nor in the signature's chain; pass the issuing CA as a trust anchor`,
  );
}

/** Breadth-first search over the issuer edges PKI.js found: the shortest path from `leaf` to an anchor, as PKI.js picks it. */
function shortestPathToAnchor(
  leaf: pkijs.Certificate,
  issuersOf: ReadonlyMap<pkijs.Certificate, pkijs.Certificate[]>,
  anchors: ReadonlySet<pkijs.Certificate>,
): pkijs.Certificate[] | undefined {
  const queue: pkijs.Certificate[][] = [[leaf]];
  const seen = new Set([leaf]);
  for (let path = queue.shift(); path; path = queue.shift()) {
    const last = path[path.length - 1];
    if (anchors.has(last)) return path;
    for (const issuer of issuersOf.get(last) ?? []) {
      if (seen.has(issuer)) continue;
      seen.add(issuer);
      queue.push([...path, issuer]);
    }
  }
  return undefined;
}

/** Who the signing certificate must name; every field given must match. */
export interface CertificateIdentity {
  /** One of the leaf's subject alternative names (email, DNS name or URI), exactly. */
  subjectAlternativeName?: string;
  /** The leaf's subject as this library prints it (`CN=…, O=…`, certificate order), exactly. */
  subject?: string;
  /** SHA-256 of the leaf's DER, hex; colons and case are ignored. */
  fingerprintSha256?: string;
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Checks the leaf against the identity the caller pinned.
 *
 * @throws {ModelSigningError} `IDENTITY_MISMATCH` naming the field and what the certificate holds.
 */
export async function checkCertificateIdentity(leaf: PathCertificate, identity: CertificateIdentity): Promise<void> {
  const mismatch = (message: string) => new ModelSigningError({ code: 'IDENTITY_MISMATCH', message });
  if (identity.subjectAlternativeName !== undefined) {
    const names = subjectAlternativeNames(leaf.certificate);
    if (!names.includes(identity.subjectAlternativeName)) {
      throw mismatch(
        `Certificate '${leaf.subject}' does not name '${identity.subjectAlternativeName}' (its subject alternative names: ${names.length > 0 ? names.join(', ') : 'none'})`,
      );
    }
  }
  if (identity.subject !== undefined && identity.subject !== leaf.subject) {
    throw mismatch(`Certificate subject '${leaf.subject}' is not the required '${identity.subject}'`);
  }
  if (identity.fingerprintSha256 !== undefined) {
    const want = identity.fingerprintSha256.replace(/:/g, '').toLowerCase();
    const got = hex(await globalThis.crypto.subtle.digest('SHA-256', leaf.der));
    if (want !== got) throw mismatch(`Certificate '${leaf.subject}' has SHA-256 fingerprint ${got}, not the required ${want}`);
  }
}

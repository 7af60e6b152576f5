/**
 * Sigstore trust material read from a `trusted_root.json` (protobuf JSON,
 * `dev.sigstore.trustedroot.v1.TrustedRoot`) without @sigstore/protobuf-specs
 * or Node: certificate authorities, timestamp authorities, transparency logs
 * and CT logs, each with its validity window.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ModelSigningError } from '../../../errors.js';
import { STAGING_TRUSTED_ROOT } from '../roots/staging.js';
import { parseCertificate, type PathCertificate } from '../../certificate/certificate-path.js';
import { fromBase64, type Bytes } from './bytes.js';
import { importSpki, type VerificationKey } from './keys.js';
import { PRODUCTION_TRUSTED_ROOT } from './production-root.js';

const CLIENT_TRUST_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json';
const TRUSTED_ROOT_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\.v0\.1)?\+json(;version=0\.1)?$/;

/** When a key or certificate authority may be used; open ends are unbounded. */
export interface Validity {
  start: Date;
  end: Date;
}

/** A Fulcio or timestamp authority: its chain, leaf-most first, root last. */
export interface CertificateAuthority {
  chain: PathCertificate[];
  validFor: Validity;
}

/** A Rekor or CT log key. */
export interface LogAuthority {
  baseUrl: string;
  /** The log ID (for Rekor v2 logs, the checkpoint key ID). */
  logId: Bytes;
  /** DER SubjectPublicKeyInfo. */
  spki: Bytes;
  key: VerificationKey;
  validFor: Validity;
}

/** The trust material of one Sigstore instance. */
export interface TrustedRoot {
  certificateAuthorities: CertificateAuthority[];
  timestampAuthorities: CertificateAuthority[];
  tlogs: LogAuthority[];
  ctlogs: LogAuthority[];
}

/** Checks `at` against a validity window, both ends included (as sigstore-js does). */
export function validAt(validity: Validity, at: Date): boolean {
  return validity.start <= at && at <= validity.end;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(source: string, message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'INVALID_ARGUMENT', cause, message: `The ${source} trusted root is invalid: ${message}` });
}

function list(root: Record<string, unknown>, field: string, source: string): Record<string, unknown>[] {
  const value = root[field] ?? [];
  if (!Array.isArray(value) || !value.every(isRecord)) throw invalid(source, `${field} is not a list of objects`);
  return value;
}

function date(value: unknown, fallback: Date, what: string, source: string): Date {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(parsed.getTime())) throw invalid(source, `${what} is not a timestamp`);
  return parsed;
}

function validity(value: unknown, what: string, source: string): Validity {
  const v = isRecord(value) ? value : {};
  return {
    start: date(v['start'], new Date(0), `${what} validFor.start`, source),
    end: date(v['end'], new Date(8.64e15), `${what} validFor.end`, source),
  };
}

function base64Field(value: unknown, what: string, source: string): Bytes {
  if (typeof value !== 'string') throw invalid(source, `${what} is missing`);
  try {
    return fromBase64(value);
  } catch (cause) {
    throw invalid(source, `${what} is not base64`, cause);
  }
}

function authority(ca: Record<string, unknown>, what: string, source: string): CertificateAuthority {
  const certs = isRecord(ca['certChain']) ? ca['certChain']['certificates'] : undefined;
  if (!Array.isArray(certs) || certs.length === 0) throw invalid(source, `${what} has no certChain.certificates`);
  const chain = certs.map((c: unknown, i) => {
    const der = base64Field(isRecord(c) ? c['rawBytes'] : undefined, `${what} certificate ${i} rawBytes`, source);
    try {
      return parseCertificate(der);
    } catch (cause) {
      throw invalid(source, `${what} certificate ${i} is not an X.509 certificate`, cause);
    }
  });
  return { chain, validFor: validity(ca['validFor'], what, source) };
}

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';

/** Wraps a bare PKCS#1 RSAPublicKey (older staging CT logs) in the SubjectPublicKeyInfo WebCrypto imports. */
function pkcs1ToSpki(pkcs1: Bytes): Bytes {
  const info = new pkijs.PublicKeyInfo({
    algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: RSA_ENCRYPTION, algorithmParams: new asn1js.Null() }),
    subjectPublicKey: new asn1js.BitString({ valueHex: pkcs1 }),
  });
  return new Uint8Array(info.toSchema().toBER());
}

async function log(tlog: Record<string, unknown>, what: string, source: string): Promise<LogAuthority> {
  const publicKey = isRecord(tlog['publicKey']) ? tlog['publicKey'] : {};
  const raw = base64Field(publicKey['rawBytes'], `${what} publicKey.rawBytes`, source);
  const spki = typeof publicKey['keyDetails'] === 'string' && publicKey['keyDetails'].startsWith('PKCS1_') ? pkcs1ToSpki(raw) : raw;
  const idOf = (v: unknown) => (isRecord(v) ? v['keyId'] : undefined);
  // Rekor v2 logs sign checkpoints under their checkpoint key ID; sigstore-js looks them up by it.
  const logId = base64Field(idOf(tlog['checkpointKeyId']) ?? idOf(tlog['logId']), `${what} logId.keyId`, source);
  let key: VerificationKey;
  try {
    key = await importSpki(spki);
  } catch (cause) {
    throw invalid(source, `${what} public key cannot be used: ${(cause as Error).message}`, cause);
  }
  return {
    baseUrl: typeof tlog['baseUrl'] === 'string' ? tlog['baseUrl'] : '',
    logId,
    spki,
    key,
    validFor: validity(publicKey['validFor'], what, source),
  };
}

/**
 * Reads a trusted root, or the trusted root inside a ClientTrustConfig
 * (either protobuf JSON spelling, as sigstore-python accepts).
 *
 * @param document the parsed JSON or its text.
 * @param source names the root in errors (`production`, `custom`, …).
 * @throws {ModelSigningError} `INVALID_ARGUMENT` naming the problem.
 */
export async function parseTrustedRoot(document: unknown, source: string): Promise<TrustedRoot> {
  let json = document;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (cause) {
      throw invalid(source, 'it is not valid JSON', cause);
    }
  }
  if (!isRecord(json)) throw invalid(source, 'it is not a JSON object');
  if (json['mediaType'] === CLIENT_TRUST_CONFIG_MEDIA_TYPE) json = json['trustedRoot'] ?? json['trusted_root'];
  if (!isRecord(json)) throw invalid(source, 'the client trust config has no trustedRoot');
  if (typeof json['mediaType'] !== 'string' || !TRUSTED_ROOT_MEDIA_TYPE.test(json['mediaType'])) {
    throw invalid(source, `mediaType is '${String(json['mediaType'])}', not a trusted root or client trust config`);
  }
  const root = json;
  return {
    certificateAuthorities: list(root, 'certificateAuthorities', source).map((ca, i) =>
      authority(ca, `certificate authority ${i}`, source),
    ),
    timestampAuthorities: list(root, 'timestampAuthorities', source).map((ca, i) => authority(ca, `timestamp authority ${i}`, source)),
    tlogs: await Promise.all(list(root, 'tlogs', source).map((t, i) => log(t, `transparency log ${i}`, source))),
    ctlogs: await Promise.all(list(root, 'ctlogs', source).map((t, i) => log(t, `CT log ${i}`, source))),
  };
}

/** The production or staging trusted root shipped with this package (the ones the Node verifier uses offline). */
export function bundledTrustedRoot(instance: 'production' | 'staging'): Promise<TrustedRoot> {
  return parseTrustedRoot(instance === 'staging' ? STAGING_TRUSTED_ROOT : PRODUCTION_TRUSTED_ROOT, instance);
}

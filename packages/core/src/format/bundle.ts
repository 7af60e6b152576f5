import { ModelSigningError } from '../errors.js';
import { decodeBase64Into, decodeCanonicalBase64Into, decodedLengthBound, fromBase64, toBase64 } from './base64.js';
import { findMember, textWithout } from './json-spans.js';
import { reservePayload } from './dsse.js';
import { utf8Length } from './utf8.js';

/** The only bundle media type the reference writes, and requires for key and certificate bundles. */
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * The signature's file name in a model folder (or hub repo) unless told
 * otherwise: what the CLI, every adapter and the reference's examples use.
 */
export const DEFAULT_SIGNATURE_NAME = 'model.sig';

/**
 * The media types a keyless bundle may carry: both spellings of v0.3. A
 * keyless bundle here holds its signing certificate alone
 * (`verificationMaterial.certificate`), which only v0.3 allows; v0.1 and v0.2
 * bundles carry `x509CertificateChain` instead, so those media types on this
 * shape are refused, as the reference refuses them.
 */
const SIGSTORE_MEDIA_TYPES = new Set([BUNDLE_MEDIA_TYPE, 'application/vnd.dev.sigstore.bundle+json;version=0.3']);

/** How a bundle was signed, read from its verification material. */
export type SigningMethod = 'key' | 'certificate' | 'sigstore';

/**
 * The JSON form of a Sigstore bundle holding an OMS signature. Verification
 * material is kept as plain JSON: each method reads the part it needs.
 */
export interface SerializedBundle {
  mediaType: string;
  verificationMaterial: Record<string, unknown>;
  /** The DSSE envelope: the payload and its type, and the signatures (base64), of which the first counts. */
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid?: string | null }[] };
}

/** A structurally valid bundle, decoded; nothing in it is trusted yet. */
export interface ParsedBundle {
  method: SigningMethod;
  json: SerializedBundle;
  /** The exact payload bytes the signature covers. */
  payload: Uint8Array;
  payloadType: string;
  /**
   * `signatures[0].sig`, decoded (DER ECDSA). Like the reference, only the
   * first signature counts; a Sigstore bundle must hold exactly one.
   */
  signature: Uint8Array;
  /** Key bundles: `publicKey.hint`, when present. */
  publicKeyHint?: string;
  /** Key bundles before v1.1: the signer's public key PEM from `publicKey.rawBytes`. */
  embeddedPublicKeyPem?: string;
  /** Certificate bundles: the chain, leaf first (DER). Keyless bundles: the leaf. */
  certificates: Uint8Array[];
  /**
   * `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`, decoded
   * (DER TimeStampResp, each over the signature): unverified until a verifier
   * checks them against timestamp authorities it trusts.
   */
  rfc3161Timestamps: Uint8Array[];
}

/**
 * The largest bundle read or parsed by default: 64 MiB. Everything in a
 * bundle is decoded before its signature can be checked, so this bounds what
 * an unsigned file can make us allocate (a few times its size). A signed
 * manifest takes about 160 to 250 bytes per resource, so this fits some
 * 300,000 files or shards. Verifying a model on disk, the limit follows
 * the files present (1 KiB more for each, `bundleLimitFor`); elsewhere,
 * raise it with `maxBundleBytes` (CLI `--max-bundle-size`) for larger models.
 */
export const DEFAULT_MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

/** Options for {@link parseBundle}. */
export interface ParseBundleOptions {
  /** Refuse bundles larger than this many bytes (`BUNDLE_TOO_LARGE`). Default {@link DEFAULT_MAX_BUNDLE_BYTES}. */
  maxBundleBytes?: number;
}

/**
 * The bundle size limit to apply: the option, checked, or the default.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` unless it is a positive integer.
 */
export function maxBundleBytesOf(options: ParseBundleOptions): number {
  const max = options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `maxBundleBytes must be a positive integer, got ${String(options.maxBundleBytes)}`,
    });
  }
  return max;
}

/**
 * The error for a bundle over the limit, naming the options that raise it:
 * by its announced `size`, or (`announced` false) once more than `max`
 * bytes arrived.
 */
export function bundleTooLarge(size: number, max: number, path?: string, announced = true): ModelSigningError {
  return new ModelSigningError({
    code: 'BUNDLE_TOO_LARGE',
    ...(path === undefined ? {} : { path }),
    message: `The signature${path === undefined ? '' : ` '${path}'`} is ${announced ? `${size} bytes` : `more than ${max} bytes`}, over the limit of ${max} bytes read before its signature is checked; if it is genuine (a model with hundreds of thousands of files), raise the limit with the maxBundleBytes option`,
  });
}

/** The error for a bundle longer than the runtime's longest string (about 512 MiB in V8), which a raised limit allows. */
export function bundleTooLargeToDecode(size: number, path?: string): ModelSigningError {
  return new ModelSigningError({
    code: 'BUNDLE_TOO_LARGE',
    ...(path === undefined ? {} : { path }),
    message: `The signature${path === undefined ? '' : ` '${path}'`} is ${size} bytes, too large to decode in this runtime`,
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const QUOTE = 0x22;

function bad(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_BUNDLE', cause, message: `Invalid signature bundle: ${message}` });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeBase64(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string') throw bad(`${what} is not base64`);
  try {
    return fromBase64(v);
  } catch (cause) {
    throw bad(`${what} is not base64`, cause);
  }
}

/**
 * The envelope's payload, decoded into room for its DSSE pre-authentication
 * encoding (the signature is checked over it without a copy). A payload in
 * the canonical encoding, as every signer writes it, then leaves the JSON:
 * `payload` becomes a getter that writes it again from the bytes, so a
 * dataset's 200 MB of base64 is not kept beside its 150 MB of bytes.
 */
function decodePayload(envelope: Record<string, unknown>, payloadType: string): Uint8Array {
  const text = envelope['payload'];
  if (typeof text !== 'string') throw bad('dsseEnvelope.payload is not base64');
  const reserved = reservePayload(payloadType, decodedLengthBound(text));
  let decoded;
  try {
    decoded = decodeBase64Into(text, reserved.into);
  } catch (cause) {
    throw bad('dsseEnvelope.payload is not base64', cause);
  }
  const payload = reserved.finish(decoded.length);
  if (decoded.canonical) {
    Object.defineProperty(envelope, 'payload', { enumerable: true, configurable: true, get: () => toBase64(payload) });
  }
  return payload;
}

/**
 * {@link decodePayload} for a payload cut out of the JSON as bytes: decoded
 * straight from them when they are canonical base64 (else `undefined`);
 * `payload` becomes the getter that writes them again.
 */
function decodeCutPayload(envelope: Record<string, unknown>, base64: Uint8Array, payloadType: string): Uint8Array | undefined {
  const reserved = reservePayload(payloadType, Math.ceil((base64.length * 3) / 4));
  const length = decodeCanonicalBase64Into(base64, reserved.into);
  if (length === undefined) return undefined;
  const payload = reserved.finish(length);
  Object.defineProperty(envelope, 'payload', { enumerable: true, configurable: true, get: () => toBase64(payload) });
  return payload;
}

function methodOf(material: Record<string, unknown>): SigningMethod {
  if (isRecord(material['publicKey'])) return 'key';
  if (isRecord(material['x509CertificateChain'])) return 'certificate';
  if (isRecord(material['certificate'])) return 'sigstore';
  throw bad('verificationMaterial has no publicKey, x509CertificateChain or certificate');
}

/** The RFC 3161 timestamps of `timestampVerificationData`, decoded (none when it is absent). */
function timestampsOf(data: unknown): Uint8Array[] {
  if (data === undefined || data === null) return [];
  if (!isRecord(data)) throw bad('timestampVerificationData must be an object');
  const stamps = data['rfc3161Timestamps'] ?? [];
  if (!Array.isArray(stamps)) throw bad('timestampVerificationData.rfc3161Timestamps must be a list');
  return stamps.map((s: unknown, i) =>
    decodeBase64(isRecord(s) ? s['signedTimestamp'] : undefined, `rfc3161Timestamps[${i}].signedTimestamp`),
  );
}

/**
 * Parses a bundle from its JSON text or bytes and checks its structure.
 * No signature is checked here.
 *
 * @throws {ModelSigningError} `BAD_BUNDLE` naming what is wrong (not UTF-8,
 *   not JSON, truncated, a media type that is not v0.3 or does not fit the
 *   bundle's shape, missing envelope or verification material, a Sigstore
 *   envelope without exactly one signature); `BUNDLE_TOO_LARGE` over
 *   `maxBundleBytes`.
 */
export function parseBundle(input: string | Uint8Array, options: ParseBundleOptions = {}): ParsedBundle {
  const max = maxBundleBytesOf(options);
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: measure only when it may matter.
  const size = typeof input === 'string' ? (input.length * 3 > max ? utf8Length(input) : input.length) : input.byteLength;
  if (size > max) throw bundleTooLarge(size, max);
  // From bytes, the payload (nearly all of a dataset's signature) is cut
  // out and decoded on its own, never made a string; a payload that is not
  // plain canonical base64 is read with the rest, as text.
  const cut = typeof input === 'string' ? undefined : withoutPayload(input);
  if (cut) {
    const parsed = checkBundle(cut.json, cut.payload);
    if (parsed) return parsed;
  }
  // The text lives only inside parseJson: the parsed copy is all that is needed from here on.
  return checkBundle(parseJson(input, size), undefined)!;
}

/**
 * The bundle's JSON parsed without its envelope's payload (left an empty
 * string), and the payload's base64 bytes; `undefined` when the payload
 * cannot be told apart without parsing the whole (json-spans.ts) or the rest
 * does not parse (the whole is then parsed, for its error).
 */
function withoutPayload(bytes: Uint8Array): { json: unknown; payload: Uint8Array } | undefined {
  const span = findMember(bytes, ['dsseEnvelope', 'payload']);
  if (!span || bytes[span.start] !== QUOTE || span.end - span.start < 2) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(textWithout(bytes, span, '""'));
  } catch {
    return undefined;
  }
  // The value cut is the one JSON.parse reads there.
  const envelope = isRecord(json) ? json['dsseEnvelope'] : undefined;
  if (!isRecord(envelope) || envelope['payload'] !== '') return undefined;
  return { json, payload: bytes.subarray(span.start + 1, span.end - 1) };
}

/**
 * Checks a bundle's structure and decodes its parts. With `cutPayload`
 * (the payload's base64 bytes, cut out of `json`): `undefined` when they are
 * not canonical base64, for the caller to parse the whole.
 */
function checkBundle(json: unknown, cutPayload: Uint8Array | undefined): ParsedBundle | undefined {
  if (!isRecord(json)) throw bad('it is not a JSON object');
  const mediaType = json['mediaType'];
  if (typeof mediaType !== 'string') throw bad('mediaType is missing');
  const material = json['verificationMaterial'];
  if (!isRecord(material)) throw bad('verificationMaterial is missing');
  const method = methodOf(material);
  // The reference requires exactly the v0.3 media type for key and certificate
  // bundles; keyless bundles follow Sigstore's rules, where a single
  // certificate means v0.3 in either spelling.
  if (method === 'sigstore' ? !SIGSTORE_MEDIA_TYPES.has(mediaType) : mediaType !== BUNDLE_MEDIA_TYPE) {
    const shape =
      method === 'sigstore' && /version=0\.[12]$/.test(mediaType)
        ? ' (a v0.1 or v0.2 bundle carries x509CertificateChain; one with a single certificate is v0.3)'
        : '';
    throw bad(`unsupported mediaType '${mediaType}'${shape}, expected '${BUNDLE_MEDIA_TYPE}'`);
  }
  if (material['tlogEntries'] !== undefined && !Array.isArray(material['tlogEntries'])) throw bad('tlogEntries must be a list');
  const rfc3161Timestamps = timestampsOf(material['timestampVerificationData']);
  const envelope = json['dsseEnvelope'];
  if (!isRecord(envelope)) throw bad('dsseEnvelope is missing (OMS signatures are DSSE envelopes)');
  const payloadType = envelope['payloadType'];
  if (typeof payloadType !== 'string') throw bad('dsseEnvelope.payloadType is missing');
  const payload = cutPayload ? decodeCutPayload(envelope, cutPayload, payloadType) : decodePayload(envelope, payloadType);
  if (!payload) return undefined;
  const signatures = envelope['signatures'];
  if (!Array.isArray(signatures) || signatures.length === 0 || !isRecord(signatures[0])) throw bad('dsseEnvelope has no signature');
  // Sigstore logs the envelope with its signatures: one, which is the one
  // checked (sigstore-js and the reference refuse more). Key and certificate
  // bundles check the first signature and ignore others, as the reference does.
  if (method === 'sigstore' && signatures.length !== 1)
    throw bad(`a Sigstore bundle's envelope must hold exactly one signature, this one holds ${signatures.length}`);
  const signature = decodeBase64(signatures[0]['sig'], 'the signature');
  if (signature.length === 0) throw bad('the signature is empty');

  const parsed: ParsedBundle = {
    method,
    json: json as unknown as SerializedBundle,
    payload,
    payloadType,
    signature,
    certificates: [],
    rfc3161Timestamps,
  };
  if (method === 'key') {
    const key = material['publicKey'] as Record<string, unknown>;
    if (typeof key['hint'] === 'string') parsed.publicKeyHint = key['hint'];
    if (key['rawBytes'] !== undefined)
      parsed.embeddedPublicKeyPem = new TextDecoder().decode(decodeBase64(key['rawBytes'], 'publicKey.rawBytes'));
  } else if (method === 'certificate') {
    const chain = (material['x509CertificateChain'] as Record<string, unknown>)['certificates'];
    if (!Array.isArray(chain) || chain.length === 0) throw bad('x509CertificateChain has no certificates');
    parsed.certificates = chain.map((c, i) => decodeBase64(isRecord(c) ? c['rawBytes'] : undefined, `certificate ${i}`));
  } else {
    parsed.certificates = [decodeBase64((material['certificate'] as Record<string, unknown>)['rawBytes'], 'certificate.rawBytes')];
  }
  return parsed;
}

/** A bundle's JSON, from its text or its bytes (decoded as UTF-8 here). */
function parseJson(input: string | Uint8Array, size: number): unknown {
  let text: string;
  try {
    text = typeof input === 'string' ? input : UTF8.decode(input);
  } catch (cause) {
    if (cause instanceof TypeError) throw bad('it is not UTF-8 text', cause);
    throw bundleTooLargeToDecode(size);
  }
  if (text.trim() === '') throw bad('the file is empty');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw bad('it is not valid JSON (truncated or corrupted?)', cause);
  }
}

/** Serializes a bundle as the reference does: compact JSON, no trailing newline. */
export function serializeBundle(bundle: SerializedBundle): string {
  return JSON.stringify(bundle);
}

/** A payload JSON writes as it is, between quotes (base64, no whitespace). */
const PLAIN_BASE64 = /^[A-Za-z0-9+/=]*$/;
const EMPTY_PAYLOAD = '"dsseEnvelope":{"payload":""';
/** Envelopes made by the bundle builder: the base64 pieces their payload text was made of. */
const payloadParts = new WeakMap<SerializedBundle['dsseEnvelope'], { text: string; parts: readonly string[] }>();

/** Records that `envelope.payload` is `text`, the concatenation of `parts` (pure base64), for {@link serializeBundleParts}. */
export function rememberPayloadParts(envelope: SerializedBundle['dsseEnvelope'], text: string, parts: readonly string[]): void {
  payloadParts.set(envelope, { text, parts });
}

/**
 * {@link serializeBundle} in pieces that concatenate to the same text, the
 * payload (nearly all of a large signature) in slices: writing the
 * signature of a million files, some 200 MB, then never builds it as one
 * string, nor its bytes as one buffer. A payload the bundle builder made is
 * written from the pieces it was made of, without reading it whole.
 */
export function serializeBundleParts(bundle: SerializedBundle, sliceLength = 4 * 1024 * 1024): string[] {
  const { payload } = bundle.dsseEnvelope;
  const known = payloadParts.get(bundle.dsseEnvelope);
  // Identity, not equality: comparing the texts would read them whole.
  const pieces = known?.text === payload ? known.parts : undefined;
  if (pieces === undefined && (payload.length <= sliceLength || !PLAIN_BASE64.test(payload))) return [serializeBundle(bundle)];
  const text = JSON.stringify({ ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, payload: '' } });
  const at = text.indexOf(EMPTY_PAYLOAD);
  if (at < 0 || text.indexOf(EMPTY_PAYLOAD, at + 1) >= 0) return [serializeBundle(bundle)];
  const split = at + EMPTY_PAYLOAD.length - 1;
  const parts = [text.slice(0, split)];
  if (pieces) parts.push(...pieces);
  else for (let i = 0; i < payload.length; i += sliceLength) parts.push(payload.slice(i, i + sliceLength));
  parts.push(text.slice(split));
  return parts;
}

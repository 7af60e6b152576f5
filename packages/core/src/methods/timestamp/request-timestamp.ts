/**
 * The RFC 3161 client that timestamps key, certificate, PKCS#11 and KMS
 * signatures: it asks a timestamp authority to stamp the DSSE signature, as
 * Sigstore bundles do (the message imprint is SHA-256 of the signature
 * bytes), over the HTTP transport of RFC 3161 §3.4, with a fresh nonce and
 * `certReq`, and accepts the answer only once it verifies over this
 * signature with that nonce. Runtime-neutral: `fetch` and WebCrypto.
 */
import { throwIfAborted } from '../../cancellation.js';
import { ModelSigningError } from '../../errors.js';
import { toBase64 } from '../../format/base64.js';

// PKI.js, asn1js and the token verifier are imported when a timestamp is
// requested: PKI.js's import alone costs more than signing a small model,
// and the Node entry exports this function.

const SHA256 = '2.16.840.1.101.3.4.2.1';
/** Larger than any TimeStampResp (a few KiB with the TSA's chain): an answer past it is refused unread. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Where a timestamp authority is and how to reach it. */
export interface TimestampAuthorityOptions {
  /**
   * The TSA's RFC 3161 HTTP endpoint, which takes a POSTed
   * `application/timestamp-query` (e.g. Sigstore's
   * `https://timestamp.sigstore.dev/api/v1/timestamp`, or `https://freetsa.org/tsr`).
   * A user name and password in it are sent as HTTP Basic authentication
   * and never appear in messages.
   */
  url: string | URL;
  /** The `fetch` to send the request with (e.g. one that adds headers a TSA requires). Default: the global one. */
  fetch?: typeof fetch;
  /** How long to wait for the answer, in milliseconds. Default 30000. */
  timeoutMs?: number;
}

/** What {@link requestTimestamp} takes. */
export interface RequestTimestampParams extends TimestampAuthorityOptions {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  /** The bytes to stamp: the DSSE signature. */
  signature: Uint8Array;
}

/** A TSA's answer that verified over the signature. */
export interface RequestedTimestamp {
  /** The DER TimeStampResp, as a bundle's `signedTimestamp` holds it. */
  token: Uint8Array;
  /** The stamped time. */
  time: Date;
  /** The subject of the TSA certificate that signed it. */
  authority: string;
}

/** The URL without the user name and password it may carry: what is fetched and shown. */
function shown(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/** A user name and password in the URL (`https://user:pass@tsa.example/…`), as HTTP Basic authentication (RFC 7617). */
function basicAuthorization(url: URL): Record<string, string> {
  if (!url.username && !url.password) return {};
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { Authorization: `Basic ${toBase64(new TextEncoder().encode(credentials))}` };
}

function networkError(url: URL, message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'NETWORK_ERROR', cause, message: `The timestamp authority at ${shown(url)} ${message}` });
}

function endpointOf(url: string | URL): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `The timestamp authority URL '${parsed ? shown(parsed) : String(url)}' is not an http(s) URL (give its RFC 3161 endpoint, e.g. https://timestamp.sigstore.dev/api/v1/timestamp)`,
    });
  }
  return parsed;
}

/** A positive 64-bit nonce whose DER encoding is minimal (its first byte is 0x40–0x7f). */
function freshNonce(): { bytes: Uint8Array<ArrayBuffer>; value: bigint } {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  bytes[0] = (bytes[0] & 0x3f) | 0x40;
  return { bytes, value: bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n) };
}

async function timeStampQuery(signature: Uint8Array, nonce: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const [asn1js, pkijs] = await Promise.all([import('asn1js'), import('pkijs')]);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(signature));
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256, algorithmParams: new asn1js.Null() }),
      hashedMessage: new asn1js.OctetString({ valueHex: digest }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
  });
  return new Uint8Array(request.toSchema().toBER());
}

/** The body, refused past {@link MAX_RESPONSE_BYTES} without reading the rest. */
async function boundedBody(response: Response, url: URL): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  const tooLarge = () =>
    new ModelSigningError({
      code: 'TIMESTAMP_INVALID',
      message: `The timestamp authority at ${shown(url)} answered with more than ${MAX_RESPONSE_BYTES} bytes, which is no timestamp`,
    });
  if (declared > MAX_RESPONSE_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
    size += chunk.value.length;
    if (size > MAX_RESPONSE_BYTES) {
      await reader?.cancel();
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/**
 * Asks a timestamp authority for an RFC 3161 timestamp over `signature`
 * and checks the answer: a granted TimeStampResp whose token carries the
 * TSA's certificate, is signed by it (a critical, sole timeStamping extended
 * key usage, valid at the stamped time), stamps SHA-256 of exactly these
 * bytes and echoes the nonce sent. Whether the TSA is one a verifier trusts
 * is for the verifier to say (`tsaCertificateChain`).
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a URL that is not
 *   http(s); `NETWORK_ERROR` when the TSA cannot be reached, answers with an
 *   HTTP error or not within `timeoutMs`; `TIMESTAMP_INVALID` for an answer
 *   that is not such a timestamp; `ABORTED`.
 */
export async function requestTimestamp(params: RequestTimestampParams): Promise<RequestedTimestamp> {
  const url = endpointOf(params.url);
  const timeoutMs = params.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const caller = params.abortSignal;
  throwIfAborted(caller);
  const nonce = freshNonce();
  const query = await timeStampQuery(params.signature, nonce.bytes);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
  let body: Uint8Array;
  try {
    // Credentials go in a header, never in the URL fetch sees (its errors quote the URL).
    const response = await (params.fetch ?? globalThis.fetch)(shown(url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/timestamp-query', Accept: 'application/timestamp-reply', ...basicAuthorization(url) },
      body: query,
      signal,
    });
    if (!response.ok) {
      const text = (await response.text().catch(() => '')).trim().slice(0, 200);
      throw networkError(url, `answered HTTP ${response.status}${text ? `: ${text}` : ''}`);
    }
    body = await boundedBody(response, url);
  } catch (cause) {
    throwIfAborted(caller);
    if (cause instanceof ModelSigningError) throw cause;
    if (timeout.aborted) throw networkError(url, `did not answer within ${timeoutMs} ms`, cause);
    throw networkError(url, `cannot be reached: ${(cause as Error).message}`, cause);
  }
  const { readTimestampToken, verifyTimestamp } = await import('./verify-timestamp.js');
  try {
    // The token must carry the TSA's certificate (certReq): it is checked
    // here as its own anchor, so the answer is shown to be a well-formed
    // timestamp by a timestamp authority over this signature and nonce.
    const certificates = readTimestampToken(body).certificates;
    if (certificates.length === 0) {
      throw new ModelSigningError({
        code: 'TIMESTAMP_INVALID',
        message: 'its token does not carry the TSA certificate that the request asked for (certReq)',
      });
    }
    const verified = await verifyTimestamp({
      token: body,
      signature: params.signature,
      authorities: [{ anchors: certificates }],
      nonce: nonce.value,
    });
    return { token: body, time: verified.time, authority: verified.authority };
  } catch (cause) {
    if (!(cause instanceof ModelSigningError)) throw cause;
    throw new ModelSigningError({
      code: 'TIMESTAMP_INVALID',
      cause,
      message: `The timestamp authority at ${shown(url)} gave no valid timestamp of this signature: ${cause.message}`,
    });
  }
}

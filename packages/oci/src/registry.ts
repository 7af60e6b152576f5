// The OCI distribution API, as much of it as signing and pulling a model
// needs: manifests, blobs, blob and manifest uploads, and the referrers API.
// Authentication follows the distribution spec's token flow (a 401 with
// `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, a token from the
// realm, the request again) and HTTP Basic, with the user's Docker
// credentials read only when the registry asks. Every answer is read
// bounded; every failure becomes one coded error.
import { createHash } from 'node:crypto';
import { ModelSigningError } from '@model-signing/core';
import { defaultDockerConfigPath, dockerCredentials, type RegistryCredentials } from './credentials.js';
import { DOCKER_MANIFEST_V2, MAX_MANIFEST_BYTES, OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST, type Descriptor } from './image-manifest.js';
import { formatOciReference, type OciReference } from './reference.js';

/** How to reach a registry: what every OCI function takes. */
export interface RegistryParams {
  /**
   * Speak plain HTTP instead of HTTPS (a registry on loopback, as
   * `oras --plain-http`); token services may then be plain HTTP too. Default false.
   */
  plainHttp?: boolean;
  /**
   * Credentials for the registry. Default: those the Docker config file
   * holds for it (`auths`, `credHelpers`, `credsStore`), looked up only when
   * the registry asks for them; anonymous when it has none.
   */
  credentials?: RegistryCredentials;
  /** The Docker config file to take credentials from; `false` reads none. Default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  dockerConfig?: string | false;
  /** The fetch to use (e.g. one through a proxy). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Cancels every request: the call rejects with `ABORTED`. */
  abortSignal?: AbortSignal;
}

/** A manifest as fetched, with the digest of its exact bytes. */
export interface FetchedManifest {
  bytes: Uint8Array;
  /** `sha256:<hex>` of `bytes`, computed here (never taken from a header). */
  digest: string;
  /** The media type the registry served it as. */
  mediaType: string;
}

const MANIFEST_ACCEPT = [
  OCI_IMAGE_MANIFEST,
  DOCKER_MANIFEST_V2,
  OCI_IMAGE_INDEX,
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');
/** The most bytes read of a token answer, or of an error answer for its message. */
const MAX_SMALL_ANSWER = 1024 * 1024;

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** One repository of one registry, with the credentials and tokens to speak to it. */
export class RegistryClient {
  readonly ref: OciReference;
  /** `http(s)://host/v2/<repository>/`. */
  private readonly base: URL;
  private readonly fetcher: typeof globalThis.fetch;
  /** The Authorization that last worked, for pulling and for pushing. */
  private readonly authorization = new Map<'pull' | 'push', string>();
  private credentials: Promise<RegistryCredentials | undefined> | undefined;

  constructor(
    ref: OciReference,
    private readonly params: RegistryParams = {},
  ) {
    this.ref = ref;
    this.base = new URL(`${params.plainHttp ? 'http' : 'https'}://${ref.apiHost}/v2/${ref.repository}/`);
    this.fetcher = params.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The reference, for messages. */
  get label(): string {
    return formatOciReference(this.ref);
  }

  get signal(): AbortSignal | undefined {
    return this.params.abortSignal;
  }

  /**
   * Fetches a manifest by tag or digest (bounded to 4 MiB). Fetched by
   * digest, its bytes must have that digest.
   *
   * @throws {ModelSigningError} `NOT_FOUND`, `ACCESS_DENIED`, `NETWORK_ERROR`,
   *   `OCI_MANIFEST_INVALID` (too large, or not the bytes of the digest asked for), `ABORTED`.
   */
  async manifest(reference: string): Promise<FetchedManifest> {
    const doing = `fetching the manifest ${this.label}`;
    const response = await this.request('GET', `manifests/${reference}`, { doing, headers: { accept: MANIFEST_ACCEPT } });
    if (!response.ok) throw await answerError(response, doing, this.ref);
    const bytes = await readBounded(response, MAX_MANIFEST_BYTES, doing, (size) => manifestTooLarge(`The manifest ${this.label}`, size));
    const digest = sha256Digest(bytes);
    if (reference.includes(':') && reference !== digest) {
      throw new ModelSigningError({
        code: 'OCI_MANIFEST_INVALID',
        message: `The registry answered ${this.label} (asked for ${reference}) with a manifest whose digest is ${digest}`,
      });
    }
    const mediaType = response.headers.get('content-type')?.split(';')[0].trim() ?? OCI_IMAGE_MANIFEST;
    return { bytes, digest, mediaType };
  }

  /**
   * The referrers index of a manifest (OCI 1.1 referrers API), or
   * `undefined` when the registry does not have the API (404).
   */
  async referrers(digest: string, artifactType: string): Promise<Uint8Array | undefined> {
    const doing = `listing the referrers of ${this.label}`;
    const response = await this.request('GET', `referrers/${digest}?artifactType=${encodeURIComponent(artifactType)}`, {
      doing,
      headers: { accept: OCI_IMAGE_INDEX },
    });
    if (response.status === 404) {
      await discard(response);
      return undefined;
    }
    if (!response.ok) throw await answerError(response, doing, this.ref);
    return readBounded(response, MAX_MANIFEST_BYTES, doing, (size) => manifestTooLarge(`The referrers index of ${this.label}`, size));
  }

  /** The manifest at a tag or digest, or `undefined` when there is none (404). */
  async manifestIfAny(reference: string): Promise<FetchedManifest | undefined> {
    try {
      return await this.manifest(reference);
    } catch (err) {
      if (err instanceof ModelSigningError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  /**
   * Streams a blob as the registry sends it; the caller bounds and hashes
   * what arrives (a layer: the verified-model session, which refuses more
   * than the listed size as it does for every source). Stopping early
   * (`return`) releases the connection.
   *
   * @throws {ModelSigningError} `NOT_FOUND`, `ACCESS_DENIED`, `NETWORK_ERROR` (naming the blob), `ABORTED`.
   */
  async *blob(descriptor: Descriptor, name: string): AsyncGenerator<Uint8Array> {
    const doing = `downloading '${name}' (${descriptor.digest}) from ${this.label}`;
    const response = await this.request('GET', `blobs/${descriptor.digest}`, { doing });
    if (!response.ok || !response.body) throw await answerError(response, doing, this.ref, name);
    const reader = response.body.getReader();
    let received = 0;
    try {
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (cause) {
          throw this.failure(cause, `${doing} (${received} of ${descriptor.size} bytes received)`, name);
        }
        if (next.done) return;
        received += next.value.length;
        yield next.value;
      }
    } finally {
      // Released without waiting: after an abort or a broken connection, undici's cancel may never settle.
      void reader.cancel().catch(() => undefined);
    }
  }

  /** Reads a whole blob of at most `limit` bytes (refused with `tooLarge` from its listed size) and checks it against its digest. */
  async blobBytes(descriptor: Descriptor, name: string, limit: number, tooLarge: (size: number) => ModelSigningError): Promise<Uint8Array> {
    if (descriptor.size > limit) throw tooLarge(descriptor.size);
    const chunks: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of this.blob(descriptor, name)) {
      received += chunk.length;
      if (received > descriptor.size) {
        throw new ModelSigningError({
          code: 'NETWORK_ERROR',
          path: name,
          message: `The registry sent more than the ${descriptor.size} bytes listed for ${name}; the download was stopped`,
        });
      }
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    if (sha256Digest(bytes) !== descriptor.digest) {
      throw new ModelSigningError({
        code: 'NETWORK_ERROR',
        path: name,
        message: `The registry answered ${descriptor.digest} ('${name}') with other bytes (${sha256Digest(bytes)})`,
      });
    }
    return bytes;
  }

  /** Uploads a small blob (a signature, the empty config) unless the registry has it already. */
  async pushBlob(bytes: Uint8Array, digest: string): Promise<void> {
    const doing = `uploading ${digest} to ${this.label}`;
    const head = await this.request('HEAD', `blobs/${digest}`, { doing, push: true });
    await discard(head);
    if (head.ok) return;
    const started = await this.request('POST', 'blobs/uploads/', { doing, push: true });
    if (started.status !== 202) throw await answerError(started, doing, this.ref);
    await discard(started);
    const location = started.headers.get('location');
    if (!location) throw new ModelSigningError({ code: 'NETWORK_ERROR', message: `The registry gave no upload location while ${doing}` });
    const upload = new URL(location, this.base);
    upload.searchParams.set('digest', digest);
    const done = await this.request('PUT', upload, {
      doing,
      push: true,
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (done.status !== 201) throw await answerError(done, doing, this.ref);
    await discard(done);
  }

  /**
   * Uploads a manifest under a tag or its digest.
   *
   * @returns the `OCI-Subject` header: set when the registry recorded the
   *   manifest's subject for the referrers API.
   */
  async pushManifest(reference: string, bytes: Uint8Array, mediaType: string): Promise<{ subjectRecorded: boolean }> {
    const doing = `uploading the manifest ${reference} to ${this.label}`;
    const response = await this.request('PUT', `manifests/${reference}`, {
      doing,
      push: true,
      body: bytes,
      headers: { 'content-type': mediaType },
    });
    if (response.status !== 201) throw await answerError(response, doing, this.ref);
    await discard(response);
    return { subjectRecorded: response.headers.get('oci-subject') !== null };
  }

  /**
   * One request, authenticated as the registry asks: on a 401 its
   * challenge is answered (a token from its realm, or Basic credentials)
   * and the request sent once more.
   */
  private async request(
    method: string,
    where: string | URL,
    options: { doing: string; push?: boolean; body?: Uint8Array; headers?: Record<string, string> },
  ): Promise<Response> {
    const url = typeof where === 'string' ? new URL(where, this.base) : where;
    const level = options.push ? 'push' : 'pull';
    // Credentials go only to the registry itself, not to an upload location elsewhere.
    const sameOrigin = url.origin === this.base.origin;
    const send = async (authorization: string | undefined) => {
      const headers = new Headers(options.headers);
      if (authorization && sameOrigin) headers.set('authorization', authorization);
      try {
        return await this.fetcher(url, {
          method,
          headers,
          // Our bodies are small buffers of their own (manifests, a signature), never views of shared memory.
          ...(options.body ? { body: options.body as Uint8Array<ArrayBuffer> } : {}),
          ...(this.params.abortSignal ? { signal: this.params.abortSignal } : {}),
        });
      } catch (cause) {
        throw this.failure(cause, options.doing);
      }
    };
    const known = this.authorization.get(level) ?? (level === 'push' ? undefined : this.authorization.get('push'));
    let response = await send(known);
    if (response.status !== 401 || !sameOrigin) return response;
    const challenge = response.headers.get('www-authenticate');
    await discard(response);
    const authorization = await this.authorize(challenge, level, options.doing);
    response = await send(authorization);
    if (response.status === 401) throw await answerError(response, options.doing, this.ref);
    this.authorization.set(level, authorization);
    return response;
  }

  /** Answers a registry's challenge: a Bearer token from its token service, or Basic credentials. */
  private async authorize(challenge: string | null, level: 'pull' | 'push', doing: string): Promise<string> {
    const parsed = challenge ? parseChallenge(challenge) : undefined;
    const credentials = await this.resolveCredentials();
    if (parsed?.scheme === 'basic') {
      if (!credentials || !('username' in credentials)) throw this.noCredentials(doing, credentials !== undefined);
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    if (parsed?.scheme !== 'bearer' || !parsed.params['realm']) {
      throw new ModelSigningError({
        code: 'ACCESS_DENIED',
        message: `${this.ref.registry} refused access while ${doing} and asks for no authentication this client knows (${challenge ?? 'no WWW-Authenticate header'})`,
      });
    }
    return `Bearer ${await this.token(parsed.params, credentials, level, doing)}`;
  }

  /**
   * A token from the registry's token service, for this repository (pull,
   * or pull and push) and whatever scope the challenge names: anonymous, with
   * Basic credentials, or by exchanging an identity token (OAuth2 refresh token).
   */
  private async token(
    challenge: Record<string, string>,
    credentials: RegistryCredentials | undefined,
    level: 'pull' | 'push',
    doing: string,
  ): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge['realm']);
    } catch {
      throw new ModelSigningError({
        code: 'NETWORK_ERROR',
        message: `${this.ref.registry} named an invalid token service '${challenge['realm']}'`,
      });
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && this.params.plainHttp)) {
      throw new ModelSigningError({
        code: 'ACCESS_DENIED',
        message: `${this.ref.registry} sends for tokens to ${realm.href}, which is not HTTPS; credentials are not sent there`,
      });
    }
    const scopes = [`repository:${this.ref.repository}:${level === 'push' ? 'pull,push' : 'pull'}`];
    if (challenge['scope'] && !scopes.includes(challenge['scope'])) scopes.push(...challenge['scope'].split(' '));
    const what = `getting a token from ${realm.origin} while ${doing}`;
    let response: Response;
    try {
      if (credentials && 'identityToken' in credentials) {
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: credentials.identityToken,
          client_id: 'model-signing',
        });
        if (challenge['service']) form.set('service', challenge['service']);
        form.set('scope', scopes.join(' '));
        response = await this.fetcher(realm, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          ...(this.params.abortSignal ? { signal: this.params.abortSignal } : {}),
        });
      } else {
        if (challenge['service']) realm.searchParams.set('service', challenge['service']);
        for (const scope of scopes) realm.searchParams.append('scope', scope);
        const headers: Record<string, string> = {};
        if (credentials)
          headers['authorization'] = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
        response = await this.fetcher(realm, { headers, ...(this.params.abortSignal ? { signal: this.params.abortSignal } : {}) });
      }
    } catch (cause) {
      throw this.failure(cause, what);
    }
    if (response.status === 401 || response.status === 403) {
      await discard(response);
      throw this.noCredentials(doing, credentials !== undefined);
    }
    if (!response.ok) throw await answerError(response, what, this.ref);
    const bytes = await readBounded(
      response,
      MAX_SMALL_ANSWER,
      what,
      () => new ModelSigningError({ code: 'NETWORK_ERROR', message: `The token service answered too much while ${doing}` }),
    );
    let token: unknown;
    try {
      const body = JSON.parse(new TextDecoder().decode(bytes)) as { token?: unknown; access_token?: unknown };
      token = body.token ?? body.access_token;
    } catch {
      // reported below
    }
    if (typeof token !== 'string' || token === '') {
      throw new ModelSigningError({ code: 'NETWORK_ERROR', message: `The token service at ${realm.origin} gave no token while ${doing}` });
    }
    return token;
  }

  private resolveCredentials(): Promise<RegistryCredentials | undefined> {
    if (this.params.credentials) return Promise.resolve(this.params.credentials);
    if (this.params.dockerConfig === false) return Promise.resolve(undefined);
    this.credentials ??= dockerCredentials(this.ref.registry, this.params.dockerConfig ?? defaultDockerConfigPath());
    return this.credentials;
  }

  private noCredentials(doing: string, had: boolean): ModelSigningError {
    const config =
      this.params.dockerConfig === false ? 'none were given' : `${this.params.dockerConfig ?? defaultDockerConfigPath()} has none for it`;
    return new ModelSigningError({
      code: 'ACCESS_DENIED',
      message: had
        ? `${this.ref.registry} refused the credentials while ${doing}`
        : `${this.ref.registry} asks for credentials while ${doing}, and ${config} (docker login ${this.ref.registry}, or oras login)`,
    });
  }

  /** A request that failed before any answer: cancelled, or the registry not reached. */
  failure(cause: unknown, doing: string, path?: string): ModelSigningError {
    if (cause instanceof ModelSigningError) return cause;
    const where = path === undefined ? {} : { path };
    if (this.params.abortSignal?.aborted || (cause instanceof Error && cause.name === 'AbortError')) {
      return new ModelSigningError({ code: 'ABORTED', cause, ...where, message: `Cancelled while ${doing}` });
    }
    const inner = (cause as { cause?: { code?: unknown; message?: unknown } }).cause;
    const reason = typeof inner?.code === 'string' ? inner.code : typeof inner?.message === 'string' ? inner.message : String(cause);
    const tlsToPlain =
      !this.params.plainHttp && /EPROTO|wrong version number|packet length too long/i.test(`${reason} ${String(inner?.message)}`);
    return new ModelSigningError({
      code: 'NETWORK_ERROR',
      cause,
      ...where,
      message: `Cannot reach the registry ${this.base.origin} while ${doing}: ${reason}${tlsToPlain ? ' (a registry served over plain HTTP? set the plainHttp option)' : ''}`,
    });
  }
}

/** The scheme and parameters of a `WWW-Authenticate` header (`Bearer realm="…",service="…",scope="…"`). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  const params: Record<string, string> = {};
  if (!match) return { scheme: '', params };
  for (const p of match[2].matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  return { scheme: match[1].toLowerCase(), params };
}

/** Reads a whole answer, refusing it (with `tooLarge`) past `limit` bytes, announced or arriving. */
export async function readBounded(
  response: Response,
  limit: number,
  doing: string,
  tooLarge: (size: number) => ModelSigningError,
): Promise<Uint8Array> {
  const announced = Number(response.headers.get('content-length'));
  if (Number.isFinite(announced) && announced > limit) {
    await discard(response);
    throw tooLarge(announced);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (cause) {
        throw new ModelSigningError({ code: 'NETWORK_ERROR', cause, message: `The connection broke while ${doing}` });
      }
      if (next.done) break;
      received += next.value.length;
      if (received > limit) throw tooLarge(received);
      chunks.push(next.value);
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks);
}

function manifestTooLarge(what: string, size: number): ModelSigningError {
  return new ModelSigningError({
    code: 'OCI_MANIFEST_INVALID',
    message: `${what} has ${size} bytes or more, more than the ${MAX_MANIFEST_BYTES} a manifest may have`,
  });
}

/** Lets an answer's body go without reading it. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/**
 * An answer that is not the one asked for, as one coded error: 404 is
 * `NOT_FOUND`, 401 and 403 `ACCESS_DENIED`, anything else
 * `NETWORK_ERROR`, with the registry's own error codes when it sent them.
 */
export async function answerError(response: Response, doing: string, ref: OciReference, path?: string): Promise<ModelSigningError> {
  let detail = '';
  try {
    const text = new TextDecoder().decode(
      await readBounded(response, 64 * 1024, doing, () => new ModelSigningError({ code: 'NETWORK_ERROR', message: '' })),
    );
    const errors = (JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] }).errors;
    if (Array.isArray(errors)) {
      detail = errors
        .slice(0, 3)
        .map((e) => [e.code, e.message].filter((x) => typeof x === 'string').join(' '))
        .join('; ');
    }
  } catch {
    // No readable error body: the status says enough.
  }
  const status = `HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
  const where = path === undefined ? {} : { path };
  if (response.status === 404) {
    return new ModelSigningError({ code: 'NOT_FOUND', ...where, message: `Not found in the registry while ${doing} (${status})` });
  }
  if (response.status === 401 || response.status === 403) {
    return new ModelSigningError({ code: 'ACCESS_DENIED', ...where, message: `${ref.registry} refused access while ${doing} (${status})` });
  }
  return new ModelSigningError({ code: 'NETWORK_ERROR', ...where, message: `The registry failed while ${doing} (${status})` });
}

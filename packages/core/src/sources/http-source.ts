// Runtime-neutral (fetch only): a signed model folder served over HTTP(S)
// as a source of the verified-model session, for browsers, web workers and
// any runtime with `fetch`. It cannot list; the session expects exactly the
// signed files.
import { abortedError } from '../cancellation.js';
import { ModelSigningError } from '../errors.js';
import { DEFAULT_SIGNATURE_NAME } from '../format/bundle.js';
import type { ModelSource, SourceBody, SourceContext } from '../session/source.js';

/** Where a signed model is served, and how to fetch it. */
export interface HttpSourceOptions {
  /**
   * URL of the model folder; each file is fetched at `<baseUrl>/<model-relative name>`.
   * For a single-file model (its one resource is named `.`), the file's own
   * URL. A relative URL resolves against the page's `location` in browsers.
   */
  baseUrl: string | URL;
  /** URL of the signature (bundle). Default `<baseUrl>/model.sig`; give it for a single-file model. */
  signatureUrl?: string | URL;
  /** The fetch to use (e.g. one that adds credentials). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** How errors name the model and its signature (`error.path`). Default their URLs. */
  names?: { model?: string; signature?: string };
}

/**
 * A source over HTTP(S): the signature and each file fetched once, as the
 * session asks for them; `404`/`410` for a file means the model lacks it.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a URL that is not
 *   absolute where there is no page `location` to resolve it against.
 */
export function httpSource(options: HttpSourceOptions): ModelSource {
  const base = absoluteUrl(options.baseUrl, 'baseUrl');
  const folder = new URL(base);
  if (!folder.pathname.endsWith('/')) folder.pathname += '/';
  const signatureUrl =
    options.signatureUrl === undefined ? new URL(DEFAULT_SIGNATURE_NAME, folder) : absoluteUrl(options.signatureUrl, 'signatureUrl');
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  /** Each component percent-encoded (names may hold `#`, `?` or `%`); `.`, a single-file model, is the base URL itself. */
  const fileUrl = (name: string) => (name === '.' ? base : new URL(name.split('/').map(encodeURIComponent).join('/'), folder));

  const signatureName = options.names?.signature ?? signatureUrl.href;
  return {
    location: options.names?.model ?? base.href,
    signatureLocation: signatureName,
    async signature(context) {
      const response = await request(fetcher, signatureUrl, context, 'the signature', signatureName);
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new ModelSigningError({
          code: response.status === 404 || response.status === 410 ? 'NOT_FOUND' : 'NETWORK_ERROR',
          path: signatureName,
          message: `Fetching the signature ${signatureName === signatureUrl.href ? '' : `'${signatureName}' `}from ${signatureUrl.href} failed: HTTP ${response.status}`,
        });
      }
      return body(response, context, 'the signature', signatureUrl, signatureName);
    },
    async open(name, context) {
      const url = fileUrl(name);
      const response = await request(fetcher, url, context, `'${name}'`, name);
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        if (response.status === 404 || response.status === 410) return undefined;
        throw new ModelSigningError({
          code: 'NETWORK_ERROR',
          path: name,
          message: `Fetching '${name}' from ${url.href} failed: HTTP ${response.status}`,
        });
      }
      return body(response, context, `'${name}'`, url, name);
    },
  };
}

/**
 * `value` as an absolute URL: as given, or, in a browser, resolved against
 * the page's `location` (as `fetch` itself would).
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT`.
 */
export function absoluteUrl(value: string | URL, what: string): URL {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(value, page);
  } catch (cause) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      cause,
      message: `${what} '${String(value)}' is not a URL${page === undefined ? ' (a relative URL needs a page to resolve against; give an absolute one)' : ''}`,
    });
  }
}

async function request(fetcher: typeof globalThis.fetch, url: URL, context: SourceContext, what: string, path: string): Promise<Response> {
  const signal = context.abortSignal;
  try {
    return await fetcher(url, signal ? { signal } : {});
  } catch (cause) {
    throw transportError(signal, what, url, cause, path);
  }
}

/**
 * The response's bytes as the session reads them, with the announced
 * `Content-Length` as the size known up front. Read by hand (not every
 * browser makes a ReadableStream async-iterable); stopping early cancels
 * the body at once, so no connection is left open.
 */
function body(response: Response, context: SourceContext, what: string, url: URL, path: string): SourceBody {
  const announced = Number(response.headers.get('content-length') ?? NaN);
  if (context.maxBytes !== undefined && announced > context.maxBytes) {
    // Refused by the session from its size; released before a byte is pulled.
    void response.body?.cancel().catch(() => undefined);
    return { size: announced, chunks: (async function* () {})() };
  }
  const reader = response.body?.getReader();
  const chunks: AsyncIterableIterator<Uint8Array> = {
    [Symbol.asyncIterator]() {
      return chunks;
    },
    async next() {
      if (!reader) return { done: true, value: undefined };
      try {
        const { done, value } = await reader.read();
        return done ? { done: true, value: undefined } : { done: false, value };
      } catch (cause) {
        throw transportError(context.abortSignal, what, url, cause, path);
      }
    },
    return() {
      void reader?.cancel().catch(() => undefined);
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return { ...(Number.isSafeInteger(announced) ? { size: announced } : {}), chunks };
}

/** A transport failure as a coded error: `ABORTED` when the signal fired, else `NETWORK_ERROR` naming what was fetched. */
function transportError(signal: AbortSignal | undefined, what: string, url: URL, cause: unknown, path: string): ModelSigningError {
  if (cause instanceof ModelSigningError) return cause;
  if (signal?.aborted) return abortedError(signal, { path, doing: `fetching ${what}`, cause });
  return new ModelSigningError({
    code: 'NETWORK_ERROR',
    cause,
    path,
    message: `Fetching ${what} from ${url.href} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
  });
}

// The page side of pipeline-in-browser.test.ts: transformers.js's web build
// (onnxruntime-web on WebAssembly) loading a signed repo through the
// adapter's browser entry. Bundled by the core harness, which fails on any
// Node built-in, so a page that loads proves the entry reaches none.
import { env, pipeline } from '@huggingface/transformers';
import { WebKeyVerifier, isModelSigningError } from '@model-signing/core/browser';
import { configureVerifiedLoading, type VerifiedLoading } from '../../../src/browser.js';

/** What {@link embed} returns to the test: the output, or the refusal. */
export type EmbedOutcome =
  | { ok: true; embedding: number[]; loadedFiles: string[]; events: string[]; rootDigest: string }
  | { ok: false; code: string; path: string | undefined; message: string; differences: string[]; rootDigest: string | undefined };

/** One Cache API entry: its cache, URL and the SHA-256 of its bytes. */
export interface CacheEntry {
  cache: string;
  url: string;
  sha256: string;
}

export interface EmbedParams {
  hubUrl: string;
  repo: string;
  revision?: string;
  /** Load from a signed folder at `<localModelPath>/<repo>` on the page's origin instead of the hub. */
  localModelPath?: string;
  publicKeyPem: string;
  cacheName: string;
  sentence: string;
}

/** onnxruntime-web's WebAssembly from the test server, not transformers.js's default CDN. */
export function useLocalWasm(base: string): void {
  env.backends.onnx.wasm!.wasmPaths = {
    mjs: `${base}ort-wasm-simd-threaded.asyncify.mjs`,
    wasm: `${base}ort-wasm-simd-threaded.asyncify.wasm`,
  };
}

let active: VerifiedLoading | undefined;

/** Verifies the repo's signature, runs a feature-extraction pipeline on `sentence`, and reports what happened. */
export async function embed(params: EmbedParams): Promise<EmbedOutcome> {
  active?.restore();
  active = undefined;
  const events: string[] = [];
  try {
    active = await configureVerifiedLoading({
      env,
      repo: params.repo,
      ...(params.revision !== undefined ? { revision: params.revision } : {}),
      ...(params.localModelPath !== undefined ? { localModelPath: params.localModelPath } : {}),
      verifier: await WebKeyVerifier.create({ publicKey: params.publicKeyPem }),
      hubUrl: params.hubUrl,
      cacheName: params.cacheName,
      onProgress: (e) => events.push(`${e.file}:${e.source}`),
    });
    // fp32, the model Node's onnxruntime loads by default (in browsers transformers.js would pick the quantized one).
    const extractor = await pipeline('feature-extraction', params.repo, {
      ...(params.revision !== undefined ? { revision: params.revision } : {}),
      dtype: 'fp32',
    });
    try {
      const output = await extractor(params.sentence, { pooling: 'mean', normalize: true });
      return {
        ok: true,
        embedding: (output.tolist() as number[][])[0],
        loadedFiles: [...active.loadedFiles],
        events,
        rootDigest: active.manifest.rootDigest,
      };
    } finally {
      await extractor.dispose();
    }
  } catch (err) {
    if (!isModelSigningError(err)) throw err;
    return {
      ok: false,
      code: err.code,
      path: err.path,
      message: err.message,
      differences: err.differences.map((d) => d.name),
      rootDigest: active?.manifest.rootDigest,
    };
  }
}

/** Every entry of every Cache API cache of the origin, with the digest of its bytes. */
export async function cacheEntries(): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const bytes = await (await cache.match(request))!.arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      entries.push({ cache: name, url: request.url, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') });
    }
  }
  return entries;
}

/** Replaces the bytes of the Cache API entry whose URL ends with `suffix`, as any script of the origin could. */
export async function editCacheEntry(cacheName: string, suffix: string, replace: [string, string]): Promise<string> {
  const cache = await caches.open(cacheName);
  const request = (await cache.keys()).find((r) => r.url.endsWith(suffix));
  if (!request) throw new Error(`no cache entry ending with ${suffix}`);
  const text = await (await cache.match(request))!.text();
  const edited = text.replace(replace[0], replace[1]);
  if (edited === text) throw new Error(`'${replace[0]}' is not in ${request.url}`);
  await cache.put(request, new Response(edited));
  return request.url;
}

import { ModelSigningError } from '@model-signing/core/browser';
import type { VerifiedStore } from '../verified-store.js';

/**
 * The Cache API only takes http(s) URLs as keys; entries live under this
 * reserved, never-resolving host so they cannot collide with a real
 * response the page caches.
 */
const KEY_BASE = 'https://verified.model-signing.invalid/';

/**
 * A {@link VerifiedStore} in the Cache API (`caches.open(name)`). A `put`
 * stores a response whole or not at all, so there are no partial entries.
 * What it cannot give is protection after the write: any script of the
 * origin can replace an entry, which is why every read is checked again
 * against the signature before transformers.js receives it.
 */
export class CacheStore implements VerifiedStore {
  private opened: Promise<Cache> | undefined;

  constructor(private readonly name: string) {}

  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const response = await (await this.cache()).match(urlOf(key));
      return response === undefined ? undefined : new Uint8Array(await response.arrayBuffer());
    } catch (cause) {
      throw new ModelSigningError({
        code: 'READ_FAILED',
        path: key,
        cause,
        message: `Cached file '${key}' cannot be read from the Cache API cache '${this.name}': ${(cause as Error).message}`,
      });
    }
  }

  async write(key: string, bytes: Uint8Array): Promise<void> {
    try {
      const body = bytes as Uint8Array<ArrayBuffer>;
      await (
        await this.cache()
      ).put(
        urlOf(key),
        new Response(body, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } }),
      );
    } catch (cause) {
      // QuotaExceededError, or a cache the browser will not open (storage blocked for the page).
      throw new ModelSigningError({
        code: 'WRITE_FAILED',
        path: key,
        cause,
        message: `Cannot store verified file '${key}' in the Cache API cache '${this.name}': ${(cause as Error).message}`,
      });
    }
  }

  async remove(key: string): Promise<void> {
    await (await this.cache()).delete(urlOf(key));
  }

  private cache(): Promise<Cache> {
    this.opened ??= caches.open(this.name);
    return this.opened;
  }
}

/** Each key segment is percent-encoded, so a key maps to one URL path and back. */
function urlOf(key: string): string {
  return KEY_BASE + key.split('/').map(encodeURIComponent).join('/');
}

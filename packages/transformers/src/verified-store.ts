/**
 * Where verified files are kept between loads. Entries are only ever written
 * with bytes that matched the signature, and every read is checked again
 * before transformers.js sees it, so the store itself need not be trusted.
 * Node keeps files (`FileStore`), browsers the Cache API (`CacheStore`).
 */
export interface VerifiedStore {
  /** The entry's bytes, or `undefined` when there is none. */
  read(key: string): Promise<Uint8Array | undefined>;
  /** Stores the entry whole or not at all. */
  write(key: string, bytes: Uint8Array): Promise<void>;
  remove(key: string): Promise<void>;
}

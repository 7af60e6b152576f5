/**
 * Byte helpers over plain Uint8Array and WebCrypto, so the verifier runs
 * where there is no Buffer and no `node:crypto`.
 */

/** Bytes WebCrypto accepts everywhere (an ArrayBuffer-backed view). */
export type Bytes = Uint8Array<ArrayBuffer>;

export { fromBase64, toBase64 } from '../../../format/base64.js';

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Bytes {
  return new TextEncoder().encode(text);
}

/** A copy of `bytes` that WebCrypto and PKI.js accept (Node's pooled Buffers are not plain views). */
export function copy(bytes: Uint8Array): Bytes {
  return new Uint8Array(bytes);
}

/** The concatenation of `parts`. */
export function concat(...parts: Uint8Array[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Byte-wise equality. */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** SHA-256 of the concatenation of `parts`. */
export async function sha256(...parts: Uint8Array[]): Promise<Bytes> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', concat(...parts)));
}

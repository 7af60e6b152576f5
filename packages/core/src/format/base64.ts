/** Runtime-neutral base64 (no Buffer), for bundle fields. */

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes standard base64; whitespace anywhere is ignored and padding is
 * optional, as Sigstore bundles are read elsewhere.
 *
 * @throws {Error} when `text` is not base64; callers name the field.
 */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/\s/g, '');
  if (!BASE64.test(clean) || clean.length % 4 === 1) throw new Error('not base64');
  const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, '='));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Encodes standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  // Chunks keep a large payload (a manifest of many files) from making one
  // string per byte or overflowing the argument list of fromCharCode.
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

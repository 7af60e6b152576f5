/** Runtime-neutral hex encoding (no Buffer), for digests and key hints. */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX[byte];
  return out;
}

/** The value of each hex digit by character code; -1 for anything else. */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  DIGIT[i.toString(16).charCodeAt(0)] = i;
  DIGIT[i.toString(16).toUpperCase().charCodeAt(0)] = i;
}

/**
 * Writes the bytes of `hex` into `out` at `offset` (either case); returns
 * false, leaving `out` partly written, when `hex` is not whole hex bytes.
 * A loop over a table: a manifest's root digest decodes a million digests.
 */
export function hexInto(hex: string, out: Uint8Array, offset: number): boolean {
  if (hex.length % 2 !== 0) return false;
  for (let i = 0, o = offset; i < hex.length; i += 2, o++) {
    const hi = DIGIT[hex.charCodeAt(i)] ?? -1;
    const lo = DIGIT[hex.charCodeAt(i + 1)] ?? -1;
    if (hi < 0 || lo < 0) return false;
    out[o] = (hi << 4) | lo;
  }
  return true;
}

/**
 * The bytes of a hex string (either case). Callers pass digests already
 * checked as whole hex bytes; anything else is a programming error.
 *
 * @throws {TypeError} for an odd length or a non-hex character.
 */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  if (!hexInto(hex, out, 0)) throw new TypeError('not a whole number of hex bytes');
  return out;
}

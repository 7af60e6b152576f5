/**
 * Runtime-neutral base64 (no Buffer), for bundle fields. A signature of a
 * million files carries a payload of some 150 MB, so both directions are
 * table-driven loops over bytes and character codes: no string per byte,
 * no regular expression over the whole text, no intermediate copy.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENCODE = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const WHITESPACE = -1;
const INVALID = -2;
/** The value of each base64 character by UTF-16 unit; WHITESPACE for what `\s` matches (ignored, as before). */
const DECODE = new Int8Array(0x10000).fill(INVALID);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
// Every character JavaScript's `\s` matches.
for (const c of '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff')
  DECODE[c.charCodeAt(0)] = WHITESPACE;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Two base64 characters for each 12 bits, as one 16-bit store that puts the first character first in memory. */
const ENCODE_PAIRS = new Uint16Array(4096);
for (let n = 0; n < 4096; n++) {
  const [first, second] = [ALPHABET.charCodeAt(n >> 6), ALPHABET.charCodeAt(n & 63)];
  ENCODE_PAIRS[n] = LITTLE_ENDIAN ? first | (second << 8) : (first << 8) | second;
}
const PAD = '='.charCodeAt(0);
const ASCII = new TextDecoder();

/**
 * Decodes standard base64; whitespace anywhere is ignored and padding is
 * optional, as Sigstore bundles are read elsewhere (the rules of `atob`
 * after removing whitespace and completing the padding).
 *
 * @throws {Error} when `text` is not base64; callers name the field.
 */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(decodedLengthBound(text));
  return out.subarray(0, decodeBase64Into(text, out).length);
}

/** The most bytes `text` can decode to: room enough for {@link decodeBase64Into}. */
export function decodedLengthBound(text: string): number {
  return Math.ceil((text.length * 3) / 4);
}

/** What {@link decodeBase64Into} wrote. */
export interface DecodedBase64 {
  /** How many bytes: they are the first of `out`. */
  length: number;
  /**
   * Whether `text` is exactly the padded encoding of those bytes, as
   * {@link toBase64} writes it (no whitespace, padding complete, unused
   * bits zero): then it can be written again from the bytes alone.
   */
  canonical: boolean;
}

/**
 * {@link fromBase64} into `out`, which must hold {@link decodedLengthBound}
 * bytes: a signature's payload is decoded straight into the buffer its
 * signature is checked over, with no second copy.
 *
 * @throws {Error} when `text` is not base64; {@link RangeError} when `out` is too short.
 */
export function decodeBase64Into(text: string, out: Uint8Array): DecodedBase64 {
  if (out.length < decodedLengthBound(text)) throw new RangeError('Too little room for the decoded bytes');
  // Four characters of the alphabet at a time while there are (all of a
  // signature's payload but its end); anything else goes one by one below.
  let i = 0;
  let length = 0;
  for (const quads = text.length - 4; i <= quads; i += 4) {
    const a = DECODE[text.charCodeAt(i) & 0xff];
    const b = DECODE[text.charCodeAt(i + 1) & 0xff];
    const c = DECODE[text.charCodeAt(i + 2) & 0xff];
    const d = DECODE[text.charCodeAt(i + 3) & 0xff];
    if ((a | b | c | d) < 0 || (text.charCodeAt(i) | text.charCodeAt(i + 1) | text.charCodeAt(i + 2) | text.charCodeAt(i + 3)) > 0xff)
      break;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[length++] = n >> 16;
    out[length++] = (n >> 8) & 0xff;
    out[length++] = n & 0xff;
  }
  let bits = 0;
  let accumulated = 0;
  let characters = i;
  let padding = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = DECODE[code];
    if (value >= 0) {
      if (padding > 0) throw new Error('not base64');
      accumulated = ((accumulated << 6) | value) & 0xffffff;
      bits += 6;
      characters++;
      if (bits >= 8) {
        bits -= 8;
        out[length++] = (accumulated >> bits) & 0xff;
      }
    } else if (code === PAD) {
      padding++;
    } else if (value !== WHITESPACE) {
      throw new Error('not base64');
    }
  }
  // A last group of one character holds no whole byte; padding may only complete the last group.
  const missing = (4 - (characters % 4)) % 4;
  if (characters % 4 === 1 || padding > missing) throw new Error('not base64');
  // No whitespace (every unit is a character or padding), the padding complete, no stray bits.
  const canonical = characters + padding === text.length && padding === missing && (accumulated & ((1 << bits) - 1)) === 0;
  return { length, canonical };
}

/**
 * Decodes `text`, the bytes of base64 text, into `out` (which must hold
 * {@link decodedLengthBound} of its length) when it is canonical: only
 * characters of the alphabet, padded to whole groups of four, unused bits
 * zero, exactly as {@link toBase64} writes it. `undefined` for anything
 * else, which the caller then reads as text with {@link fromBase64}.
 *
 * @throws {RangeError} when `out` is too short.
 */
export function decodeCanonicalBase64Into(text: Uint8Array, out: Uint8Array): number | undefined {
  if (out.length < Math.ceil((text.length * 3) / 4)) throw new RangeError('Too little room for the decoded bytes');
  if (text.length % 4 !== 0) return undefined;
  const padding = text.length === 0 ? 0 : text[text.length - 1] === PAD ? (text[text.length - 2] === PAD ? 2 : 1) : 0;
  const whole = text.length - (padding > 0 ? 4 : 0);
  let length = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = DECODE[text[i]];
    const b = DECODE[text[i + 1]];
    const c = DECODE[text[i + 2]];
    const d = DECODE[text[i + 3]];
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[length++] = n >> 16;
    out[length++] = (n >> 8) & 0xff;
    out[length++] = n & 0xff;
  }
  if (padding > 0) {
    const a = DECODE[text[whole]];
    const b = DECODE[text[whole + 1]];
    const c = padding === 1 ? DECODE[text[whole + 2]] : 0;
    if ((a | b | c) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6);
    // The bits past the last whole byte must be zero, as an encoder writes them.
    if ((padding === 2 ? n & 0xffff : n & 0xff) !== 0) return undefined;
    out[length++] = n >> 16;
    if (padding === 1) out[length++] = (n >> 8) & 0xff;
  }
  return length;
}

/** Bytes encoded per round: a multiple of 3, so only the last round pads. */
const ENCODE_CHUNK = 3 * 1024 * 1024;

/**
 * Standard base64 with padding, in pieces of at most 4 MiB that concatenate
 * to the encoding of `bytes` (each piece but the last encodes a multiple of
 * 3 bytes, so only the last pads).
 */
export function toBase64Parts(bytes: Uint8Array): string[] {
  const parts: string[] = [];
  const out = new Uint8Array(Math.ceil(Math.min(bytes.length, ENCODE_CHUNK) / 3) * 4);
  const pairs = new Uint16Array(out.buffer);
  for (let start = 0; start < bytes.length; start += ENCODE_CHUNK) {
    const end = Math.min(start + ENCODE_CHUNK, bytes.length);
    const whole = end - ((end - start) % 3);
    let o = 0;
    // Three bytes make four characters: two stores of two.
    for (let i = start, p = 0; i < whole; i += 3, o += 4) {
      const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      pairs[p++] = ENCODE_PAIRS[n >> 12]!;
      pairs[p++] = ENCODE_PAIRS[n & 0xfff]!;
    }
    if (whole < end) {
      const n = (bytes[whole] << 16) | (whole + 1 < end ? bytes[whole + 1] << 8 : 0);
      out[o++] = ENCODE[n >> 18]!;
      out[o++] = ENCODE[(n >> 12) & 63]!;
      out[o++] = whole + 1 < end ? ENCODE[(n >> 6) & 63] : PAD;
      out[o++] = PAD;
    }
    parts.push(ASCII.decode(out.subarray(0, o)));
  }
  return parts;
}

/**
 * Encodes standard base64 with padding. The pieces are appended, not
 * joined: the runtime copies them into one string only when it is first
 * read whole, which writing a signature ({@link toBase64Parts}) avoids.
 */
export function toBase64(bytes: Uint8Array): string {
  return concatenate(toBase64Parts(bytes));
}

/** The pieces appended to each other (a rope: no copy until the text is read). */
export function concatenate(parts: readonly string[]): string {
  let text = '';
  for (const part of parts) text += part;
  return text;
}

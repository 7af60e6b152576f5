// Runtime-neutral. Where one value sits inside the bytes of a JSON document,
// found without decoding or parsing the document whole: a dataset's
// signature is a few hundred megabytes, nearly all of it one value (the
// envelope's base64 payload, the statement's list of resources). The
// caller cuts that value out, parses the rest with JSON.parse and the value
// in small pieces; JSON.parse still judges every byte. This only finds
// boundaries, and answers `undefined` (parse the document whole, as
// before) for anything unusual: a leading byte-order mark, a key listed
// twice on the way, malformed structure.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
// A byte-order mark is kept: only the decoder of a whole document may drop one at its start.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `[start, end)` byte offsets. */
export interface Span {
  start: number;
  end: number;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isSpace(b[i])) i++;
  return i;
}

/** The end of the string that opens at `b[i]` (`"`), past its closing quote; -1 when it does not close. */
function skipString(b: Uint8Array, i: number): number {
  for (let from = i + 1; ;) {
    const quote = b.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    // Escaped when an odd number of backslashes precede it.
    let k = quote - 1;
    while (k > i && b[k] === BACKSLASH) k--;
    if ((quote - 1 - k) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The end of the value that starts at `b[i]`; -1 when it does not end well. Only boundaries are found: JSON.parse judges the content. */
function skipValue(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    const closers = [c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY];
    for (let j = i + 1; j < b.length;) {
      const d = b[j];
      if (d === QUOTE) {
        j = skipString(b, j);
        if (j < 0) return -1;
      } else if (d === OPEN_OBJECT || d === OPEN_ARRAY) {
        closers.push(d === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY);
        j++;
      } else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
        if (closers.pop() !== d) return -1;
        j++;
        if (closers.length === 0) return j;
      } else j++;
    }
    return -1;
  }
  // A number, true, false or null: up to the next separator.
  let j = i;
  while (j < b.length && !isSpace(b[j]) && b[j] !== COMMA && b[j] !== CLOSE_OBJECT && b[j] !== CLOSE_ARRAY && b[j] !== COLON) j++;
  return j > i ? j : -1;
}

/** The key the string at `span` spells, escapes and all (a key is short: decoded only when it has a backslash). */
function keyOf(b: Uint8Array, span: Span): string | undefined {
  const raw = b.subarray(span.start, span.end);
  try {
    return raw.includes(BACKSLASH) ? (JSON.parse(UTF8.decode(raw)) as string) : UTF8.decode(raw.subarray(1, raw.length - 1));
  } catch {
    return undefined;
  }
}

/**
 * The span of the value of `key` in the object at `span`, when the key is
 * there exactly once; `undefined` when it is absent, listed twice (which
 * value counts is then JSON.parse's to say) or the object is malformed.
 */
function memberOf(b: Uint8Array, span: Span, key: string): Span | undefined {
  if (b[span.start] !== OPEN_OBJECT) return undefined;
  let found: Span | undefined;
  let i = skipSpace(b, span.start + 1);
  if (b[i] === CLOSE_OBJECT) return undefined;
  for (;;) {
    if (b[i] !== QUOTE) return undefined;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return undefined;
    const name = keyOf(b, { start: i, end: keyEnd });
    i = skipSpace(b, keyEnd);
    if (name === undefined || b[i] !== COLON) return undefined;
    const start = skipSpace(b, i + 1);
    const end = skipValue(b, start);
    if (end < 0 || end > span.end) return undefined;
    if (name === key) {
      if (found) return undefined;
      found = { start, end };
    }
    i = skipSpace(b, end);
    if (b[i] === CLOSE_OBJECT) return i + 1 === span.end ? found : undefined;
    if (b[i] !== COMMA) return undefined;
    i = skipSpace(b, i + 1);
  }
}

/**
 * The span of the value at `path` (keys of nested objects) in the JSON
 * document `b`, each key found exactly once on the way; `undefined` when
 * it cannot be told without parsing (see the file's head).
 */
export function findMember(b: Uint8Array, path: readonly string[]): Span | undefined {
  const start = skipSpace(b, 0);
  const end = skipValue(b, start);
  if (end < 0 || skipSpace(b, end) !== b.length) return undefined;
  let span: Span | undefined = { start, end };
  for (const key of path) {
    span = memberOf(b, span, key);
    if (!span) return undefined;
  }
  return span;
}

/**
 * Hands the elements of the list at `span` to `each`, `size` at a time, as
 * the text of a JSON list of them (with what lay between them). False when
 * it is not a well-formed list, which may be found after some calls.
 *
 * @throws {TypeError} when the elements are not UTF-8.
 */
export function forEachListSlice(b: Uint8Array, span: Span, size: number, each: (list: string) => void): boolean {
  if (b[span.start] !== OPEN_ARRAY) return false;
  let i = skipSpace(b, span.start + 1);
  if (b[i] === CLOSE_ARRAY) return i + 1 === span.end;
  let first = i;
  let count = 0;
  for (;;) {
    const end = skipValue(b, i);
    if (end < 0 || end > span.end) return false;
    i = skipSpace(b, end);
    const last = b[i] === CLOSE_ARRAY;
    if (!last && b[i] !== COMMA) return false;
    if (++count === size || last) {
      each(`[${UTF8.decode(b.subarray(first, end))}]`);
      count = 0;
      first = skipSpace(b, i + 1);
    }
    if (last) return i + 1 === span.end;
    i = skipSpace(b, i + 1);
  }
}

/**
 * The document `b` as text with the bytes of `span` replaced by `filler`
 * (ASCII): what JSON.parse reads in place of the whole.
 *
 * @throws {TypeError} when the bytes kept are not UTF-8.
 */
export function textWithout(b: Uint8Array, span: Span, filler: string): string {
  return UTF8.decode(b.subarray(0, span.start)) + filler + UTF8.decode(b.subarray(span.end));
}

// Runtime-neutral (no `node:*`): splits a claims file (JSON Lines) into lines
// as its bytes arrive, with every bound applied before anything is kept.
import { ModelSigningError } from '../errors.js';
import { maxBundleBytesOf } from '../format/bundle.js';

/** The most lines with content read from one claims file by default. */
export const DEFAULT_MAX_CLAIM_LINES = 10_000;

/** Why a line of a claims file was skipped, or why reading stopped early. */
export type ClaimsWarningCode =
  /** The line is not JSON (or not UTF-8 text). */
  | 'CLAIM_NOT_JSON'
  /** The line is JSON but not a Sigstore bundle with a DSSE envelope. */
  | 'CLAIM_NOT_BUNDLE'
  /** The bundle's payload is not an in-toto Statement v1. */
  | 'CLAIM_NOT_STATEMENT'
  /** The last line has no newline and is not complete JSON: a write was cut short. */
  | 'CLAIM_TRUNCATED'
  /** The line is longer than `maxBundleBytes`; it was skipped unread. */
  | 'CLAIM_LINE_TOO_LONG'
  /** Reading stopped after `maxLines` lines with content. */
  | 'CLAIMS_LINE_LIMIT'
  /** Reading stopped after `maxClaimsBytes` bytes. */
  | 'CLAIMS_SIZE_LIMIT';

/** A line skipped, or reading stopped early; `line` is 1-based, as an editor counts. */
export interface ClaimsWarning {
  code: ClaimsWarningCode;
  line: number;
  message: string;
}

/** Bounds on reading a claims file. */
export interface ClaimsReadOptions {
  /** The longest line (one bundle). Default 64 MiB (`DEFAULT_MAX_BUNDLE_BYTES`), the limit of a signature file. */
  maxBundleBytes?: number;
  /** The most bytes read from the file in all. Default four times `maxBundleBytes` (256 MiB). */
  maxClaimsBytes?: number;
  /** Stop after this many lines with content. Default 10,000. */
  maxLines?: number;
}

/** One line with content, without its line end (`\n` or `\r\n`). */
export interface ClaimLine {
  /** 1-based line number in the file. */
  line: number;
  bytes: Uint8Array;
  /** False for a last line without a newline (which may have been cut short). */
  terminated: boolean;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Bytes of a line that are all ASCII whitespace (an empty line between claims). */
function isBlank(parts: readonly Uint8Array[]): boolean {
  return parts.every((p) => p.every((b) => b === 0x20 || b === 0x09 || b === CR || b === NEWLINE));
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Splits a claims file into its lines with content, fed chunk by chunk:
 * memory stays within one line of `maxBundleBytes`, a longer line is
 * skipped as it streams past, and reading stops at `maxLines` lines or
 * `maxClaimsBytes` bytes, each with a warning. CRLF line ends are accepted;
 * lines holding only whitespace are skipped (line numbers still count them).
 */
export class ClaimLineSplitter {
  readonly warnings: ClaimsWarning[] = [];
  private readonly maxLineBytes: number;
  private readonly maxBytes: number;
  private readonly maxLines: number;
  private parts: Uint8Array[] = [];
  private partLength = 0;
  private skipping = false;
  private lineNumber = 1;
  private linesWithContent = 0;
  private bytesRead = 0;
  private done = false;

  /** @throws {ModelSigningError} `INVALID_ARGUMENT` for a limit that is not a positive integer. */
  constructor(options: ClaimsReadOptions = {}) {
    this.maxLineBytes = maxBundleBytesOf(options);
    this.maxBytes = positive(options.maxClaimsBytes ?? 4 * this.maxLineBytes, 'maxClaimsBytes');
    this.maxLines = positive(options.maxLines ?? DEFAULT_MAX_CLAIM_LINES, 'maxLines');
  }

  /** True once a limit stopped reading: further input is ignored, and the caller may stop feeding it. */
  get stopped(): boolean {
    return this.done;
  }

  /** Feeds the next bytes of the file; returns the lines they complete. */
  push(chunk: Uint8Array): ClaimLine[] {
    const lines: ClaimLine[] = [];
    if (this.done) return lines;
    const allowed = Math.min(chunk.length, this.maxBytes - this.bytesRead);
    const data = chunk.subarray(0, allowed);
    this.bytesRead += allowed;
    for (let start = 0; start < data.length && !this.done;) {
      const end = data.indexOf(NEWLINE, start);
      this.append(data.subarray(start, end < 0 ? data.length : end));
      if (end < 0) break;
      const line = this.finishLine(true);
      if (line) lines.push(line);
      start = end + 1;
    }
    if (allowed < chunk.length && !this.done) {
      this.stop(
        'CLAIMS_SIZE_LIMIT',
        `reading stopped after ${this.maxBytes} bytes (the limit, maxClaimsBytes); the rest of the file was not read`,
      );
    }
    return lines;
  }

  /** Ends the input; returns the last line when it has no newline. */
  end(): ClaimLine[] {
    if (this.done) return [];
    const line = this.finishLine(false);
    this.done = true;
    return line ? [line] : [];
  }

  private append(bytes: Uint8Array): void {
    if (this.skipping || bytes.length === 0) return;
    if (this.partLength + bytes.length > this.maxLineBytes) {
      this.warnings.push({
        code: 'CLAIM_LINE_TOO_LONG',
        line: this.lineNumber,
        message: `line ${this.lineNumber} is longer than ${this.maxLineBytes} bytes (the limit, maxBundleBytes); skipped unread`,
      });
      this.parts = [];
      this.partLength = 0;
      this.skipping = true;
      return;
    }
    this.parts.push(bytes);
    this.partLength += bytes.length;
  }

  private finishLine(terminated: boolean): ClaimLine | undefined {
    const line = this.lineNumber++;
    const parts = this.parts;
    const length = this.partLength;
    const skipped = this.skipping;
    this.parts = [];
    this.partLength = 0;
    this.skipping = false;
    if (skipped || length === 0 || isBlank(parts)) return undefined;
    if (this.linesWithContent === this.maxLines) {
      this.stop(
        'CLAIMS_LINE_LIMIT',
        `reading stopped at line ${line}: more than ${this.maxLines} lines (the limit, maxLines); the rest of the file was not read`,
      );
      return undefined;
    }
    let bytes = concat(parts, length);
    if (bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    // A UTF-8 byte order mark some editors write at the start of a file.
    if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    this.linesWithContent++;
    return { line, bytes, terminated };
  }

  private stop(code: ClaimsWarningCode, message: string): void {
    this.done = true;
    this.warnings.push({ code, line: this.lineNumber - (code === 'CLAIMS_LINE_LIMIT' ? 1 : 0), message });
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `${name} must be a positive integer, got ${String(value)}` });
  }
  return value;
}

/** Splits claims-file bytes already in memory into lines; see {@link ClaimLineSplitter}. */
export function splitClaimLines(bytes: Uint8Array, options: ClaimsReadOptions = {}): { lines: ClaimLine[]; warnings: ClaimsWarning[] } {
  const splitter = new ClaimLineSplitter(options);
  const lines = [...splitter.push(bytes), ...splitter.end()];
  return { lines, warnings: splitter.warnings };
}

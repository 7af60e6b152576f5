import type { ErrorCode, ManifestDifference } from '@model-signing/core';

/** Exit codes: 0 success, 1 failure (verification, signing, I/O), 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * A usage mistake found after parsing (e.g. an option one method needs):
 * reported as commander reports its own, one `error:` line, exit 2.
 */
export class UsageError extends Error {
  readonly code = 'INVALID_ARGUMENT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// Every control, format and separator character, by Unicode category:
// Cc (C0, DEL and C1: ESC and CSI start terminal escape sequences, CR
// rewrites the line), Cf (the bidirectional overrides and isolates that
// reorder how a line reads, zero-width characters that hide in a name, the
// byte order mark U+FEFF, soft hyphens, tags), Zl and Zp (U+2028 and U+2029,
// which some terminals and viewers break lines at).
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * Makes text safe to print on a terminal: every control, format and
 * separator character (Unicode Cc, Cf, Zl, Zp) becomes a visible escape
 * (`\x1b`, `\r`, `\u{202e}`, `\u{feff}`), so a file name cannot move the
 * cursor, recolour, reorder, hide part of or rewrite what was printed (a name
 * with `\r` and "Verification succeeded" must not hide a failure). Only for
 * human lines; JSON output escapes on its own.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.codePointAt(0)!;
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Lines for the terminal: control characters escaped in each line, one line each. */
export function escapedLines(lines: string | readonly string[]): string {
  return (typeof lines === 'string' ? [lines] : lines).map((line) => escapeControlCharacters(line) + '\n').join('');
}

/** Where and how a command reports. */
export interface Reporter {
  json: boolean;
  /**
   * A success: human lines on stdout (each escaped on its own, so a name
   * cannot start a line of its own), or the JSON object.
   */
  success(lines: string | readonly string[], data: Record<string, unknown>): void;
  /** Supplementary human information on stderr (suppressed with --json). */
  info(line: string): void;
}

/** Creates the reporter for a command run. */
export function createReporter(json: boolean): Reporter {
  return {
    json,
    success(lines, data) {
      if (json) process.stdout.write(JSON.stringify({ ok: true, ...data }, null, 2) + '\n');
      else process.stdout.write(escapedLines(lines));
    },
    info(line) {
      if (!json) process.stderr.write(escapeControlCharacters(line) + '\n');
    },
  };
}

/**
 * Core's errors carry a string `code`; checked structurally so reporting
 * needs no runtime import of core.
 */
function isCodedError(err: unknown): err is Error & { code: ErrorCode; path?: string; differences?: ManifestDifference[] } {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code);
}

/**
 * The library's options as the CLI spells them. Core and the adapters name
 * options in their messages as "the allowSymlinks option"; a CLI user is
 * told the flag instead.
 */
const FLAGS: Readonly<Record<string, string>> = {
  ignoreUnsignedFiles: '--ignore-unsigned-files',
  allowSymlinks: '--allow-symlinks',
  identity: '--identity',
  identityRegExp: '--identity-regexp',
  identityProvider: '--identity-provider',
  identityToken: '--identity-token',
  useAmbientCredentials: '--use-ambient-credentials',
  password: '--password',
  certificateChain: '--certificate-chain',
  signaturePath: '--signature',
  accessToken: '--token',
  createRepo: '--create-repo',
  useSystemRoots: '--use-system-roots',
  maxBundleBytes: '--max-bundle-size',
  modulePath: '--module-path',
  previousSignaturePath: '--previous-signature',
  incremental: '--incremental',
  tsaCertificateChain: '--tsa-certificate-chain',
  timestampAuthority: '--tsa-url',
};

/** A library message in the CLI's terms: "the allowSymlinks option" becomes "--allow-symlinks". */
export function inCliTerms(message: string): string {
  return message
    .replace(/\bthe (\w+) and (\w+) options\b/g, (phrase, a: string, b: string) =>
      FLAGS[a] && FLAGS[b] ? `${FLAGS[a]} and ${FLAGS[b]}` : phrase,
    )
    .replace(/\bthe (\w+) option\b/g, (phrase, name: string) => FLAGS[name] ?? phrase);
}

/**
 * Prints a failure (one line, or JSON with the error code and every differing
 * file) and returns the exit code. A {@link UsageError} is not a failure of
 * the command: it is rethrown for `run` to report as the usage error it is.
 */
export function reportFailure(err: unknown, what: string, json: boolean): number {
  if (err instanceof UsageError) throw err;
  if (isCodedError(err)) {
    const message = inCliTerms(err.message);
    if (json) {
      const error = { code: err.code, message, path: err.path, differences: err.differences };
      process.stdout.write(JSON.stringify({ ok: false, error }, null, 2) + '\n');
    } else {
      process.stderr.write(escapeControlCharacters(`${what} failed [${err.code}]: ${message}`) + '\n');
    }
    return err.code === 'INVALID_ARGUMENT' ? EXIT_USAGE : EXIT_FAILURE;
  }
  // Anything else is a bug in this tool, not in the model: say so plainly.
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: { code: 'INTERNAL_ERROR', message } }, null, 2) + '\n');
  else process.stderr.write(escapeControlCharacters(`${what} failed: ${message}`) + '\n');
  return EXIT_FAILURE;
}

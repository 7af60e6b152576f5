import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelSigningError } from '../../errors.js';

/** An RFC 7512 `pkcs11:` URI, percent-decoded. */
export interface Pkcs11Uri {
  /** Path attributes (`token`, `object`, `id`, `slot-id`, `serial`, …), as bytes. */
  path: ReadonlyMap<string, Buffer>;
  /** Query attributes (`pin-value`, `pin-source`, `module-path`, `module-name`), as bytes. */
  query: ReadonlyMap<string, Buffer>;
}

function invalid(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `Invalid PKCS#11 URI: ${message}` });
}

function decode(value: string, name: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '%') {
      bytes.push(...Buffer.from(value[i], 'utf8'));
      continue;
    }
    const hex = value.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw invalid(`bad percent-encoding in '${name}'`);
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes);
}

function attributes(part: string, separator: string, kind: string): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  if (part === '') return map;
  for (const item of part.split(separator)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw invalid(`malformed ${kind} attribute '${item}'`);
    const name = item.slice(0, eq);
    if (map.has(name)) throw invalid(`duplicate ${kind} attribute '${name}'`);
    map.set(name, decode(item.slice(eq + 1), name));
  }
  return map;
}

/**
 * Parses a `pkcs11:` URI as the reference does: `;`-separated path
 * attributes, `&`-separated query attributes, percent-decoding, and its
 * checks (numeric `slot-id`, not both `pin-value` and `pin-source`, an
 * absolute `module-path`). The key needs `object` (label) or `id`.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` naming what is wrong.
 */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!uri.startsWith('pkcs11:')) throw invalid(`it must start with 'pkcs11:' (got '${uri.slice(0, 20)}…')`);
  const rest = uri.slice('pkcs11:'.length);
  const q = rest.indexOf('?');
  const parsed = {
    path: attributes(q < 0 ? rest : rest.slice(0, q), ';', 'path'),
    query: attributes(q < 0 ? '' : rest.slice(q + 1), '&', 'query'),
  };
  const slot = parsed.path.get('slot-id')?.toString();
  if (slot !== undefined && !/^\d+$/.test(slot)) throw invalid(`slot-id must be a number: '${slot}'`);
  if (parsed.query.has('pin-value') && parsed.query.has('pin-source')) throw invalid('it must not contain both pin-value and pin-source');
  const modulePath = parsed.query.get('module-path')?.toString();
  if (modulePath !== undefined && !path.isAbsolute(modulePath)) throw invalid(`module-path '${modulePath}' must be absolute`);
  if (!parsed.path.has('object') && !parsed.path.has('id')) throw invalid("it names no key: add 'object=<label>' or 'id=<%xx bytes>'");
  return parsed;
}

/**
 * The PIN from `pin-value`, or read from `pin-source` (an absolute path or a
 * `file:` URI; one trailing newline is dropped). Undefined when the URI has neither.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for other pin-source schemes; `NOT_FOUND`.
 */
export async function pinOf(uri: Pkcs11Uri): Promise<string | undefined> {
  const value = uri.query.get('pin-value');
  if (value) return value.toString('utf8');
  const source = uri.query.get('pin-source')?.toString('utf8');
  if (source === undefined) return undefined;
  let file: string | undefined;
  try {
    if (source.startsWith('file:')) file = fileURLToPath(source);
  } catch {
    // Not a valid absolute file: URI; reported below.
  }
  if (file === undefined && !source.startsWith('file:') && path.isAbsolute(source)) file = source;
  if (file === undefined) throw invalid(`pin-source '${source}' must be an absolute path or a file: URI`);
  try {
    return (await fs.readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (cause) {
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: file,
      cause,
      message: `Cannot read the PIN from pin-source '${file}': ${(cause as Error).message}`,
    });
  }
}

/** Where the reference looks for `module-name`, plus Debian's and Ubuntu's multiarch directories. */
export const DEFAULT_MODULE_DIRECTORIES: readonly string[] = [
  '/usr/lib64/pkcs11/',
  '/usr/lib/pkcs11/',
  '/usr/lib/x86_64-linux-gnu/pkcs11/',
  '/usr/lib/aarch64-linux-gnu/pkcs11/',
];

/**
 * The PKCS#11 module (shared library) to load: the URI's `module-path` when
 * it is a file; otherwise a file whose name contains `module-name` (followed
 * by the end or a `.`), searched in the URI's `module-path` directory, else
 * in `modulePath` (a file is taken as is, a directory is searched), else in
 * {@link DEFAULT_MODULE_DIRECTORIES}.
 *
 * @throws {ModelSigningError} `NOT_FOUND` when no module is found; `INVALID_ARGUMENT` when none is named.
 */
export async function resolveModule(uri: Pkcs11Uri, modulePath?: string): Promise<string> {
  const fromUri = uri.query.get('module-path')?.toString('utf8');
  const given = fromUri ?? modulePath;
  let directories: readonly string[] = DEFAULT_MODULE_DIRECTORIES;
  if (given !== undefined) {
    const stat = await fs.stat(given).catch(() => undefined);
    if (!stat) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: given,
        message: `The PKCS#11 module '${given}' does not exist (${fromUri ? 'module-path in the URI' : 'the modulePath option'})`,
      });
    }
    if (stat.isFile()) return given;
    directories = [given];
  }
  const name = uri.query.get('module-name')?.toString('utf8').toLowerCase();
  if (name === undefined) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message:
        "No PKCS#11 module named: add 'module-path=/path/to/module.so' (or 'module-name=…') to the URI, or pass the modulePath option",
    });
  }
  for (const dir of directories) {
    const entries = await fs.readdir(dir).catch(() => [] as string[]);
    for (const entry of entries.sort()) {
      const lower = entry.toLowerCase();
      const at = lower.indexOf(name);
      if (at >= 0 && (at + name.length === lower.length || lower[at + name.length] === '.')) return path.join(dir, entry);
    }
  }
  throw new ModelSigningError({ code: 'NOT_FOUND', message: `No PKCS#11 module '${name}' in ${directories.join(', ')}` });
}

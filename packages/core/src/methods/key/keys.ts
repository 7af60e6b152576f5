import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import { ModelSigningError } from '../../errors.js';

/** Hash paired with each supported curve, as OMS and the reference require. */
const CURVE_HASHES: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  prime256v1: 'sha256',
  secp384r1: 'sha384',
  secp521r1: 'sha512',
};

function badKey(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_KEY', message, cause });
}

/**
 * The ECDSA hash for a key: SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521.
 *
 * @throws {ModelSigningError} `BAD_KEY` for non-EC keys and other curves.
 */
export function hashForKey(key: KeyObject): 'sha256' | 'sha384' | 'sha512' {
  if (key.asymmetricKeyType !== 'ec') {
    throw badKey(`Only elliptic-curve keys (P-256, P-384, P-521) are supported, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
  const hash = CURVE_HASHES[curve];
  if (!hash) throw badKey(`Unsupported curve '${curve}'; use P-256, P-384 or P-521`);
  return hash;
}

/** PEM SubjectPublicKeyInfo of a key, formatted as OpenSSL writes it. */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** The OMS key hint: hex SHA-256 of the PEM SubjectPublicKeyInfo. */
export function publicKeyHint(key: KeyObject): string {
  return createHash('sha256').update(publicKeyPem(key)).digest('hex');
}

/** Reads a file, or passes through PEM text given inline. */
export async function readPem(source: string | Buffer, what: string): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source;
  if (source.includes('-----BEGIN')) return Buffer.from(source);
  try {
    return await fs.readFile(source);
  } catch (cause) {
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: source,
      cause,
      message: `Cannot read ${what} '${source}': ${(cause as Error).message}`,
    });
  }
}

/** Keeps only the PEM blocks: tools such as certtool put a text dump before them. */
function pemBlocks(pem: Buffer): string {
  const text = pem.toString('utf8');
  const start = text.indexOf('-----BEGIN');
  return start < 0 ? text : text.slice(start);
}

/**
 * Loads an EC private key from PEM (SEC1 or PKCS#8, optionally encrypted).
 *
 * @throws {ModelSigningError} `BAD_KEY` for unreadable keys, wrong passwords, other key types,
 *   and a public key or certificate given instead; `INVALID_ARGUMENT` for a
 *   password given with a key that is not encrypted.
 */
export function loadPrivateKey(pem: Buffer, password?: string): KeyObject {
  const text = pemBlocks(pem);
  const label = pemLabel(text);
  if (label !== undefined && !label.endsWith('PRIVATE KEY')) {
    const what = label === 'CERTIFICATE' ? 'a certificate' : label.endsWith('PUBLIC KEY') ? 'a public key' : `a '${label}' block`;
    throw badKey(
      `The private key file holds ${what}, not a private key; signing needs the private key (the one the public key was derived from)`,
    );
  }
  if (password !== undefined && isUnencryptedPrivateKey(text)) {
    // Like the reference: a password for a key that has none is a mistake
    // (wrong file?), not something to ignore silently.
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message:
        'A password was given but the private key is not encrypted; drop the password option, or check that this is the key you meant',
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(password === undefined ? { key: text, format: 'pem' } : { key: text, format: 'pem', passphrase: password });
  } catch (cause) {
    const msg = (cause as Error).message;
    const hint = /passphrase|decrypt|bad decrypt/i.test(msg) ? ' (is the password right? encrypted keys need the password option)' : '';
    throw badKey(`Cannot load the private key${hint}: ${msg}`, cause);
  }
  hashForKey(key);
  return key;
}

/** The label of the first PEM block (`PRIVATE KEY`, `PUBLIC KEY`, `CERTIFICATE`, …), if any. */
function pemLabel(text: string): string | undefined {
  return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
}

/** True when the key loads without a password, that is when it is not encrypted. */
function isUnencryptedPrivateKey(text: string): boolean {
  try {
    createPrivateKey({ key: text, format: 'pem' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads an EC public key from PEM (SubjectPublicKeyInfo; a certificate works too).
 *
 * @throws {ModelSigningError} `BAD_KEY`, also for a private key given instead.
 */
export function loadPublicKey(pem: Buffer): KeyObject {
  const text = pemBlocks(pem);
  // createPublicKey would quietly derive the public half of a private key;
  // a private key handed to a verifier is a mistake worth stopping (the
  // reference refuses it too) before the secret is spread any further.
  if (pemLabel(text)?.endsWith('PRIVATE KEY')) {
    throw badKey(
      'The public key file holds a private key; verification needs the public key. Derive it with `openssl pkey -in private.pem -pubout -out public.pem` and share only that',
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch (cause) {
    throw badKey(`Cannot load the public key: ${(cause as Error).message}`, cause);
  }
  hashForKey(key);
  return key;
}

/**
 * Splits PEM text into certificates (DER), in file order.
 *
 * @throws {ModelSigningError} `BAD_KEY` when a block is not a certificate or none is found.
 */
export function loadCertificates(pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw badKey(`${what} contains no PEM certificate`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (cause) {
      throw badKey(`${what} holds an unreadable certificate: ${(cause as Error).message}`, cause);
    }
  });
}

/**
 * Reads certificate sources (PEM paths, texts or bytes) into one PEM text
 * per certificate, for the runtime-neutral verifiers.
 *
 * @param what names the sources in errors, e.g. `certificate chain`.
 * @throws {ModelSigningError} `NOT_FOUND` for a path that cannot be read; `BAD_KEY` as {@link loadCertificates}.
 */
export async function readCertificatePems(sources: ReadonlyArray<string | Buffer>, what: string): Promise<string[]> {
  const pems: string[] = [];
  for (const source of sources) {
    for (const cert of loadCertificates(await readPem(source, what), `The ${what}`)) pems.push(cert.toString());
  }
  return pems;
}

import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { PKCS11 } from 'pkcs11js';
import { ModelSigningError } from '../../errors.js';
import { certificateChainMaterial } from '../certificate/certificate-signer.js';
import { ExternalKeySigner, loadOptionalPackage, type ExternalSignRequest, type ExternalSignature } from '../external-key.js';
import { parsePkcs11Uri, pinOf, resolveModule, type Pkcs11Uri } from './uri.js';

type Pkcs11js = typeof import('pkcs11js');
type Handle = Buffer;

/** Options for {@link createPkcs11Signer}. */
export interface Pkcs11SignerOptions {
  /**
   * RFC 7512 URI of the private key, e.g.
   * `pkcs11:token=ci;object=model-key?pin-source=/run/pin&module-path=/usr/lib/softhsm/libsofthsm2.so`.
   */
  uri: string;
  /** The PKCS#11 module, or a directory to search for the URI's `module-name`; used when the URI has no `module-path`. */
  modulePath?: string;
  /**
   * Certificate method: the leaf certificate (PEM path, text or bytes), or
   * `{ fromToken: true }` for the certificate object on the token with the
   * key's `id` and label. Without it the bundle carries the key's hint (key method).
   */
  signingCertificate?: string | Buffer | { fromToken: true };
  /** Certificate method: intermediates (and optionally the root) after the leaf, in order. */
  certificateChain?: ReadonlyArray<string | Buffer>;
}

/** Curve OIDs (DER, as in `CKA_EC_PARAMS`) → JWK curve and coordinate size. */
const CURVES: ReadonlyArray<{ params: string; crv: string; size: number }> = [
  { params: '06082a8648ce3d030107', crv: 'P-256', size: 32 },
  { params: '06052b81040022', crv: 'P-384', size: 48 },
  { params: '06052b81040023', crv: 'P-521', size: 66 },
];

/** Login and PIN failures are credential problems; the rest are token failures. */
const ACCESS_DENIED = /^CKR_(PIN_|USER_NOT_LOGGED_IN|USER_PIN_NOT_INITIALIZED)/;

function tokenError(err: unknown, doing: string): ModelSigningError {
  if (err instanceof ModelSigningError) return err;
  const message = (err as Error).message;
  const code = ACCESS_DENIED.test(message) ? 'ACCESS_DENIED' : 'KEY_SERVICE_ERROR';
  const hint = code === 'ACCESS_DENIED' ? ' (is the PIN right? give it with pin-value or pin-source in the URI)' : '';
  return new ModelSigningError({ code, cause: err, message: `PKCS#11 ${doing} failed: ${message}${hint}` });
}

/** A `CK_ULONG` (slot ids, key types) as the binding returns it: native-endian bytes, little-endian on every platform Node runs on. */
function ulong(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
}

/** The token described by the URI's path attributes, one attribute at a time as RFC 7512 matches them. */
function findSlot(lib: PKCS11, uri: Pkcs11Uri): Handle {
  const want = (name: string) => uri.path.get(name)?.toString('utf8');
  const slotId = want('slot-id');
  const checks: Array<[string | undefined, (info: ReturnType<PKCS11['C_GetTokenInfo']>) => string]> = [
    [want('token'), (i) => i.label],
    [want('serial'), (i) => i.serialNumber],
    [want('manufacturer'), (i) => i.manufacturerID],
    [want('model'), (i) => i.model],
  ];
  const slots = lib.C_GetSlotList(true).filter((slot) => {
    if (slotId !== undefined && ulong(slot) !== BigInt(slotId)) return false;
    const info = lib.C_GetTokenInfo(slot);
    return checks.every(([value, field]) => value === undefined || field(info).trimEnd() === value);
  });
  const named = slotId !== undefined || checks.some(([value]) => value !== undefined);
  if (slots.length === 0) {
    throw new ModelSigningError({ code: 'NOT_FOUND', message: `No PKCS#11 token matches the URI${named ? '' : ' (no token is present)'}` });
  }
  if (slots.length > 1 && !named) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: "Several PKCS#11 tokens are present: name one in the URI with 'token=<label>' or 'slot-id=<n>'",
    });
  }
  return slots[0];
}

function describeKey(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  const label = uri.path.get('object');
  const id = uri.path.get('id');
  if (label) parts.push(`label '${label.toString('utf8')}'`);
  if (id) parts.push(`id ${id.toString('hex')}`);
  return parts.join(' and ');
}

/** An open, logged-in session on the URI's token, closed again by {@link close}. */
class Session {
  private constructor(
    readonly pkcs11: Pkcs11js,
    readonly lib: PKCS11,
    readonly handle: Handle,
    private readonly finalize: boolean,
    private readonly uri: Pkcs11Uri,
  ) {}

  static async open(pkcs11: Pkcs11js, module: string, uri: Pkcs11Uri, pin: string | undefined): Promise<Session> {
    const lib = new pkcs11.PKCS11();
    try {
      lib.load(module);
    } catch (cause) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        cause,
        message: `'${module}' is not a loadable PKCS#11 module: ${(cause as Error).message}`,
      });
    }
    let finalize = true;
    try {
      try {
        lib.C_Initialize();
      } catch (err) {
        // Another user of the module in this process initialised it: share it and leave it initialised.
        if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test((err as Error).message)) throw err;
        finalize = false;
      }
      const slot = findSlot(lib, uri);
      const handle = lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION);
      if (pin !== undefined) {
        try {
          lib.C_Login(handle, pkcs11.CKU_USER, pin);
        } catch (err) {
          lib.C_CloseSession(handle);
          throw err;
        }
      }
      return new Session(pkcs11, lib, handle, finalize, uri);
    } catch (err) {
      if (finalize) lib.C_Finalize();
      lib.close();
      throw tokenError(err, 'login');
    }
  }

  /**
   * The one object of `objectClass` with the URI's label and id, if any.
   * Two or more are refused, as several tokens are: which one a token lists
   * first is not specified, so signing with it could use either key.
   *
   * @throws {ModelSigningError} `INVALID_ARGUMENT` when several objects match.
   */
  find(objectClass: number, what: string): Handle | undefined {
    const { pkcs11, lib, handle } = this;
    const template: Array<{ type: number; value: number | Buffer | string }> = [{ type: pkcs11.CKA_CLASS, value: objectClass }];
    const label = this.uri.path.get('object');
    const id = this.uri.path.get('id');
    if (label) template.push({ type: pkcs11.CKA_LABEL, value: label.toString('utf8') });
    if (id) template.push({ type: pkcs11.CKA_ID, value: id });
    lib.C_FindObjectsInit(handle, template);
    let found: Handle[];
    try {
      found = lib.C_FindObjects(handle, 2);
    } finally {
      lib.C_FindObjectsFinal(handle);
    }
    if (found.length > 1) {
      const ids = found.map((object) => this.attribute(object, pkcs11.CKA_ID).toString('hex') || '(none)');
      const naming = id ? '' : ` (ids ${ids.join(', ')}): add 'id=%xx' for one of them to the URI`;
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `Several PKCS#11 ${what}s match ${describeKey(this.uri)} on the token${naming || ': give each key a label and id of its own'}`,
      });
    }
    return found[0];
  }

  attribute(object: Handle, type: number): Buffer {
    const [attr] = this.lib.C_GetAttributeValue(this.handle, object, [{ type }]);
    return attr.value;
  }

  close(): void {
    try {
      this.lib.C_CloseSession(this.handle);
    } finally {
      if (this.finalize) this.lib.C_Finalize();
      this.lib.close();
    }
  }
}

/** The EC public key from `CKA_EC_PARAMS` and `CKA_EC_POINT` (a DER OCTET STRING, or the bare point some tokens return). */
function ecPublicKey(params: Buffer, point: Buffer): KeyObject {
  const curve = CURVES.find((c) => c.params === params.toString('hex'));
  if (!curve) throw new ModelSigningError({ code: 'BAD_KEY', message: 'The PKCS#11 key is not on P-256, P-384 or P-521' });
  const pointLength = 1 + 2 * curve.size;
  const raw = point.length === pointLength ? point : point.subarray(point.length - pointLength);
  if (raw[0] !== 0x04 || point.length > pointLength + 3) {
    throw new ModelSigningError({
      code: 'BAD_KEY',
      message: 'The PKCS#11 key has an unreadable CKA_EC_POINT (expected an uncompressed point)',
    });
  }
  const coordinate = (from: number) => raw.subarray(from, from + curve.size).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: coordinate(1), y: coordinate(1 + curve.size) }, format: 'jwk' });
}

/** Reads the key's public half (and, when asked, its certificate) in one session. */
function readKey(
  session: Session,
  uri: Pkcs11Uri,
  pinGiven: boolean,
  certificateFromToken: boolean,
): { publicKey: KeyObject; certificate?: string } {
  const { pkcs11 } = session;
  const what = describeKey(uri);
  const privateKey = session.find(pkcs11.CKO_PRIVATE_KEY, 'private key');
  if (!privateKey) {
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      message: `No PKCS#11 private key with ${what} on the token${pinGiven ? '' : ' (private keys are visible only after login: add pin-value or pin-source to the URI)'}`,
    });
  }
  if (ulong(session.attribute(privateKey, pkcs11.CKA_KEY_TYPE)) !== BigInt(pkcs11.CKK_EC)) {
    throw new ModelSigningError({
      code: 'BAD_KEY',
      message: `The PKCS#11 key with ${what} is not an elliptic-curve key; only P-256, P-384 and P-521 are supported`,
    });
  }
  const publicKey = session.find(pkcs11.CKO_PUBLIC_KEY, 'public key');
  if (!publicKey)
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      message: `No PKCS#11 public key with ${what} on the token (it is needed for the key's hint and to check signatures)`,
    });
  const key = ecPublicKey(session.attribute(publicKey, pkcs11.CKA_EC_PARAMS), session.attribute(publicKey, pkcs11.CKA_EC_POINT));
  if (!certificateFromToken) return { publicKey: key };
  const certificate = session.find(pkcs11.CKO_CERTIFICATE, 'certificate');
  if (!certificate) throw new ModelSigningError({ code: 'NOT_FOUND', message: `No PKCS#11 certificate with ${what} on the token` });
  return { publicKey: key, certificate: new X509Certificate(session.attribute(certificate, pkcs11.CKA_VALUE)).toString() };
}

/**
 * Creates a signer for an EC private key on a PKCS#11 token (an HSM, a smart
 * card, SoftHSM). The key never leaves the token: each signature opens a
 * session, logs in, has the token sign the digest with `CKM_ECDSA` and
 * closes the session. With a signing certificate the bundles are certificate
 * bundles (`verify certificate`), otherwise key bundles (`verify key`).
 *
 * Needs the optional package `pkcs11js`.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` (URI, module, several tokens or keys matching the URI), `NOT_FOUND` (module, token, key, certificate),
 *   `ACCESS_DENIED` (PIN), `BAD_KEY` (not EC P-256/384/521, certificate for another key), `KEY_SERVICE_ERROR`,
 *   `MISSING_DEPENDENCY`.
 */
export async function createPkcs11Signer(options: Pkcs11SignerOptions): Promise<ExternalKeySigner> {
  const uri = parsePkcs11Uri(options.uri);
  const module = await resolveModule(uri, options.modulePath);
  const pin = await pinOf(uri);
  const pkcs11 = await loadOptionalPackage(
    'pkcs11js',
    async () => ((await import('pkcs11js')) as { default: Pkcs11js }).default,
    'PKCS#11 signing',
  );
  const given = options.signingCertificate;
  const fromToken = given !== undefined && typeof given === 'object' && !Buffer.isBuffer(given);
  const session = await Session.open(pkcs11, module, uri, pin);
  let key: ReturnType<typeof readKey>;
  try {
    key = readKey(session, uri, pin !== undefined, fromToken);
  } catch (err) {
    throw tokenError(err, 'key lookup');
  } finally {
    session.close();
  }
  const material =
    given === undefined
      ? undefined
      : await certificateChainMaterial(
          { signingCertificate: fromToken ? key.certificate! : given, certificateChain: options.certificateChain ?? [] },
          key.publicKey,
        );
  const sign = async ({ digest }: ExternalSignRequest): Promise<ExternalSignature> => {
    const s = await Session.open(pkcs11, module, uri, pin);
    try {
      const privateKey = s.find(pkcs11.CKO_PRIVATE_KEY, 'private key');
      if (!privateKey)
        throw new ModelSigningError({
          code: 'NOT_FOUND',
          message: `The PKCS#11 private key with ${describeKey(uri)} is gone from the token`,
        });
      s.lib.C_SignInit(s.handle, { mechanism: pkcs11.CKM_ECDSA }, privateKey);
      // r || s: twice the coordinate size, at most 2 × 66 bytes for P-521.
      return { signature: await s.lib.C_SignAsync(s.handle, digest, Buffer.alloc(132)), encoding: 'ieee-p1363' };
    } catch (err) {
      throw tokenError(err, 'signing');
    } finally {
      s.close();
    }
  };
  return new ExternalKeySigner({
    publicKey: key.publicKey,
    description: `the PKCS#11 token (${module})`,
    sign,
    ...(material ? { material } : {}),
  });
}

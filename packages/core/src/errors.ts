/**
 * Every failure this library reports is a {@link ModelSigningError} with a
 * stable `code`, so callers (and the CLI's `--json` output) can branch on the
 * kind of failure without parsing messages.
 */
export type ErrorCode =
  /** A file's bytes differ from the digest recorded in the signature. */
  | 'DIGEST_MISMATCH'
  /** A file listed in the signature is not in the model. */
  | 'MISSING_FILE'
  /** The model holds a file the signature does not list. */
  | 'UNSIGNED_FILE'
  /** The signature file is not a well-formed OMS Sigstore bundle. */
  | 'BAD_BUNDLE'
  /**
   * The signature file (bundle) is larger than the limit read before its
   * signature is checked (`maxBundleBytes`, CLI `--max-bundle-size`; 64 MiB by default).
   */
  | 'BUNDLE_TOO_LARGE'
  /**
   * A model file's bytes ran past the most a load reads of one file: the
   * size its source listed (a hub's listing, a directory's walk), else
   * `maxFileBytes` (2 GiB by default), so an endless or oversized answer
   * cannot exhaust memory before its digest is checked.
   */
  | 'BODY_TOO_LARGE'
  /** The signed payload is not a valid OMS in-toto statement. */
  | 'BAD_PAYLOAD'
  /**
   * The signature lists no resource at all (`resources: []`, as the reference
   * writes for an empty directory); it covers nothing, so it verifies nothing (spec §6.1).
   */
  | 'EMPTY_MANIFEST'
  /** The cryptographic signature does not verify. */
  | 'SIGNATURE_INVALID'
  /** The bundle names a different key than the one given for verification. */
  | 'KEY_MISMATCH'
  /** A key or certificate could not be read or is of an unsupported type. */
  | 'BAD_KEY'
  /** A PKCS#11 token or a key management service refused the credentials (wrong PIN, no permission). */
  | 'ACCESS_DENIED'
  /** A PKCS#11 token or a key management service failed an operation, or returned a signature that does not verify. */
  | 'KEY_SERVICE_ERROR'
  /** An optional package a feature needs is not installed (the message names it). */
  | 'MISSING_DEPENDENCY'
  /** The signing certificate does not chain to a trusted root, or may not sign. */
  | 'CERT_CHAIN_INVALID'
  /** The signer's identity or issuer is not the one required. */
  | 'IDENTITY_MISMATCH'
  /**
   * An RFC 3161 timestamp does not verify: in a key or certificate bundle
   * checked against trusted TSA certificates (`tsaCertificateChain`, CLI
   * `--tsa-certificate-chain`), a token that cannot be read, is signed by no
   * trusted timestamp authority, or stamps other bytes than the signature;
   * or, when signing with a TSA (`timestampAuthority`, CLI `--tsa-url`), an
   * answer that is not a valid timestamp over the signature with the nonce
   * sent. A present timestamp is never ignored. (Sigstore keyless bundles
   * report a bad timestamp as `CERT_CHAIN_INVALID`, as sigstore-js does.)
   */
  | 'TIMESTAMP_INVALID'
  /** The bundle was made by another signing method than the verifier expects. */
  | 'WRONG_METHOD'
  /** A path leaves the model directory. */
  | 'PATH_ESCAPE'
  /** A symbolic link was found where none is allowed. */
  | 'SYMLINK_REFUSED'
  /**
   * A path is neither a regular file nor a directory (device, socket, FIFO),
   * or a signature file is not a regular file.
   */
  | 'SPECIAL_FILE'
  /** A file name is not valid UTF-8. */
  | 'INVALID_FILE_NAME'
  /** Nothing is left to sign once ignored paths are excluded. */
  | 'EMPTY_MODEL'
  /**
   * A model file, signed and verified, is malformed for the runtime that
   * would load it, and is refused before the runtime sees it: e.g. ONNX
   * external data whose offset or length lies outside its verified file.
   * The signature is fine; the signed model is not.
   */
  | 'BAD_MODEL'
  /** The model path, the signature file, a key file, or a token, key or PKCS#11 module named for signing does not exist or cannot be read. */
  | 'NOT_FOUND'
  /** An option has an invalid value. */
  | 'INVALID_ARGUMENT'
  /** The operation was cancelled through its AbortSignal. */
  | 'ABORTED'
  /** Talking to a remote service (Sigstore, a hub) failed. */
  | 'NETWORK_ERROR'
  /** Obtaining an identity token for keyless signing failed. */
  | 'IDENTITY_TOKEN_ERROR'
  /** Writing output (a signature, a cache entry) failed. */
  | 'WRITE_FAILED'
  /** Another process held a lock (on a cache entry being written) for longer than the caller would wait. */
  | 'LOCK_TIMEOUT'
  /**
   * A model file or directory could not be read while walking or hashing: a
   * system error (the message names the file and the error, e.g. `EIO`,
   * `EACCES`, `ENOENT`), or the file changed size while it was being read.
   * Never a verdict on the signature: run again once the file is readable and
   * nothing writes to it.
   */
  | 'READ_FAILED'
  /** An incremental re-sign was asked for with other hashing settings than the previous signature's; sign in full instead. */
  | 'SETTINGS_CHANGED'
  /** A claim (a `claims.jsonl` line) is about another model: its subject is not the model's root digest. The message names the line. */
  | 'SUBJECT_MISMATCH'
  /** A predicate does not follow its type's schema (model card, test result, provenance); refused before anything is signed. */
  | 'PREDICATE_INVALID'
  /** A Hugging Face model card (`README.md`) has no metadata, or its front matter is not valid YAML. */
  | 'BAD_MODEL_CARD'
  /**
   * A directory or file this library would trust can be written by another
   * user: the local hash records directory or a record file is group- or
   * world-writable or owned by someone else (refused as ssh refuses such a
   * `~/.ssh`). Make it private (`chmod 700` the directory, `chmod 600` the
   * file) or use another cache directory.
   */
  | 'UNSAFE_PERMISSIONS';

/** One difference between the signed manifest and the bytes that were checked. */
export interface ManifestDifference {
  kind: 'missing' | 'unsigned' | 'mismatch';
  /** Resource name: a POSIX path relative to the model root, or `path:start:end` for a shard. */
  name: string;
  /** For `mismatch`: the digest the signature records. */
  expected?: string;
  /** For `mismatch`: the digest of the bytes that were checked. */
  actual?: string;
}

/** Options accepted by {@link ModelSigningError}. */
export interface ModelSigningErrorOptions {
  code: ErrorCode;
  message: string;
  cause?: unknown;
  /** The file (model-relative) or path the error is about, when there is one. */
  path?: string;
  /** For manifest comparisons: every difference found, not only the first. */
  differences?: ManifestDifference[];
}

/**
 * Base class of every error thrown by model-signing. Not generic, so that
 * `err instanceof ModelSigningError` narrows to a fully typed error.
 */
export class ModelSigningError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly differences: ManifestDifference[];

  constructor(options: ModelSigningErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelSigningError';
    this.code = options.code;
    this.path = options.path;
    this.differences = options.differences ?? [];
  }
}

/** How many names of each kind a mismatch message lists; `differences` keeps them all. */
const NAMES_IN_MESSAGE = 10;

/** `a, b, c` or, past the limit, `a, …, j and 5 more`. */
function summarize(names: readonly string[]): string {
  if (names.length <= NAMES_IN_MESSAGE) return names.join(', ');
  return `${names.slice(0, NAMES_IN_MESSAGE).join(', ')} and ${names.length - NAMES_IN_MESSAGE} more`;
}

/**
 * Thrown when the model's bytes do not match the signed manifest. `differences`
 * lists every extra, missing and changed file; `code` names the most serious kind
 * (a changed file outranks a missing one, which outranks an unsigned one). The
 * message names the first few of each kind, so it stays one readable line
 * even for a million differences.
 */
export class ManifestMismatchError extends ModelSigningError {
  declare readonly code: 'DIGEST_MISMATCH' | 'MISSING_FILE' | 'UNSIGNED_FILE';

  constructor(differences: ManifestDifference[]) {
    const sorted = [...differences].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = (kind: ManifestDifference['kind']) => sorted.filter((d) => d.kind === kind).map((d) => d.name);
    const mismatched = names('mismatch');
    const missing = names('missing');
    const unsigned = names('unsigned');
    const parts: string[] = [];
    if (mismatched.length) parts.push(`changed since signing: ${summarize(mismatched)}`);
    if (missing.length) parts.push(`missing: ${summarize(missing)}`);
    if (unsigned.length) {
      parts.push(`not covered by the signature: ${summarize(unsigned)} (set the ignoreUnsignedFiles option to tolerate extra files)`);
    }
    const code = mismatched.length ? 'DIGEST_MISMATCH' : missing.length ? 'MISSING_FILE' : 'UNSIGNED_FILE';
    super({
      code,
      message: `The model does not match its signature: ${parts.join('; ')}`,
      // The first file the message names, of the kind the code reports.
      path: mismatched[0] ?? missing[0] ?? unsigned[0],
      differences: sorted,
    });
    this.name = 'ManifestMismatchError';
  }
}

/**
 * `err` naming the model-relative `file` in `path` and its message (a
 * checker names a shard, a store its own key); other errors unchanged.
 */
export function errorNamingFile(err: unknown, file: string): unknown {
  if (!(err instanceof ModelSigningError) || err.path === file) return err;
  return new ModelSigningError({
    code: err.code,
    path: file,
    cause: err,
    differences: err.differences,
    message: `'${file}': ${err.message}`,
  });
}

/** Narrowing helper: is `err` a {@link ModelSigningError}, optionally with `code`? */
export function isModelSigningError(err: unknown, code?: ErrorCode): err is ModelSigningError {
  return err instanceof ModelSigningError && (code === undefined || err.code === code);
}

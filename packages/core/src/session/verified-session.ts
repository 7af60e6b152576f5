// Runtime-neutral. The one verified-model session: every loader (a
// directory, HTTP, the hub, the transformers.js caches, ONNX, TF.js) reads a
// model through it, so what "verified" means is decided here once:
//
//   read the signature (bounded) → accept it (a verifier or a trust policy,
//   statement checks, claims)
//   → list the source and compare → hand out only checked bytes
//   → finish: nothing missing, nothing unsigned, nothing changed.
import { abortedError, throwIfAborted } from '../cancellation.js';
import { ManifestMismatchError, ModelSigningError, errorNamingFile, type ManifestDifference } from '../errors.js';
import { ManifestChecker, type FileHasher } from '../format/checker.js';
import { fastestCheckerHashers } from '../format/hash-registry.js';
import type { ManifestResource } from '../format/manifest.js';
import { GIT_PATHS, normalizeModelPath } from '../format/model-path.js';
import { duplicateResource } from '../format/statement.js';
import { verifiedManifest, type VerifiedManifest } from '../format/verified-manifest.js';
import type { VerifiedClaim } from '../claims/claim.js';
import type { SignatureSource } from '../claims/verify-signature-bytes.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';
import type { Policy } from '../policy/compile.js';
import type { ModelIdentity } from '../policy/identity.js';
import { boundedChunks, concat } from './body.js';
import { bodyTooLarge, claimsLimit, fileLimit, signatureLimit, type LoadLimits } from './limits.js';
import { compareListing, modelFiles } from './listing.js';
import {
  acceptSignature,
  readClaimsBeside,
  readSignatureFile,
  type AcceptedSignature,
  type PolicyOutcome,
  type SignatureTrust,
} from './signature.js';
import type { FinishOptions, ListedFile, ListScope, ModelSource } from './source.js';

/** What {@link openVerifiedSession} takes. */
export interface VerifiedSessionParams extends LoadLimits {
  /** Where the model and its signature are read from. */
  source: ModelSource;
  /** Checks the signature and decides whom to trust (a key, a certificate chain, a Sigstore identity). Give this or `policy`. */
  verifier?: Verifier;
  /**
   * A trust policy in place of `verifier` (`loadPolicy`, `createPolicy`):
   * the rule matching the model's identity says who must sign and which
   * claims must hold; a refusal is `POLICY_DENIED` naming the rule and the
   * requirement (docs/policy.md).
   */
  policy?: Policy;
  /**
   * With `policy`: how the model was addressed, which the rules match.
   * Default: what the source says (a local path, a URL, a Hugging Face repo
   * at its revision).
   */
  model?: ModelIdentity;
  /** Tolerate files the signature does not list: they are left out, never read. Default false. */
  ignoreUnsignedFiles?: boolean;
  /** Leave `.git`, `.gitattributes`, `.github` and `.gitignore` at the model root out of the model. Default true. */
  ignoreGitPaths?: boolean;
  /**
   * Leave signature and attestation files at the model root (`claims.jsonl`,
   * `*.sig`, `*.sigstore.json`) out of the model unless the signature lists
   * them: a claims file or another signature added beside a signed model
   * never makes it fail as unsigned. Default true; false reports them as
   * unsigned files.
   */
  ignoreAttestationFiles?: boolean;
  /**
   * Keep the signature's bytes, exactly as read, as the session's
   * `signature`: for a caller that stores them beside the model (a hub
   * cache, an OCI pull). Default false: a dataset's signature is hundreds of
   * megabytes, let go as soon as it is parsed.
   */
  keepSignature?: boolean;
  /** Cancels everything the session does from here on: it rejects with `ABORTED`. */
  abortSignal?: AbortSignal;
}

/** Per-call options of the session's reading methods. */
export interface SessionReadOptions {
  /** Called after each chunk is hashed, with the bytes of this file so far and its expected size when known. */
  onBytes?: (received: number, expected: number | undefined) => void;
  /** Cancels this read (the session's own signal always does). */
  abortSignal?: AbortSignal;
}

/** The outcome of {@link VerifiedSession.finish}. */
export interface FinishedModel {
  /** Model-relative paths of every file checked. */
  files: string[];
  /** The model's resources as checked (read through the session, hashed at `finish`, or known). */
  resources: ManifestResource[];
}

/**
 * A model whose signature verified, being read. Every byte it hands out was
 * hashed and matched the signature (`read`), or will have by the end of its
 * file (`stream`); bytes that do not match are never returned whole.
 */
export interface VerifiedSession {
  /** The signed manifest every byte is checked against. */
  readonly manifest: VerifiedManifest;
  /** Who signed, as the verifier established it. */
  readonly signer: SignerInfo;
  /** Which signature verified: the file as one bundle, or which line of a claims file (`claims.jsonl`), and the lines skipped. */
  readonly source: SignatureSource;
  /**
   * The claims about these files that verified (from the signature when it
   * is a claims file, else from `claims.jsonl` beside it): with a verifier,
   * those it accepts; under a policy, those that met the rule's claim requirements.
   */
  readonly claims: readonly VerifiedClaim[];
  /** With a policy: its decision (the rule, each requirement) and every signer counted. */
  readonly policy?: PolicyOutcome;
  /**
   * The signature's bytes, exactly as read, when the session was opened with
   * `keepSignature` (to store them beside the model); otherwise they are let
   * go once the signature verified.
   */
  readonly signature?: Uint8Array;
  /** Model-relative names of every file the signature covers. */
  readonly signedFiles: readonly string[];
  /**
   * The model's files as its source lists them (ignore paths left out, and
   * unsigned files too when tolerated); `undefined` for a source that
   * cannot list, whose model is exactly the signed files.
   */
  readonly files: readonly ListedFile[] | undefined;
  /** Whether the signature covers `name` (model-relative). */
  isSigned(name: string): boolean;
  /**
   * Compares the files present with the signed ones before any byte is read.
   *
   * @throws {ManifestMismatchError} every missing file, every unsigned one
   *   (unless tolerated), and every file the listing's own size or SHA-256 shows changed.
   */
  checkListing(): void;
  /**
   * Reads a signed file whole and returns its bytes once they matched.
   *
   * @param options.into where to read (its length must be the file's size); default a new buffer.
   * @throws {ManifestMismatchError} naming the file (`DIGEST_MISMATCH`,
   *   `MISSING_FILE`, `UNSIGNED_FILE`); `NOT_FOUND` for a file its source
   *   does not list; `BODY_TOO_LARGE`; the source's errors; `ABORTED`.
   */
  read(name: string, options?: SessionReadOptions & { into?: Uint8Array }): Promise<Uint8Array>;
  /**
   * Streams a signed file: each chunk is hashed before it is yielded, and
   * the stream ends in an error, not `done`, unless the whole file matched.
   * Publish what it yields (a file renamed into place) only after it ended.
   *
   * @throws as {@link VerifiedSession.read}, from the iteration.
   */
  stream(name: string, options?: SessionReadOptions): AsyncIterable<Uint8Array>;
  /**
   * Reads a signed file and checks it without keeping its bytes.
   *
   * @throws as {@link VerifiedSession.read}.
   */
  checkFile(name: string, options?: SessionReadOptions): Promise<void>;
  /**
   * Checks bytes that came from elsewhere (a cache) as the signed file
   * `name`, and counts the file as checked.
   *
   * @throws {ManifestMismatchError} naming the file; `ABORTED`.
   */
  checkBytes(name: string, bytes: Uint8Array | AsyncIterable<Uint8Array>, options?: SessionReadOptions): Promise<void>;
  /**
   * Checks the files nobody read (the source's bulk hasher, or one by one),
   * then applies the completeness rules: nothing missing, nothing unsigned
   * (unless tolerated), nothing changed.
   *
   * @throws {ManifestMismatchError} listing every difference; `ABORTED`.
   */
  finish(options?: FinishOptions): Promise<FinishedModel>;
}

/**
 * Opens a model for a verified load: reads the signature from `source`
 * (bounded by `maxBundleBytes`, by default a limit that follows the files
 * the source counts), and the claims file beside it when the source has
 * one (bounded by `maxClaimsBytes`), and accepts it (the verifier or the
 * trust policy, then the statement checks) before anything else; then
 * lists the source when it can. No model byte is read until the signature
 * verified.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` with the decision (which rule, which requirement, why).
 * @throws {ModelSigningError} `BUNDLE_TOO_LARGE`, `BAD_BUNDLE`,
 *   `BAD_PAYLOAD`, `EMPTY_MANIFEST`, `SIGNATURE_INVALID`, `KEY_MISMATCH`,
 *   `CERT_CHAIN_INVALID`, `IDENTITY_MISMATCH`, `WRONG_METHOD` (the
 *   signature, named in `error.path`); the source's errors (`NOT_FOUND`,
 *   `NETWORK_ERROR`, …); `INVALID_ARGUMENT`; `ABORTED`.
 */
export async function openVerifiedSession(params: VerifiedSessionParams): Promise<VerifiedSession> {
  const { source } = params;
  const signal = params.abortSignal;
  fileLimit(params, undefined); // refuses a bad maxFileBytes before any request
  const ignoreUnsignedFiles = params.ignoreUnsignedFiles ?? false;
  const gitPaths = (params.ignoreGitPaths ?? true) ? GIT_PATHS : [];
  throwIfAborted(signal);
  const maxBundleBytes = await signatureLimit(params, source, gitPaths, signal);

  const trust = await signatureTrust(params, maxBundleBytes);
  const { accepted, signature } = await acceptFromSource(params, trust);
  throwIfAborted(signal);

  let manifest = accepted.manifest;
  const ignorePaths = [...manifest.serialization.ignorePaths, ...gitPaths];
  let files: readonly ListedFile[] | undefined;
  if (source.list) {
    const signedFiles = new ManifestChecker(manifest).signedFiles;
    const scope: ListScope = { ignorePaths, signedFiles, ...(ignoreUnsignedFiles ? { wanted: signedPathsOf(signedFiles) } : {}) };
    const listing = await source.list(scope, signal ? { abortSignal: signal } : {});
    if (listing.singleFileName !== undefined) manifest = aliasSingleFile(manifest, listing.singleFileName);
    files = modelFiles(listing.files, new ManifestChecker(manifest), ignorePaths, {
      ignoreUnsignedFiles,
      ignoreAttestationFiles: params.ignoreAttestationFiles ?? true,
    });
  }
  return new Session(params, { ...accepted, manifest }, signature, files);
}

/**
 * Reads the signature from the source and accepts it. Each form of it is
 * let go once the next exists (a dataset's bytes, parsed bundle and
 * statement are each hundreds of megabytes): the bytes live only until
 * they are parsed, unless kept (`keepSignature`), and nothing but what was
 * accepted outlives this call.
 */
async function acceptFromSource(
  params: VerifiedSessionParams,
  trust: SignatureTrust,
): Promise<{ accepted: AcceptedSignature; signature?: Uint8Array }> {
  const { source, abortSignal: signal } = params;
  const read = await readSignatureFile(source, trust, params.keepSignature ?? false, signal);
  const limit = claimsLimit(params);
  const accepted = await acceptSignature(read.file, trust, source.signatureLocation, () => readClaimsBeside(source, limit, signal), signal);
  return { accepted, ...(read.bytes ? { signature: read.bytes } : {}) };
}

/**
 * Who judges the signature: the verifier, or the policy with the model's
 * identity. Both, or neither, is a usage error; so is a policy without an
 * identity to match.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT`.
 */
async function signatureTrust(params: VerifiedSessionParams, maxBundleBytes: number): Promise<SignatureTrust> {
  const { verifier, policy } = params;
  if ((verifier === undefined) === (policy === undefined)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message:
        verifier === undefined
          ? 'A verified load needs a verifier or a trust policy (the verifier or policy option)'
          : 'Give a verifier or a trust policy, not both: a policy says who must sign in place of one verifier',
    });
  }
  if (verifier) return { verifier, maxBundleBytes };
  const model = params.model ?? (await params.source.identity?.());
  if (!model) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `A trust policy matches models by how they were addressed, and the source '${params.source.location}' does not say: give the model option`,
    });
  }
  return { policy: policy!, model, maxBundleBytes };
}

class Session implements VerifiedSession {
  readonly signedFiles: readonly string[];
  private readonly checker: ManifestChecker;
  /** The listing by name, built when a file is first read by name (verifying a whole dataset at `finish` never needs it). */
  private listedByName: ReadonlyMap<string, ListedFile> | undefined;
  /** Resources of the files checked so far, by file. */
  private readonly checked = new Map<string, ManifestResource[]>();

  readonly manifest: VerifiedManifest;
  readonly signer: SignerInfo;
  readonly source: SignatureSource;
  readonly claims: readonly VerifiedClaim[];
  readonly policy?: PolicyOutcome;

  readonly signature?: Uint8Array;

  constructor(
    private readonly params: VerifiedSessionParams,
    accepted: AcceptedSignature,
    signature: Uint8Array | undefined,
    readonly files: readonly ListedFile[] | undefined,
  ) {
    if (signature) this.signature = signature;
    this.manifest = accepted.manifest;
    this.signer = accepted.signer;
    this.source = accepted.source;
    this.claims = accepted.claims;
    if (accepted.policy) this.policy = accepted.policy;
    const manifest = this.manifest;
    this.checker = new ManifestChecker(manifest, { ignoreUnsignedFiles: params.ignoreUnsignedFiles ?? false });
    this.signedFiles = this.checker.signedFiles;
  }

  private get listed(): ReadonlyMap<string, ListedFile> | undefined {
    if (this.files && !this.listedByName) this.listedByName = new Map(this.files.map((f) => [f.name, f]));
    return this.listedByName;
  }

  isSigned(name: string): boolean {
    return this.checker.isSigned(name);
  }

  checkListing(): void {
    if (this.files) compareListing(this.files, this.checker);
  }

  async read(name: string, options: SessionReadOptions & { into?: Uint8Array } = {}): Promise<Uint8Array> {
    // Where the listing knows the size, the file is read straight into one buffer of it.
    const size = this.listed?.get(normalizeModelPath(name))?.size;
    const into = options.into ?? (size !== undefined ? new Uint8Array(size) : undefined);
    const chunks: Uint8Array[] = [];
    let filled = 0;
    for await (const chunk of this.checkedChunks(name, options, into)) {
      if (!into) chunks.push(chunk);
      else if (chunk.buffer !== into.buffer || chunk.byteOffset !== into.byteOffset + filled) into.set(chunk, filled);
      filled += chunk.length;
    }
    // The bytes matched, but fill only part of `into`: what is returned must be exactly the checked bytes.
    if (into && filled !== into.length) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `read('${name}'): into has ${into.length} bytes, the file ${filled}`,
      });
    }
    return into ?? concat(chunks);
  }

  stream(name: string, options: SessionReadOptions = {}): AsyncIterable<Uint8Array> {
    return this.checkedChunks(name, options, undefined);
  }

  async checkFile(name: string, options: SessionReadOptions = {}): Promise<void> {
    for await (const chunk of this.checkedChunks(name, options, undefined)) void chunk;
  }

  async checkBytes(name: string, bytes: Uint8Array | AsyncIterable<Uint8Array>, options: SessionReadOptions = {}): Promise<void> {
    const file = this.signedName(name);
    const signal = this.signalOf(options);
    throwIfAborted(signal, { path: file, doing: `checking '${file}'` });
    const hasher = await this.fileHasher(file);
    let received = 0;
    const feed = (chunk: Uint8Array) => {
      hasher.update(chunk);
      received += chunk.length;
      options.onBytes?.(received, undefined);
    };
    if (bytes instanceof Uint8Array) feed(bytes);
    else {
      for await (const chunk of bytes) {
        if (signal?.aborted) throw abortedError(signal, { path: file, doing: `checking '${file}'` });
        feed(chunk);
      }
    }
    this.finishFile(file, hasher);
  }

  async finish(options: FinishOptions = {}): Promise<FinishedModel> {
    const signal = this.params.abortSignal;
    throwIfAborted(signal);
    const names = this.files ? this.files.map((f) => f.name) : [...this.signedFiles];
    // Verifying a dataset reads nothing before finish: no copy of its million names.
    const unread = this.checked.size === 0 ? names : names.filter((name) => !this.checked.has(name));
    let hashed: ManifestResource[] = [];
    const unsigned: ManifestDifference[] = [];
    if (unread.length > 0 && this.params.source.hashFiles) {
      hashed = await this.params.source.hashFiles(unread, this.manifest.serialization, {
        ...options,
        ...(signal ? { abortSignal: signal } : {}),
      });
    } else {
      for (const name of unread) {
        // An unsigned file is reported with the rest, without reading a byte of it.
        if (this.isSigned(name)) await this.checkFile(name);
        else if (!this.emptyShardFile(name)) unsigned.push({ kind: 'unsigned', name });
      }
    }
    const resources = this.checked.size === 0 ? hashed : [...[...this.checked.values()].flat(), ...hashed];
    this.checker.compareAll(names, resources, unsigned);
    return { files: names, resources };
  }

  /** An empty file in shard mode: it has no resource, yet counts as signed. */
  private emptyShardFile(name: string): boolean {
    return this.manifest.serialization.method === 'shards' && this.listed?.get(name)?.size === 0;
  }

  /** The chunks of one file, each hashed before it is yielded; the file is finished (or refused) after the last. */
  private async *checkedChunks(name: string, options: SessionReadOptions, into: Uint8Array | undefined): AsyncGenerator<Uint8Array> {
    const file = this.signedName(name);
    const signal = this.signalOf(options);
    const listed = this.listed?.get(file);
    if (this.listed && !listed) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: file,
        message: `'${file}' is not a file of the model '${this.params.source.location}'`,
      });
    }
    if (into && listed && into.length !== listed.size) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `read('${file}'): into has ${into.length} bytes, the file ${listed.size}`,
      });
    }
    throwIfAborted(signal, { path: file, doing: `reading '${file}'` });
    const hasher = await this.fileHasher(file);
    const limit = into?.length ?? fileLimit(this.params, listed?.size);
    const body = await this.params.source.open(file, {
      maxBytes: limit,
      ...(signal ? { abortSignal: signal } : {}),
      ...(into ? { into } : {}),
    });
    if (!body) throw new ManifestMismatchError([{ kind: 'missing', name: file }]);
    const expected = listed?.size ?? body.size;
    const tooLarge = (size: number, announced: boolean) =>
      bodyTooLarge(file, size, limit, announced, into !== undefined || listed !== undefined);
    let received = 0;
    const during = { path: file, doing: `reading '${file}'` };
    for await (const chunk of boundedChunks(body, { limit, tooLarge, signal, during })) {
      hasher.update(chunk);
      received += chunk.length;
      options.onBytes?.(received, expected);
      yield chunk;
    }
    this.finishFile(file, hasher);
  }

  /**
   * The normalized name of a file that may be read: one the signature
   * covers, or in shard mode any file (an empty one has no resource; a
   * non-empty unsigned one fails its check). Tolerating unsigned files never
   * lets their bytes out.
   */
  private signedName(name: string): string {
    const file = normalizeModelPath(name);
    if (!this.isSigned(file) && this.manifest.serialization.method === 'files') {
      throw new ManifestMismatchError([{ kind: 'unsigned', name: file }]);
    }
    return file;
  }

  private async fileHasher(file: string): Promise<FileHasher> {
    // In browsers hash-wasm, hashing as bytes arrive, is several times the
    // checker's default there; each file gets its own instance, so files
    // may be read side by side. Node keeps OpenSSL (undefined here).
    const createHash = await fastestCheckerHashers(this.manifest.serialization.hashType);
    return this.checker.createFileHasher(file, createHash ? { createHash } : {});
  }

  /**
   * Ends one file: its resources are compared with the signed ones, and
   * any difference is thrown naming the file itself (in shard mode the
   * checker names the shard). Only a matching file counts as checked.
   */
  private finishFile(file: string, hasher: FileHasher): void {
    let produced: ManifestResource[];
    try {
      produced = hasher.finish();
    } catch (err) {
      throw errorNamingFile(err, file);
    }
    if (!this.isSigned(file) && produced.length > 0) throw new ManifestMismatchError([{ kind: 'unsigned', name: file }]);
    this.checked.set(file, produced);
  }

  private signalOf(options: SessionReadOptions): AbortSignal | undefined {
    const signals = [this.params.abortSignal, options.abortSignal].filter((s): s is AbortSignal => s !== undefined);
    return signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  }
}

/**
 * Selects the signed files and the folders on their way, so a listing that
 * tolerates unsigned files looks at nothing else.
 */
function signedPathsOf(signedFiles: readonly string[]): (name: string) => boolean {
  const paths = new Set<string>();
  for (const file of signedFiles) {
    const parts = file.split('/');
    for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join('/'));
  }
  return (name) => paths.has(name);
}

/**
 * A single-file model's resource is `.` for the reference but the file's
 * name for the spec; accept both by renaming the named form. A manifest
 * that names the file both ways lists it twice: refused, since either
 * digest could be the one that counts.
 *
 * @throws {ModelSigningError} `BAD_PAYLOAD`.
 */
function aliasSingleFile(manifest: VerifiedManifest, fileName: string): VerifiedManifest {
  const isShards = manifest.serialization.method === 'shards';
  const shardPrefix = `${fileName}:`;
  const aliasOf = (name: string): string => {
    if (!isShards) return name === fileName ? '.' : name;
    const range = name.slice(shardPrefix.length);
    return name.startsWith(shardPrefix) && /^\d+:\d+$/.test(range) ? `.:${range}` : name;
  };
  const seen = new Set<string>();
  const resources = manifest.resources.map((r) => {
    const name = aliasOf(r.name);
    if (seen.has(name)) throw duplicateResource(name);
    seen.add(name);
    return { ...r, name };
  });
  return verifiedManifest({ ...manifest, resources });
}

// Runtime-neutral: what the verified-model session asks of a place a model
// lives (a directory, an HTTP folder, a hub repo, a cache). A source only
// moves bytes and lists names; it decides nothing. Every rule about what
// "verified" means is the session's (verified-session.ts).
import type { ManifestResource, Serialization } from '../format/manifest.js';
import type { HashProgress } from '../format/hash-algorithms.js';
import type { ModelIdentity } from '../policy/identity.js';

/** Bytes a source hands over: the signature, or one file. */
export interface SourceBody {
  /**
   * The size the source knows before a byte is read (a file's size on disk,
   * the listed size, an announced `Content-Length`), if it knows one. The
   * session refuses a body over its limit from this alone, and reports it
   * as the expected total; it still counts what actually arrives.
   */
  readonly size?: number;
  /**
   * The bytes, in order. The session stops early (calling the iterator's
   * `return`) when it refuses the body or is cancelled; the source then
   * releases whatever it holds (a file handle, a connection).
   */
  readonly chunks: AsyncIterable<Uint8Array>;
}

/** A file of the model as the source lists it, before any byte is read. */
export interface ListedFile {
  /** Model-relative POSIX path; `.` for a single-file model. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /**
   * SHA-256 of the content as the source records it (a hub's LFS
   * metadata): compared with a `files`/`sha256` signature before any byte
   * moves, never trusted in its place.
   */
  readonly sha256?: string;
}

/** What {@link ModelSource.list} found. */
export interface SourceListing {
  readonly files: readonly ListedFile[];
  /**
   * Set when the model is one file (listed as `.`): the file's own name,
   * which a signature may use for it instead of `.` (the OMS spec names the
   * file, the reference writes `.`).
   */
  readonly singleFileName?: string;
}

/** What the session tells a source about the listing it wants, from the verified signature. */
export interface ListScope {
  /**
   * Model-relative paths that are not part of the model (the signature's
   * ignore paths and, by default, the git files); a folder covers its
   * subtree. A source need not look inside them, and should not report
   * problems there: the session drops them from any listing anyway.
   */
  readonly ignorePaths: readonly string[];
  /**
   * Set when unsigned files are tolerated: whether a path (a file, or a
   * folder on the way to one) can be signed. A source need not look at any
   * other, so an unsigned FIFO or symlink beside the model is no error.
   */
  readonly wanted?: (name: string) => boolean;
  /** The model-relative names of the files the signature covers. */
  readonly signedFiles: readonly string[];
}

/** Per-call context the session passes to a source. */
export interface SourceContext {
  /** Cancels the read; the session also stops waiting on its own when it fires. */
  readonly abortSignal?: AbortSignal;
  /**
   * The most bytes the session will accept of this body. A source that
   * learns a larger size up front (a `Content-Length`) may release the body
   * at once; the session refuses it from `size` either way.
   */
  readonly maxBytes?: number;
}

/** Per-call context of {@link ModelSource.open}. */
export interface OpenContext extends SourceContext {
  /**
   * Where the caller wants the whole file: a source may read straight into
   * this buffer and yield views of it (in order, from its start), which the
   * session then does not copy.
   */
  readonly into?: Uint8Array;
}

/** Options of the session's `finish`, handed on to {@link ModelSource.hashFiles}. */
export interface FinishOptions {
  /** Digests already proven for some files (name → one digest, or one per shard): a source that hashes in bulk does not read them. */
  knownDigests?: ReadonlyMap<string, readonly string[]>;
  /** Progress of the hashing `finish` does for the files nobody read. */
  onProgress?: (progress: HashProgress) => void;
}

/**
 * A place a signed model lives, as the verified-model session reads it.
 * Implement it to verify models from anywhere (an object store, a registry):
 * nothing else changes.
 */
export interface ModelSource {
  /** Where the model is, for messages: a path, a URL, `org/name@commit`. */
  readonly location: string;
  /** Where its signature is, for messages and `error.path`: a path, a URL, a repo path. */
  readonly signatureLocation: string;
  /**
   * The signature's bytes. The session reads at most its limit
   * (`maxBundleBytes`) of them.
   *
   * @throws {ModelSigningError} `NOT_FOUND` when there is none.
   */
  signature(context: SourceContext): Promise<SourceBody>;
  /**
   * The claims file beside the signature (`claims.jsonl` in the signature's
   * folder), when the signature is one bundle: its claims count with the
   * signature's (the verified claims a load returns, a policy's claim
   * requirements). `undefined` when there is none. The session reads at
   * most its limit (`maxClaimsBytes`) of it. Leave it out for a source
   * that keeps no claims.
   */
  claims?(context: SourceContext): Promise<{ body: SourceBody; location: string } | undefined>;
  /**
   * How the model was addressed, which a trust policy's rules match: a
   * local path (resolved), a URL, a Hugging Face repo at a revision.
   */
  identity?(): Promise<ModelIdentity>;
  /**
   * How many files the model has, counted cheaply before the signature is
   * read (names only, nothing checked, no error for what a listing would
   * refuse): the session's signature limit then follows the model's size,
   * so a dataset's large signature is read without an option and a huge one
   * against a small model is refused from its size. An over-count only
   * makes the limit more generous. Sources that cannot count without
   * trusting the signature (HTTP) leave this out and get the fixed limit.
   *
   * @param scope.ignorePaths model-relative paths (a folder: its subtree)
   *   the count may leave out: the git files, when ignored.
   * @param scope.atMost counting past this changes nothing: a source may
   *   stop there and return it.
   */
  countFiles?(scope: { readonly ignorePaths: readonly string[]; readonly atMost: number }, context: SourceContext): Promise<number>;
  /**
   * The files present, before any byte is read. Sources that cannot list
   * (a plain HTTP folder) leave this out; the session then expects exactly
   * the signed files.
   */
  list?(scope: ListScope, context: SourceContext): Promise<SourceListing>;
  /**
   * One file's bytes, or `undefined` when the source has no such file (the
   * session reports it missing).
   */
  open(name: string, context: OpenContext): Promise<SourceBody | undefined>;
  /**
   * Hashes many files at once, faster than streaming them one by one (the
   * directory source's worker-thread engine): the session uses it at
   * `finish` for the files nobody read. Returns their resources, in any order.
   */
  hashFiles?(
    names: readonly string[],
    serialization: Readonly<Serialization>,
    options: FinishOptions & SourceContext,
  ): Promise<ManifestResource[]>;
}

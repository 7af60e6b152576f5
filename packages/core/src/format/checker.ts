import { ManifestMismatchError, ModelSigningError, type ManifestDifference } from '../errors.js';
import { createHasher, type Hasher } from './hash-algorithms.js';
import { compareResourceNames, parseShardName, resourceAlgorithm, shardName, type ManifestResource } from './manifest.js';
import { normalizeModelPath } from './model-path.js';
import { isVerifiedManifest, type VerifiedManifest } from './verified-manifest.js';

/** The lookups of a verified manifest by name (immutable, like the manifest), built once for all its checkers. */
const INDEXES = new WeakMap<VerifiedManifest, { expected: Map<string, ManifestResource>; resourcesByFile: Map<string, string[]> }>();

/** Options for {@link ManifestChecker}. */
export interface ManifestCheckerOptions {
  /** Tolerate files the signature does not list. Default false. */
  ignoreUnsignedFiles?: boolean;
}

/** Hashes one file's bytes as they arrive; {@link ManifestChecker.createFileHasher}. */
export interface FileHasher {
  update(chunk: Uint8Array): void;
  /** Ends the file: compares it with the manifest and throws on a difference. */
  finish(): ManifestResource[];
}

/** Options for {@link ManifestChecker.createFileHasher}. */
export interface FileHasherOptions {
  /**
   * Where the file's hashers come from (one per shard, created in turn, each
   * after the previous one's digest was read), for the manifest's algorithm.
   * Default: `createHasher` (node:crypto in Node, @noble/hashes elsewhere).
   */
  createHash?: () => Hasher;
}

/**
 * Checks bytes against a verified manifest: file by file (buffers or
 * streams), or all at once from the hashing engine. Every adapter verifies
 * through this one class, so ordering, shard splitting and comparison live
 * in one place.
 */
export class ManifestChecker {
  /** Lookups by name, built on first use: comparing a whole sorted model needs none. */
  private index: { expected: Map<string, ManifestResource>; resourcesByFile: Map<string, string[]> } | undefined;
  /** Whether the signed resources are in strictly increasing signing order; computed on first use. */
  private sorted: boolean | undefined;
  private readonly checked = new Set<string>();
  private readonly ignoreUnsignedFiles: boolean;
  private readonly isShards: boolean;

  constructor(
    readonly manifest: VerifiedManifest,
    options: ManifestCheckerOptions = {},
  ) {
    if (!isVerifiedManifest(manifest)) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: 'Bytes are checked only against a verified manifest (from verifyBundle or a verified session), never a parsed one',
      });
    }
    this.ignoreUnsignedFiles = options.ignoreUnsignedFiles ?? false;
    this.isShards = manifest.serialization.method === 'shards';
  }

  /** Signed digests by resource name. */
  private get expected(): Map<string, ManifestResource> {
    return this.indexed().expected;
  }

  /** Signed resource names grouped by file path: for `shards` only (with `files`, a file is its one resource). */
  private get resourcesByFile(): Map<string, string[]> {
    return this.indexed().resourcesByFile;
  }

  private indexed(): { expected: Map<string, ManifestResource>; resourcesByFile: Map<string, string[]> } {
    if (this.index) return this.index;
    // One index per manifest, whatever the number of checkers made for it:
    // for a million resources each costs a second or more.
    const shared = INDEXES.get(this.manifest);
    if (shared) return (this.index = shared);
    const index = { expected: new Map<string, ManifestResource>(), resourcesByFile: new Map<string, string[]>() };
    for (const r of this.manifest.resources) {
      index.expected.set(r.name, r);
      if (!this.isShards) continue;
      const file = parseShardName(r.name).path;
      const list = index.resourcesByFile.get(file);
      if (list) list.push(r.name);
      else index.resourcesByFile.set(file, [r.name]);
    }
    INDEXES.set(this.manifest, index);
    this.index = index;
    return index;
  }

  /** Model-relative paths of every file the signature covers. */
  get signedFiles(): string[] {
    // With `files`, each resource is a file, listed once (a name listed twice is refused
    // when parsed): no index of a million names is built just to list them.
    return this.isShards ? [...this.resourcesByFile.keys()] : this.manifest.resources.map((r) => r.name);
  }

  /** Whether the signature covers `name` (a model-relative path). */
  isSigned(name: string): boolean {
    return (this.isShards ? this.resourcesByFile : this.expected).has(name);
  }

  /** The signed resource names of file `file`. */
  private signedResourcesOf(file: string): readonly string[] {
    if (this.isShards) return this.resourcesByFile.get(file) ?? [];
    return this.expected.has(file) ? [file] : [];
  }

  /**
   * Streams one file through the manifest's hash. Throws `PATH_ESCAPE` for a
   * name that leaves the model, and (unless unsigned files are tolerated)
   * `UNSIGNED_FILE` before any byte is hashed.
   */
  createFileHasher(name: string, options: FileHasherOptions = {}): FileHasher {
    const file = normalizeModelPath(name);
    if (!this.isSigned(file) && !this.ignoreUnsignedFiles && this.manifest.serialization.method === 'files') {
      throw new ManifestMismatchError([{ kind: 'unsigned', name: file }]);
    }
    const { method, hashType, shardSize } = this.manifest.serialization;
    const algorithm = resourceAlgorithm(this.manifest.serialization);
    const produced: ManifestResource[] = [];
    let offset = 0;
    let shardStart = 0;
    const newHasher = options.createHash ?? (() => createHasher(hashType));
    // Created when bytes come, not ahead: a hasher source may allow only one open hasher at a time.
    let hasher: Hasher | undefined;
    let finished = false;
    const closeShard = () => {
      produced.push({
        name: shardName({ path: file, start: shardStart, end: offset }),
        algorithm,
        digest: (hasher ?? newHasher()).digestHex(),
      });
      shardStart = offset;
      hasher = undefined;
    };
    return {
      update: (chunk) => {
        if (finished) throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `'${file}' was already finished` });
        if (method === 'files') {
          hasher ??= newHasher();
          hasher.update(chunk);
          offset += chunk.length;
          return;
        }
        let pos = 0;
        while (pos < chunk.length) {
          const take = Math.min(chunk.length - pos, shardStart + shardSize! - offset);
          hasher ??= newHasher();
          hasher.update(chunk.subarray(pos, pos + take));
          pos += take;
          offset += take;
          if (offset - shardStart === shardSize) closeShard();
        }
      },
      finish: () => {
        finished = true;
        if (method === 'files') produced.push({ name: file, algorithm, digest: (hasher ?? newHasher()).digestHex() });
        else if (offset > shardStart) closeShard();
        this.checkFileResources(file, produced);
        return produced;
      },
    };
  }

  /** Checks a whole file held in memory. */
  checkBytes(name: string, bytes: Uint8Array, options: FileHasherOptions = {}): ManifestResource[] {
    const hasher = this.createFileHasher(name, options);
    hasher.update(bytes);
    return hasher.finish();
  }

  /** Compares one file's resources with the manifest; throws naming the file on any difference. */
  private checkFileResources(file: string, produced: ManifestResource[]): void {
    const differences = this.differencesFor(file, produced);
    // Only a matching file counts as present: a caller that swallows the
    // mismatch must still fail at finish().
    if (differences.length > 0) throw new ManifestMismatchError(differences);
    this.checked.add(file);
  }

  private differencesFor(file: string, produced: ManifestResource[]): ManifestDifference[] {
    const differences: ManifestDifference[] = [];
    const signed = new Set(this.signedResourcesOf(file));
    if (signed.size === 0 && produced.length > 0) {
      return this.ignoreUnsignedFiles ? [] : [{ kind: 'unsigned', name: file }];
    }
    for (const r of produced) {
      const expected = this.expected.get(r.name);
      if (!expected) differences.push({ kind: 'mismatch', name: r.name, actual: r.digest });
      else if (expected.digest !== r.digest)
        differences.push({ kind: 'mismatch', name: r.name, expected: expected.digest, actual: r.digest });
      signed.delete(r.name);
    }
    // Shards the file no longer has (it shrank) count as changed, not missing files.
    for (const name of signed) differences.push({ kind: 'mismatch', name, expected: this.expected.get(name)!.digest });
    return differences;
  }

  /**
   * Throws if a signed file was never checked. Call after the last file.
   *
   * @throws {ManifestMismatchError} `MISSING_FILE`.
   */
  finish(): void {
    const missing = this.signedFiles.filter((f) => !this.checked.has(f)).map((name) => ({ kind: 'missing' as const, name }));
    if (missing.length > 0) throw new ManifestMismatchError(missing);
  }

  /**
   * Compares a complete local manifest (from the hashing engine) with the
   * signed one and throws one error listing every difference.
   *
   * @param localFiles every file that was hashed (model-relative paths), so
   *   empty files in shard mode count as present.
   * @param known differences already established without hashing (unsigned
   *   files that were not read), reported with the rest.
   */
  compareAll(localFiles: readonly string[], local: readonly ManifestResource[], known: readonly ManifestDifference[] = []): void {
    if (!this.isShards && localFiles.length === local.length) {
      this.compareFiles(local, known);
      return;
    }
    const byFile = new Map<string, ManifestResource[]>(localFiles.map((f) => [f, []]));
    for (const r of local) byFile.get(this.isShards ? parseShardName(r.name).path : r.name)?.push(r);
    const differences: ManifestDifference[] = [...known];
    for (const [file, produced] of byFile) differences.push(...this.differencesFor(file, produced));
    for (const file of this.signedFiles) if (!byFile.has(file)) differences.push({ kind: 'missing', name: file });
    if (differences.length > 0) throw new ManifestMismatchError(differences);
  }

  /**
   * {@link compareAll} for `files`, where each file is one resource. Both
   * lists are normally in signing order (manifests are written so, and the
   * engine returns resources so): then they are merged in one pass, with no
   * map of a million names. Otherwise one lookup per local file, and a set
   * of the local names only when some signed file was not seen.
   */
  private compareFiles(local: readonly ManifestResource[], known: readonly ManifestDifference[]): void {
    const differences: ManifestDifference[] = [...known];
    const signed = this.manifest.resources;
    this.sorted ??= increasing(signed);
    if (this.sorted && increasing(local)) {
      let i = 0;
      let j = 0;
      while (i < signed.length || j < local.length) {
        const order = i === signed.length ? 1 : j === local.length ? -1 : compareResourceNames(signed[i].name, local[j].name);
        if (order < 0) differences.push({ kind: 'missing', name: signed[i++].name });
        else if (order > 0) {
          if (!this.ignoreUnsignedFiles) differences.push({ kind: 'unsigned', name: local[j].name });
          j++;
        } else {
          const expected = signed[i++].digest;
          const actual = local[j++];
          if (expected !== actual.digest) differences.push({ kind: 'mismatch', name: actual.name, expected, actual: actual.digest });
        }
      }
    } else {
      let signedSeen = 0;
      for (const r of local) {
        const expected = this.expected.get(r.name);
        if (expected === undefined) {
          if (!this.ignoreUnsignedFiles) differences.push({ kind: 'unsigned', name: r.name });
          continue;
        }
        signedSeen++;
        if (expected.digest !== r.digest) differences.push({ kind: 'mismatch', name: r.name, expected: expected.digest, actual: r.digest });
      }
      if (signedSeen < this.expected.size) {
        const present = new Set(local.map((r) => r.name));
        for (const name of this.expected.keys()) if (!present.has(name)) differences.push({ kind: 'missing', name });
      }
    }
    if (differences.length > 0) throw new ManifestMismatchError(differences);
  }
}

/** Whether the resources' names strictly increase in signing order (so none is listed twice). */
function increasing(resources: readonly ManifestResource[]): boolean {
  for (let i = 1; i < resources.length; i++) if (compareResourceNames(resources[i - 1].name, resources[i].name) >= 0) return false;
  return true;
}

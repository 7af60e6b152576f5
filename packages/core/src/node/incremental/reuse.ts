import path from 'node:path';
import { ModelSigningError } from '../../errors.js';
import { resolveSerialization } from '../hash/hash-model.js';
import type { HashAlgorithm, Serialization, SerializationMethod } from '../../format/manifest.js';
import type { VerifiedManifest } from '../../format/verified-manifest.js';
import { verifyBundle } from '../../format/bundle-verification.js';
import { readBundle } from '../signature-file.js';
import type { Verifier } from '../../format/verifier.js';
import { GIT_PATHS, isUnderAny } from '../../format/model-path.js';
import { FILES_FOR_MAX_SIGNATURE, bundleLimitFor } from '../../session/limits.js';
import { toModelRelative } from '../paths.js';
import { countModelFiles, walkModel, type ModelFile, type WalkOptions, type WalkedModel } from '../walk.js';
import type { Signer } from '../../format/signer.js';
import { HashRecord, StatCollector, digestLookup, type StatSnapshot } from './record.js';

/** Why a file is read again rather than taking a known digest. */
export type RehashReason =
  /** The reference (old signature, or the signature being verified) does not list it. */
  | 'new'
  /** Named by the caller (`changed`, `--changed`). */
  | 'named-changed'
  /** The record has no entry for it (no record, another model or other settings). */
  | 'unrecorded'
  /** Its size differs from the record's. */
  | 'size-changed'
  /** Its mtime, ctime, inode or device differs from the record's. */
  | 'stat-changed'
  /**
   * Its timestamps were too close to the record's stat time to prove anything:
   * within the file system's timestamp granularity ("racy git") or the time
   * the kernel may take to write a page back, during which a write through a
   * memory map moves no time (`recordSettleMs`, docs/incremental.md).
   */
  | 'racy'
  /**
   * Nothing can be proven for it on this system: the record was written where
   * periodic writeback was disabled or its settings unreadable, or the file
   * is on a file system that never writes pages back (tmpfs).
   */
  | 'unprovable'
  /** The record's digest differs from the reference's for this file. */
  | 'digest-differs';

/** How many files and bytes were taken from the record and how many were hashed. */
export interface ReuseSummary {
  reusedFiles: number;
  reusedBytes: number;
  rehashedFiles: number;
  rehashedBytes: number;
}

/** The summary when every file is read (a full sign, a verification without `trustCache`). */
export function everyFileRead(files: readonly ModelFile[]): ReuseSummary {
  return { reusedFiles: 0, reusedBytes: 0, rehashedFiles: files.length, rehashedBytes: files.reduce((sum, f) => sum + f.size, 0) };
}

/** Just the counts of a plan. */
export function summaryOf(plan: ReuseSummary): ReuseSummary {
  return {
    reusedFiles: plan.reusedFiles,
    reusedBytes: plan.reusedBytes,
    rehashedFiles: plan.rehashedFiles,
    rehashedBytes: plan.rehashedBytes,
  };
}

/** Which files keep a known digest and which are read, with the reason. */
export interface ReusePlan extends ReuseSummary {
  /** Digests proven for unchanged files (name → digests, one per shard for `shards`). */
  known: Map<string, string[]>;
  reused: { name: string; size: number }[];
  rehashed: { name: string; size: number; reason: RehashReason }[];
}

/**
 * Decides, file by file, whether a digest is known: the record proves the
 * file unchanged since it was hashed AND the record's digests equal those of
 * `reference` (a signature that has just verified). Anything else is hashed.
 */
export function planReuse(options: {
  snapshot: StatSnapshot;
  record: HashRecord;
  reference: VerifiedManifest;
  singleFileName?: string;
  changed?: ReadonlySet<string>;
  /** Fill `reused` and `rehashed` (a dry run's report); otherwise they stay empty and only the counts are kept. */
  list?: boolean;
}): ReusePlan {
  const lookup = digestLookup(options.reference.resources, options.reference.serialization.method);
  // A single-file model's resource is `.` for the reference and the basename for the spec.
  const single = options.singleFileName;
  const referenceDigests = single === undefined ? lookup : (name: string) => lookup(name) ?? (name === '.' ? lookup(single) : undefined);
  const changed = [...(options.changed ?? [])];
  const plan: ReusePlan = {
    known: new Map(),
    reused: [],
    rehashed: [],
    reusedFiles: 0,
    reusedBytes: 0,
    rehashedFiles: 0,
    rehashedBytes: 0,
  };
  const { snapshot, record } = options;
  const { files } = snapshot;
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const expected = referenceDigests(file.name);
    let reason: RehashReason | undefined;
    if (expected === undefined) reason = 'new';
    else if (changed.length > 0 && isUnderAny(file.name, changed)) reason = 'named-changed';
    else {
      const row = record.check(snapshot, i);
      if (typeof row !== 'number') reason = row;
      else if (!record.digestsEqual(row, expected)) reason = 'digest-differs';
      // The reference's digests, equal to the record's: proven for this file.
      else plan.known.set(file.name, expected);
    }
    if (reason === undefined) {
      if (options.list) plan.reused.push({ name: file.name, size: file.size });
      plan.reusedFiles++;
      plan.reusedBytes += file.size;
    } else {
      if (options.list) plan.rehashed.push({ name: file.name, size: file.size, reason });
      plan.rehashedFiles++;
      plan.rehashedBytes += file.size;
    }
  }
  return plan;
}

/** The incremental part of {@link SignModelOptions}. */
export interface IncrementalOptions {
  /**
   * Verifies the signature to start from; it must accept the signer's own
   * identity. Default: the signer's {@link Signer.ownSignatureVerifier} (key,
   * PKCS#11 and KMS keys: their public key; certificate methods: the signing
   * certificate and its chain). Required for Sigstore: a verifier of the
   * identity being signed with. Nothing is reused from a signature it refuses.
   */
  verifier?: Verifier;
  /** The signature to start from. Default: the signature path being written. */
  previousSignaturePath?: string;
  /**
   * Files or directories (model-relative, or absolute inside the model) to
   * hash again whatever the record says.
   */
  changed?: readonly string[];
}

/** What an incremental sign prepared: the plan and what signing needs to carry it out. */
export interface PreparedIncrementalSign extends ReusePlan {
  walked: WalkedModel;
  serialization: Serialization;
  snapshot: StatSnapshot;
  /** The record to replace once signed (its entries are not kept: a dataset's take a few hundred MB). */
  record: HashRecord;
}

/** What {@link planIncrementalSign} needs: the model, the settings the caller chose explicitly, and where the signature goes. */
export interface PlanIncrementalSignOptions extends WalkOptions {
  incremental: IncrementalOptions;
  /** The signer of the new signature: it verifies the previous one unless `incremental.verifier` is given. Not asked to sign. */
  signer?: Signer;
  signaturePath: string;
  method?: SerializationMethod;
  hashAlgorithm?: HashAlgorithm;
  shardSize?: number;
  cacheDir?: string;
}

/**
 * Verifies the previous signature, takes its hashing settings (refusing
 * explicit different ones), walks the model and decides which files are read
 * again. Reads no file's bytes and writes nothing.
 *
 * @throws {ModelSigningError} any verification error of the previous
 *   signature; `SETTINGS_CHANGED`; `INVALID_ARGUMENT` for a `changed` path
 *   that names no file of the model, or without a verifier for the previous
 *   signature (neither `incremental.verifier` nor a signer that provides
 *   one); walk errors.
 */
export async function prepareIncrementalSign(options: PlanIncrementalSignOptions, list = false): Promise<PreparedIncrementalSign> {
  const signaturePath = path.resolve(options.signaturePath);
  const previousPath = path.resolve(options.incremental.previousSignaturePath ?? signaturePath);
  // A dataset's previous signature may be hundreds of megabytes: its limit
  // follows the files present, as when verifying.
  const present = await countModelFiles(options.modelPath, {
    ignorePaths: (options.ignoreGitPaths ?? true) ? GIT_PATHS : [],
    atMost: FILES_FOR_MAX_SIGNATURE,
  });
  const bundle = await readBundle(previousPath, { maxBundleBytes: bundleLimitFor(present) }).catch((err: unknown) => {
    if (!(err instanceof ModelSigningError) || err.code !== 'NOT_FOUND') throw err;
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: previousPath,
      cause: err,
      message: `${err.message}. An incremental sign starts from a previous signature: sign in full first, or name it with the previousSignaturePath option.`,
    });
  });
  const verifier = options.incremental.verifier ?? (await options.signer?.ownSignatureVerifier?.());
  if (verifier === undefined) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `An incremental sign verifies the previous signature first, and ${options.signer ? 'this signer cannot say who it signs as (Sigstore)' : 'no signer was given'}: pass incremental.verifier for the identity being signed with`,
    });
  }
  const { manifest: previous } = await verifyBundle({ bundle, verifier });
  const old = previous.serialization;
  const differs: string[] = [];
  if (options.method !== undefined && options.method !== old.method) differs.push(`method ${options.method} (signed with ${old.method})`);
  if (options.hashAlgorithm !== undefined && options.hashAlgorithm !== old.hashType)
    differs.push(`hash ${options.hashAlgorithm} (signed with ${old.hashType})`);
  if (old.method === 'shards' && options.shardSize !== undefined && options.shardSize !== old.shardSize) {
    differs.push(`shard size ${options.shardSize} (signed with ${old.shardSize})`);
  }
  if (differs.length > 0) {
    throw new ModelSigningError({
      code: 'SETTINGS_CHANGED',
      message: `Cannot re-sign incrementally with other hashing settings: ${differs.join(', ')}. Every file must be hashed again; sign without the incremental option.`,
    });
  }

  // The old signature's ignore rules carry over; extra ones only leave more
  // files out. Git paths follow `ignoreGitPaths` as in a full sign, since
  // signatures of model_signing 1.0 do not record the paths they ignored.
  // Taken before any stat of the record: see StatCollector.
  const stats = new StatCollector(Date.now());
  const walked = await walkModel({
    ...options,
    onFileStats: stats.onFileStats,
    allowSymlinks: options.allowSymlinks ?? old.allowSymlinks,
    ignorePaths: [...old.ignorePaths, ...(options.ignorePaths ?? []), signaturePath],
  });
  const serialization = resolveSerialization(
    {
      method: old.method,
      hashAlgorithm: old.hashType,
      allowSymlinks: options.allowSymlinks ?? old.allowSymlinks,
      ...(old.shardSize !== undefined ? { shardSize: old.shardSize } : {}),
    },
    walked.ignorePaths,
  );
  const changed = new Set<string>();
  for (const p of options.incremental.changed ?? []) {
    const rel = walked.isSingleFile ? '.' : toModelRelative(walked.root, p);
    if (rel === undefined || !walked.files.some((f) => isUnderAny(f.name, [rel]))) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        path: p,
        message: `'${p}' (named as changed) is not a file or directory of the model`,
      });
    }
    changed.add(rel);
  }
  const snapshot = stats.snapshot(walked.files);
  const record = await HashRecord.open({
    root: walked.root,
    serialization,
    files: walked.files,
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  });
  const plan = planReuse({
    list,
    snapshot,
    record,
    reference: previous,
    changed,
    ...(walked.isSingleFile ? { singleFileName: path.basename(walked.root) } : {}),
  });
  return { ...plan, walked, serialization, snapshot, record: record.withoutEntries() };
}

/** What an incremental sign would do ({@link planIncrementalSign}). */
export interface IncrementalSignPlan extends ReuseSummary {
  /** The settings the new signature would record (the previous signature's). */
  serialization: Serialization;
  /** Files whose digests would be taken from the record. */
  reused: { name: string; size: number }[];
  /** Files that would be read, and why. */
  rehashed: { name: string; size: number; reason: RehashReason }[];
}

/**
 * Dry run of an incremental {@link signModel}: verifies the previous
 * signature and says which files would be hashed again and which reused,
 * without reading any file's bytes or writing anything.
 *
 * @throws {ModelSigningError} as {@link signModel} with `incremental` does before hashing.
 */
export async function planIncrementalSign(options: PlanIncrementalSignOptions): Promise<IncrementalSignPlan> {
  const plan = await prepareIncrementalSign(options, true);
  return { serialization: plan.serialization, reused: plan.reused, rehashed: plan.rehashed, ...summaryOf(plan) };
}

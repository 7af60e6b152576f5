import path from 'node:path';
import { serializeBundleParts, type SerializedBundle } from '../format/bundle.js';
import { writeFileAtomic } from './atomic-write.js';
import type { HashModelOptions } from './hash/hash-model.js';
import { HashRecord, StatCollector, type StatSnapshot } from './incremental/record.js';
import { everyFileRead, prepareIncrementalSign, summaryOf, type IncrementalOptions, type ReuseSummary } from './incremental/reuse.js';
import type { Manifest } from '../format/manifest.js';
import type { WalkOptions } from './walk.js';
import { refuseModelFileAsSignature } from './signature-path.js';
import type { Signer } from '../format/signer.js';
import { createSignature, type CreatedSignature, type SignManifestOptions } from './create-signature.js';
import { appendClaim, isClaimsPath } from './append-claim.js';

/**
 * Writes a bundle to `signaturePath` atomically (temporary file + rename);
 * a path ending in `.jsonl` is a claims file, to which the bundle is
 * appended as one line (`appendClaim`).
 */
export async function writeSignature(signaturePath: string, bundle: SerializedBundle): Promise<void> {
  if (isClaimsPath(signaturePath)) await appendClaim(signaturePath, bundle);
  else await writeFileAtomic(signaturePath, serializeBundleParts(bundle));
}

/** Options for {@link signModel}. */
export interface SignModelOptions extends HashModelOptions, Pick<SignManifestOptions, 'timestampAuthority'> {
  signer: Signer;
  /**
   * Where to write the signature; excluded from the manifest when inside the
   * model. A path ending in `.jsonl` (`claims.jsonl`) is a claims file: the
   * signature is appended to it as one line.
   */
  signaturePath: string;
  /**
   * Re-sign starting from a previous signature: files the local record
   * proves unchanged keep their digests; the rest are hashed. The result is
   * the payload a full sign would produce. Hashing settings left undefined
   * come from the previous signature; different ones are refused. See
   * docs/incremental.md.
   */
  incremental?: IncrementalOptions;
  /** Directory of the local hash records. Default: `$XDG_CACHE_HOME` or the platform's user cache, `model-signing/records`. */
  cacheDir?: string;
}

/** The outcome of {@link signModel}. */
export interface SignModelResult {
  manifest: Manifest;
  bundle: SerializedBundle;
  signaturePath: string;
  /** How many files and bytes were taken from the record and how many were hashed (nothing is reused without `incremental`). */
  reuse: ReuseSummary;
}

/**
 * Hashes a model, signs its manifest and writes the signature atomically,
 * then records the files' stats and digests in the local hash record (a
 * cache: failing to write it is not an error). Nothing is written unless
 * signing succeeds.
 *
 * @throws {ModelSigningError} walk, hashing, key and `EMPTY_MODEL` errors;
 *   `WRITE_FAILED`; with `timestampAuthority`, `NETWORK_ERROR` and
 *   `TIMESTAMP_INVALID` (nothing written); `INVALID_ARGUMENT` when `signaturePath` is the model or
 *   an existing file of the model that is not a signature; with
 *   `incremental`, the previous signature's verification errors and `SETTINGS_CHANGED`.
 */
export async function signModel(options: SignModelOptions): Promise<SignModelResult> {
  const signaturePath = path.resolve(options.signaturePath);
  await refuseModelFileAsSignature(options.modelPath, signaturePath);
  const { modelPath, ignorePaths, ignoreGitPaths, ignoreAttestationFiles, allowSymlinks, symlinkTargetRoot, ...hashing } = options;
  let saveRecord: (resources: Manifest['resources']) => Promise<void>;
  let created: CreatedSignature;
  let reuse: ReuseSummary;
  if (options.incremental) {
    const { walked, serialization, snapshot, record, known, ...plan } = await prepareIncrementalSign({
      ...options,
      incremental: options.incremental,
      signaturePath,
    });
    reuse = summaryOf(plan);
    created = await createSignature({ ...hashing, walked, serialization, knownDigests: known });
    saveRecord = (resources) => record.save(snapshot, resources);
  } else {
    // Taken before any stat of the record: see StatCollector.
    const stats = new StatCollector(Date.now());
    const walk: WalkOptions = { modelPath, ignorePaths: [...(ignorePaths ?? []), signaturePath], onFileStats: stats.onFileStats };
    if (ignoreGitPaths !== undefined) walk.ignoreGitPaths = ignoreGitPaths;
    if (ignoreAttestationFiles !== undefined) walk.ignoreAttestationFiles = ignoreAttestationFiles;
    if (allowSymlinks !== undefined) walk.allowSymlinks = allowSymlinks;
    if (symlinkTargetRoot !== undefined) walk.symlinkTargetRoot = symlinkTargetRoot;
    let located: { snapshot: StatSnapshot; record: HashRecord } | undefined;
    created = await createSignature({
      ...hashing,
      walk,
      // A full sign reads every file; the record is only located, to be replaced afterwards.
      onWalked: async (walked, serialization) => {
        const snapshot = stats.snapshot(walked.files);
        const record = await HashRecord.locate({
          root: walked.root,
          serialization,
          ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
        });
        located = { snapshot, record };
      },
    });
    saveRecord = (resources) => located!.record.save(located!.snapshot, resources);
    reuse = everyFileRead(created.walked!.files);
  }
  const { manifest, bundle } = created;
  // The path as given (same file: the working directory has not changed), so a failure names what the user typed.
  await writeSignature(options.signaturePath, bundle);
  await saveRecord(manifest.resources);
  return { manifest, bundle, signaturePath, reuse };
}

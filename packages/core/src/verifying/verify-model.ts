import path from 'node:path';
import { hashFiles, type HashingOptions } from '../hash/hash-model.js';
import { HashRecord, statFiles } from '../incremental/record.js';
import { everyFileRead, planReuse, summaryOf, type ReuseSummary } from '../incremental/reuse.js';
import type { VerifiedManifest } from '../statement/statement.js';
import { listNamedFiles } from '../walk/listed.js';
import { walkModel, type WalkOptions } from '../walk/walk.js';
import { ManifestChecker } from './checker.js';
import { readBundle, verifyBundle } from './verify-bundle.js';
import type { SignerInfo, Verifier } from './verifier.js';

/** Options for {@link verifyModel}. */
export interface VerifyModelOptions extends WalkOptions, Pick<HashingOptions, 'workers' | 'signal' | 'onProgress'> {
  /** Path of the signature (bundle) file. */
  signaturePath: string;
  verifier: Verifier;
  /** Tolerate files in the model that the signature does not list. Default false. */
  ignoreUnsignedFiles?: boolean;
  /**
   * Do not read files the local hash record proves unchanged since they were
   * hashed with the digest the signature lists. Trusts this machine's file
   * system timestamps and the record file; see docs/incremental.md. Default false.
   */
  trustCache?: boolean;
  /** Directory of the local hash records (written after every successful verification). Default: the user's cache directory. */
  cacheDir?: string;
}

/** A successful verification. */
export interface VerificationResult {
  manifest: VerifiedManifest;
  signer: SignerInfo;
  /** Model-relative paths of the files checked (read, or proven unchanged by the record with `trustCache`). */
  files: string[];
  /** How many files were read and how many taken from the record (`trustCache`). */
  reuse: ReuseSummary;
}

/**
 * Verifies a model on disk against its signature: checks the bundle, then
 * re-hashes the model with the recorded method, hash and shard size and
 * compares. Ignore paths recorded in the signature apply automatically, as
 * does the signature file when it lies inside the model.
 *
 * @throws {ModelSigningError} a bundle error, or {@link ManifestMismatchError}
 *   listing every changed, missing and unsigned file.
 */
export async function verifyModel(options: VerifyModelOptions): Promise<VerificationResult> {
  const bundle = await readBundle(options.signaturePath);
  const { manifest, signer } = await verifyBundle({ bundle, verifier: options.verifier });
  const root = path.resolve(options.modelPath);
  const ignorePaths = [...(options.ignorePaths ?? []), ...manifest.serialization.ignorePaths, path.resolve(options.signaturePath)];
  const walkOptions: WalkOptions = { ...options, ignorePaths };

  // Taken before any stat of the record: see statFiles.
  const statTimeMs = Date.now();
  const walked = await walkModel(walkOptions);
  if (walked.isSingleFile) aliasSingleFile(manifest, path.basename(root));
  const checker = new ManifestChecker(manifest, { ignoreUnsignedFiles: options.ignoreUnsignedFiles ?? false });
  let files = walked.files;
  if (options.ignoreUnsignedFiles && !walked.isSingleFile) {
    const listed = await listNamedFiles({
      root,
      names: checker.signedFiles,
      ignorePaths: walked.ignorePaths,
      allowSymlinks: options.allowSymlinks ?? false,
      ...(options.symlinkTargetRoot ? { symlinkTargetRoot: options.symlinkTargetRoot } : {}),
    });
    files = listed.files;
  }
  const snapshot = statFiles(files, statTimeMs);
  const location = { root, serialization: manifest.serialization, ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}) };
  const record = options.trustCache ? await HashRecord.open(location) : await HashRecord.locate(location);
  const reuse = options.trustCache
    ? planReuse({ files, snapshot, record, reference: manifest, ...(walked.isSingleFile ? { singleFileName: path.basename(root) } : {}) })
    : undefined;
  const resources = await hashFiles(files, manifest.serialization, reuse ? { ...options, knownDigests: reuse.known } : options);
  checker.compareAll(
    files.map((f) => f.name),
    resources,
  );
  // A trust-cache run that read nothing would only rewrite the same proofs.
  if (!reuse || reuse.rehashedFiles > 0) await record.save(snapshot, resources);
  return { manifest, signer, files: files.map((f) => f.name), reuse: reuse ? summaryOf(reuse) : everyFileRead(files) };
}

/**
 * A single-file model's resource is `.` for the reference but the file's
 * basename for the spec; accept both by renaming the basename form.
 */
function aliasSingleFile(manifest: VerifiedManifest, basename: string): void {
  const isShards = manifest.serialization.method === 'shards';
  manifest.resources = manifest.resources.map((r) => {
    if (!isShards) return r.name === basename ? { ...r, name: '.' } : r;
    const prefix = `${basename}:`;
    return r.name.startsWith(prefix) && /^\d+:\d+$/.test(r.name.slice(prefix.length)) ? { ...r, name: `.:${r.name.slice(prefix.length)}` } : r;
  });
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { hashFiles, type HashingOptions } from './hash/hash-model.js';
import { HashRecord, statFiles } from './incremental/record.js';
import { everyFileRead, planReuse, summaryOf, type ReuseSummary } from './incremental/reuse.js';
import { duplicateResource, type VerifiedManifest } from '../format/statement.js';
import { staysInside } from '../format/containment.js';
import { walkSelected, type WalkOptions } from './walk.js';
import { ManifestChecker } from '../format/checker.js';
import { readBundle, verifyBundle } from './verify-bundle.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';

/** Options for {@link verifyModel}. */
export interface VerifyModelOptions extends WalkOptions, Pick<HashingOptions, 'workers' | 'abortSignal' | 'signal' | 'onProgress'> {
  /** Path of the signature (bundle) file. */
  signaturePath: string;
  verifier: Verifier;
  /** Tolerate files in the model that the signature does not list. Default false. */
  ignoreUnsignedFiles?: boolean;
  /** Largest signature file read, in bytes (`BUNDLE_TOO_LARGE` above). Default 64 MiB (`DEFAULT_MAX_BUNDLE_BYTES`). */
  maxBundleBytes?: number;
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
  /**
   * Ignore paths the signature records that exist in this model: their bytes
   * were not checked, whatever they hold now (the signature file itself is
   * not listed). Empty for a single-file model.
   */
  notChecked: string[];
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
  const bundle = await readBundle(options.signaturePath, { maxBundleBytes: options.maxBundleBytes });
  const { manifest, signer } = await verifyBundle({ bundle, verifier: options.verifier });
  const root = path.resolve(options.modelPath);
  const ignorePaths = [...(options.ignorePaths ?? []), ...manifest.serialization.ignorePaths, path.resolve(options.signaturePath)];
  const walkOptions: WalkOptions = { ...options, ignorePaths };

  // Taken before any stat of the record: see statFiles.
  const statTimeMs = Date.now();
  const walked = await walkSelected(walkOptions, options.ignoreUnsignedFiles ? signedPaths(manifest) : undefined);
  if (walked.isSingleFile) aliasSingleFile(manifest, path.basename(root));
  const checker = new ManifestChecker(manifest, { ignoreUnsignedFiles: options.ignoreUnsignedFiles ?? false });
  // A single-file model is walked whole; drop it here if it is not the signed file.
  const files = options.ignoreUnsignedFiles ? walked.files.filter((f) => checker.isSigned(f.name)) : walked.files;
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
  const notChecked = walked.isSingleFile ? [] : await existingPaths(walked.root, manifest.serialization.ignorePaths, path.resolve(options.signaturePath));
  // A trust-cache run that read nothing would only rewrite the same proofs.
  if (!reuse || reuse.rehashedFiles > 0) await record.save(snapshot, resources);
  return { manifest, signer, files: files.map((f) => f.name), notChecked, reuse: reuse ? summaryOf(reuse) : everyFileRead(files) };
}

/** Which of `names` (model-relative) exist under `root`, leaving out `signaturePath`. */
async function existingPaths(root: string, names: readonly string[], signaturePath: string): Promise<string[]> {
  const exists = await Promise.all(
    names.map(async (name) => {
      // Recorded names are signed but still untrusted as paths: look only inside the model.
      if (!staysInside(name)) return false;
      const abs = path.join(root, ...name.split('/'));
      if (abs === signaturePath) return false;
      return fs.lstat(abs).then(
        () => true,
        () => false,
      );
    }),
  );
  return names.filter((_, i) => exists[i]);
}

/**
 * Selects the signed files and the folders on their way, so a walk that
 * tolerates unsigned files looks at nothing else.
 */
function signedPaths(manifest: VerifiedManifest): (rel: string) => boolean {
  const paths = new Set<string>();
  for (const file of new ManifestChecker(manifest).signedFiles) {
    const parts = file.split('/');
    for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join('/'));
  }
  return (rel) => paths.has(rel);
}

/**
 * A single-file model's resource is `.` for the reference but the file's
 * basename for the spec; accept both by renaming the basename form. A
 * manifest that names the file both ways lists it twice: refused, since
 * either digest could be the one that counts.
 *
 * @throws {ModelSigningError} `BAD_PAYLOAD`.
 */
function aliasSingleFile(manifest: VerifiedManifest, basename: string): void {
  const isShards = manifest.serialization.method === 'shards';
  const shardPrefix = `${basename}:`;
  const aliasOf = (name: string): string => {
    if (!isShards) return name === basename ? '.' : name;
    const range = name.slice(shardPrefix.length);
    return name.startsWith(shardPrefix) && /^\d+:\d+$/.test(range) ? `.:${range}` : name;
  };
  const seen = new Set<string>();
  manifest.resources = manifest.resources.map((r) => {
    const name = aliasOf(r.name);
    if (seen.has(name)) throw duplicateResource(name);
    seen.add(name);
    return name === r.name ? r : { ...r, name };
  });
}

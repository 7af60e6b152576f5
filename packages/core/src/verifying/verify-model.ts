import path from 'node:path';
import { hashFiles, type HashingOptions } from '../hash/hash-model.js';
import type { VerifiedManifest } from '../statement/statement.js';
import { listNamedFiles } from '../walk/listed.js';
import { walkModel, type WalkOptions } from '../walk/walk.js';
import { ManifestChecker } from './checker.js';
import { readBundle, verifyBundle } from './verify-bundle.js';
import type { SignerInfo, Verifier } from './verifier.js';

/** Options for {@link verifyModel}. */
export interface VerifyModelOptions extends WalkOptions, Pick<HashingOptions, 'workers' | 'abortSignal' | 'signal' | 'onProgress'> {
  /** Path of the signature (bundle) file. */
  signaturePath: string;
  verifier: Verifier;
  /** Tolerate files in the model that the signature does not list. Default false. */
  ignoreUnsignedFiles?: boolean;
}

/** A successful verification. */
export interface VerificationResult {
  manifest: VerifiedManifest;
  signer: SignerInfo;
  /** Model-relative paths of the files whose bytes were checked. */
  files: string[];
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
  const resources = await hashFiles(files, manifest.serialization, options);
  checker.compareAll(
    files.map((f) => f.name),
    resources,
  );
  return { manifest, signer, files: files.map((f) => f.name) };
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

import fs from 'node:fs/promises';
import path from 'node:path';
import type { HashingOptions } from './hash/hash-model.js';
import { HashRecord, StatCollector } from './incremental/record.js';
import { everyFileRead, planReuse, summaryOf, type ReuseSummary } from './incremental/reuse.js';
import type { VerifiedManifest } from '../format/verified-manifest.js';
import { staysInside } from '../format/containment.js';
import type { WalkOptions } from './walk.js';
import { openVerifiedModel } from './open-verified-model.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';
import type { SignatureSource } from '../claims/verify-signature-bytes.js';
import type { VerifiedClaim } from '../claims/claim.js';
import type { Policy } from '../policy/compile.js';
import type { ModelIdentity } from '../policy/identity.js';
import type { PolicyOutcome } from '../session/signature.js';

/** Options for {@link verifyModel}. */
export interface VerifyModelOptions extends WalkOptions, Pick<HashingOptions, 'workers' | 'abortSignal' | 'onProgress'> {
  /** Path of the signature (bundle) file. */
  signaturePath: string;
  /** Checks the signature and the signer. Give this or `policy`. */
  verifier?: Verifier;
  /**
   * A trust policy in place of `verifier`: its matching rule decides who must
   * sign and which claims must hold (docs/policy.md); refused with `POLICY_DENIED`.
   */
  policy?: Policy;
  /** With `policy`: how the model was addressed (a Hugging Face repo, a URL). Default: the model's real path. */
  model?: ModelIdentity;
  /**
   * A claims file read with a signature that is one bundle; its claims count
   * for a policy and are returned. Default: `claims.jsonl` beside the signature, if there is one.
   */
  claimsPath?: string;
  /** Largest claims file read beside the signature, in bytes. Default four times `maxBundleBytes`. */
  maxClaimsBytes?: number;
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
  /** Which signature verified: a bundle file, or which line of a claims file (`claims.jsonl`). */
  source: SignatureSource;
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
  /**
   * The claims about the model that verified: with a verifier, those it
   * accepts; with a policy, those that met the rule's claim requirements.
   */
  claims: VerifiedClaim[];
  /** With `policy`: the decision (the rule, each requirement) and every signer counted. */
  policy?: PolicyOutcome;
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
  const signaturePath = path.resolve(options.signaturePath);
  const signal = options.abortSignal;
  // Taken before the walk, whose one stat per file the record keeps (see StatCollector).
  const stats = new StatCollector(Date.now());
  const model = await openVerifiedModel({
    onFileStats: stats.onFileStats,
    modelPath: options.modelPath,
    signaturePath: options.signaturePath,
    ...(options.verifier ? { verifier: options.verifier } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.model ? { model: options.model } : {}),
    ...(options.claimsPath !== undefined ? { claimsPath: options.claimsPath } : {}),
    ...(options.maxClaimsBytes !== undefined ? { maxClaimsBytes: options.maxClaimsBytes } : {}),
    ...(options.ignorePaths !== undefined ? { ignorePaths: options.ignorePaths } : {}),
    ...(options.ignoreGitPaths !== undefined ? { ignoreGitPaths: options.ignoreGitPaths } : {}),
    ...(options.ignoreAttestationFiles !== undefined ? { ignoreAttestationFiles: options.ignoreAttestationFiles } : {}),
    ...(options.allowSymlinks !== undefined ? { allowSymlinks: options.allowSymlinks } : {}),
    ...(options.symlinkTargetRoot !== undefined ? { symlinkTargetRoot: options.symlinkTargetRoot } : {}),
    ...(options.ignoreUnsignedFiles !== undefined ? { ignoreUnsignedFiles: options.ignoreUnsignedFiles } : {}),
    ...(options.maxBundleBytes !== undefined ? { maxBundleBytes: options.maxBundleBytes } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(signal ? { abortSignal: signal } : {}),
  });
  const { manifest, signer, files } = model;
  const snapshot = stats.snapshot(files);
  const location = {
    root: model.root,
    serialization: manifest.serialization,
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  };
  const record = options.trustCache ? await HashRecord.open({ ...location, files }) : await HashRecord.locate(location);
  const reuse = options.trustCache
    ? planReuse({
        snapshot,
        record,
        reference: manifest,
        ...(model.isSingleFile ? { singleFileName: path.basename(model.root) } : {}),
      })
    : undefined;
  const { resources } = await model.finish({
    ...(reuse ? { knownDigests: reuse.known } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const notChecked = model.isSingleFile ? [] : await existingPaths(model.root, manifest.serialization.ignorePaths, signaturePath);
  // A trust-cache run that read nothing would only rewrite the same proofs.
  if (!reuse || reuse.rehashedFiles > 0) await record.save(snapshot, resources);
  return {
    manifest,
    signer,
    source: model.source,
    files: files.map((f) => f.name),
    notChecked,
    reuse: reuse ? summaryOf(reuse) : everyFileRead(files),
    claims: [...model.claims],
    ...(model.policy ? { policy: model.policy } : {}),
  };
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

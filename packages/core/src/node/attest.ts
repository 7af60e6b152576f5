// Attesting a model on disk: hash it as signing does, sign a claim about its
// root digest, and append the claim to a claims file.
import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import { createClaim } from '../claims/create-claim.js';
import type { SerializedBundle } from '../format/bundle.js';
import { rootDigest, sortResources, type Manifest } from '../format/manifest.js';
import type { Signer } from '../format/signer.js';
import { appendClaim, isClaimsPath, type AppendClaimOptions } from './append-claim.js';
import { hashModel, type HashModelOptions } from './hash/hash-model.js';
import { modelNameOf } from './paths.js';
import { refuseModelFileAsSignature } from './signature-path.js';

/** Options for {@link attest}. */
export interface AttestParams extends HashModelOptions {
  /** Signs the claim: any signer (key, certificate, Sigstore, PKCS#11, KMS). */
  signer: Signer;
  /** The claims file to append to (a `.jsonl` path, e.g. `claims.jsonl`); left out of the hashed files when inside the model. */
  claimsPath: string;
  /** The predicate type URI: model card (`https://cyclonedx.org/bom`), test result, SLSA provenance, or any other. */
  predicateType: string;
  /** The predicate (a JSON object), checked against its type's schema before anything is signed. */
  predicate: unknown;
  /**
   * The model's root digest when the caller already knows it (e.g. from the
   * signature just verified): the model is then not hashed.
   */
  rootDigest?: string;
  /** Give up waiting for another writer's lock on the claims file after this long (`LOCK_TIMEOUT`). Default 60 s. */
  lockTimeoutMs?: number;
  /** A lock not refreshed for this long belongs to a writer that died (kill -9) and is taken over. Default 10 s; at least 2 s. */
  lockStaleMs?: number;
}

/** The outcome of {@link attest}. */
export interface AttestResult {
  bundle: SerializedBundle;
  /** The subject: the model's name and root digest. */
  modelName: string;
  rootDigest: string;
  claimsPath: string;
  /** The claims file did not exist before. */
  created: boolean;
}

/** The root digest a signature of these resources carries: over their digests in code-point order of names. */
export function subjectDigest(manifest: Pick<Manifest, 'resources'>): string {
  return rootDigest(sortResources(manifest.resources));
}

/**
 * Appends a signed claim about a model to a claims file: hashes the model
 * exactly as signing does (same walk, ignore rules and hashing options, so
 * the subject is the root digest its OMS signature carries), checks the
 * predicate against its schema, signs, and appends one line atomically
 * (`appendClaim`). Nothing is written unless every step succeeds. Use the
 * same hashing options as the model's signature (`method`, `hashAlgorithm`,
 * `shardSize`), or the subjects will differ.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` (a claims path that is not
 *   `.jsonl`, or is a model file), `PREDICATE_INVALID`, walk and hashing
 *   errors, signer errors, `LOCK_TIMEOUT`, `WRITE_FAILED`, `ABORTED`.
 */
export async function attest(params: AttestParams): Promise<AttestResult> {
  const { claimsPath, signer, predicateType, predicate, lockTimeoutMs, lockStaleMs, ...hashing } = params;
  if (!isClaimsPath(claimsPath)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      path: claimsPath,
      message: `Claims are appended to a JSON Lines file ending in .jsonl (e.g. claims.jsonl), not '${claimsPath}'`,
    });
  }
  await refuseModelFileAsSignature(params.modelPath, claimsPath);
  let digest = params.rootDigest;
  let modelName: string;
  if (digest === undefined) {
    const manifest = await hashModel({ ...hashing, ignorePaths: [...(params.ignorePaths ?? []), path.resolve(claimsPath)] });
    if (manifest.resources.length === 0) {
      throw new ModelSigningError({ code: 'EMPTY_MODEL', message: 'The model has no file to attest once ignored paths are excluded' });
    }
    digest = subjectDigest(manifest);
    modelName = manifest.modelName;
  } else {
    modelName = modelNameOf(params.modelPath);
  }
  const bundle = await createClaim({
    subject: { name: modelName, rootDigest: digest },
    predicateType,
    predicate,
    signer,
    ...cancellation(params),
  });
  const appendOptions: AppendClaimOptions = { ...cancellation(params) };
  if (lockTimeoutMs !== undefined) appendOptions.lockTimeoutMs = lockTimeoutMs;
  if (lockStaleMs !== undefined) appendOptions.lockStaleMs = lockStaleMs;
  const { created } = await appendClaim(claimsPath, bundle, appendOptions);
  return { bundle, modelName, rootDigest: digest.toLowerCase(), claimsPath, created };
}

function cancellation(params: AttestParams): { abortSignal?: AbortSignal } {
  return params.abortSignal ? { abortSignal: params.abortSignal } : {};
}

// The one signing path: walk → settings → hash → sign. signModel and the
// adapters (ONNX, TF.js, the Hugging Face upload) all call it; it walks and
// hashes through the Node engine, so it lives in the Node layer.
import { ModelSigningError } from '../errors.js';
import type { SerializedBundle } from '../format/bundle.js';
import { hashBytes } from '../format/hash-algorithms.js';
import {
  resourceAlgorithm,
  shardName,
  shardRanges,
  sortResources,
  type Manifest,
  type ManifestResource,
  type Serialization,
} from '../format/manifest.js';
import type { Signer } from '../format/signer.js';
import { PAYLOAD_TYPE, manifestToPayload } from '../format/statement.js';
import { CLAIMS_FILE_NAME } from '../format/attestation-files.js';
import { signPayload, type SignPayloadOptions } from '../format/bundle-builder.js';
import { requestTimestamp, type TimestampAuthorityOptions } from '../methods/timestamp/request-timestamp.js';
import { hashFiles, resolveSerialization, type HashingOptions } from './hash/hash-model.js';
import { walkModel, type WalkedModel, type WalkOptions } from './walk.js';

/** Options for {@link signManifest}. */
export interface SignManifestOptions {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  manifest: Manifest;
  signer: Signer;
  /**
   * Timestamp the signature with this RFC 3161 timestamp authority (key,
   * certificate, PKCS#11 and KMS signers): the bundle then proves when it
   * was signed, so a certificate signature still verifies after the
   * certificate expires (see docs/timestamps.md). Signing fails, and nothing
   * is returned, when the TSA does not answer with a valid timestamp.
   */
  timestampAuthority?: TimestampAuthorityOptions;
}

/**
 * Signs a manifest the caller already computed (e.g. while writing the files).
 *
 * @throws {ModelSigningError} `EMPTY_MODEL` when the manifest lists nothing;
 *   signer errors; with `timestampAuthority`, `NETWORK_ERROR`, `TIMESTAMP_INVALID`
 *   and `INVALID_ARGUMENT` (a keyless signer, or a URL that is not http(s)).
 */
export async function signManifest(options: SignManifestOptions): Promise<SerializedBundle> {
  if (options.manifest.resources.length === 0) {
    throw new ModelSigningError({
      code: 'EMPTY_MODEL',
      message: 'The model has no file to sign once ignored paths are excluded (the OMS spec forbids signing an empty model)',
    });
  }
  const request: SignPayloadOptions = { payload: manifestToPayload(options.manifest), payloadType: PAYLOAD_TYPE, signer: options.signer };
  if (options.abortSignal) request.abortSignal = options.abortSignal;
  const tsa = options.timestampAuthority;
  if (tsa)
    request.timestamp = async (signature, { abortSignal }) =>
      (await requestTimestamp({ ...tsa, signature, ...(abortSignal ? { abortSignal } : {}) })).token;
  return signPayload(request);
}

/** The model's files as bytes in memory, signed without reading the disk (e.g. before they are written). */
export interface InMemoryModel {
  /** File contents by model-relative POSIX name. */
  files: ReadonlyMap<string, Uint8Array>;
  /** The subject name. */
  modelName: string;
  /** Ignore paths to record in the signature (model-relative); `claims.jsonl` is always added, as the walk adds it. */
  ignorePaths: readonly string[];
}

/** Options for {@link createSignature}: what to sign (exactly one of `walk`, `walked`, `inMemory`) and how. */
export interface CreateSignatureParams extends HashingOptions, Pick<SignManifestOptions, 'timestampAuthority'> {
  signer: Signer;
  /** A model on disk: walked here with these options. */
  walk?: WalkOptions;
  /** A model already walked (e.g. by incremental re-signing); `allowSymlinks` is recorded as given. */
  walked?: WalkedModel;
  /** A model in memory: hashed from these bytes. */
  inMemory?: InMemoryModel;
  /** Recorded in the signature's settings when the model was not walked here. Default false. */
  allowSymlinks?: boolean;
  /** With `walked`: settings already resolved (incremental re-signing takes them from the previous signature). */
  serialization?: Serialization;
  /** Digests already proven for some walked files (name → digests); those files are not read. */
  knownDigests?: ReadonlyMap<string, readonly string[]>;
  /** The subject name, instead of the model path's last component (e.g. when signing a staging copy). */
  modelName?: string;
  /**
   * Called after the walk and before any file is hashed: to refuse a layout,
   * record file stats, or open the files that will be uploaded.
   */
  onWalked?: (walked: WalkedModel, serialization: Serialization) => void | Promise<void>;
  /** Called once every file is hashed, before the signer is asked (which may take long: Sigstore asks for a token). */
  onSigning?: () => void;
}

/** The outcome of {@link createSignature}. */
export interface CreatedSignature {
  manifest: Manifest;
  bundle: SerializedBundle;
  /** The files signed, when the model was on disk. */
  walked?: WalkedModel;
}

/**
 * Signs a model: walks it (or takes the walked files, or bytes in memory),
 * resolves the settings, hashes every file with the worker-thread engine
 * (in memory: on the calling thread) and signs the manifest. Nothing is
 * written: the caller decides where the bundle goes.
 *
 * @throws {ModelSigningError} walk and hashing errors, `INVALID_ARGUMENT`,
 *   `EMPTY_MODEL`, signer errors, `ABORTED`; with `timestampAuthority`,
 *   `NETWORK_ERROR` and `TIMESTAMP_INVALID`.
 */
export async function createSignature(params: CreateSignatureParams): Promise<CreatedSignature> {
  const sources = [params.walk, params.walked, params.inMemory].filter((s) => s !== undefined).length;
  if (sources !== 1) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'createSignature signs exactly one of walk, walked and inMemory' });
  }
  const signal = params.abortSignal;
  const sign = async (manifest: Manifest) => {
    params.onSigning?.();
    const options: SignManifestOptions = { manifest, signer: params.signer };
    if (signal) options.abortSignal = signal;
    if (params.timestampAuthority) options.timestampAuthority = params.timestampAuthority;
    return { manifest, bundle: await signManifest(options) };
  };
  if (params.inMemory) {
    const { files, modelName, ignorePaths } = params.inMemory;
    // As the walk records it for a model on disk: a claims file added beside the model later is never part of it.
    const serialization = resolveSerialization(params, [...new Set([...ignorePaths, CLAIMS_FILE_NAME])].sort());
    return sign({ modelName: params.modelName ?? modelName, serialization, resources: resourcesOfBytes(files, serialization) });
  }
  const walked = params.walked ?? (await walkModel(params.walk!));
  const serialization =
    params.serialization ??
    resolveSerialization({ ...params, allowSymlinks: params.walk?.allowSymlinks ?? params.allowSymlinks ?? false }, walked.ignorePaths);
  await params.onWalked?.(walked, serialization);
  const resources = await hashFiles(
    walked.files,
    serialization,
    params.knownDigests ? { ...params, knownDigests: params.knownDigests } : params,
  );
  return { ...(await sign({ modelName: params.modelName ?? walked.modelName, serialization, resources })), walked };
}

/** Digests of files held in memory, in signing order. */
function resourcesOfBytes(files: ReadonlyMap<string, Uint8Array>, serialization: Serialization): ManifestResource[] {
  const algorithm = resourceAlgorithm(serialization);
  const resources: ManifestResource[] = [];
  for (const [name, data] of files) {
    if (serialization.method === 'files') {
      resources.push({ name, algorithm, digest: hashBytes(serialization.hashType, data) });
      continue;
    }
    for (const range of shardRanges(name, data.length, serialization.shardSize!)) {
      resources.push({
        name: shardName(range),
        algorithm,
        digest: hashBytes(serialization.hashType, data.subarray(range.start, range.end)),
      });
    }
  }
  return sortResources(resources);
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError, type Manifest, type SerializedBundle, type Signer, type TimestampAuthorityOptions } from '@model-signing/core';
import { PREDICATE_TYPE, serializeBundle } from '@model-signing/core/internal';
import { createSignature } from '@model-signing/core/internal/node';
import {
  MAX_MANIFEST_BYTES,
  manifestFileStem,
  modelFiles,
  parseImageManifest,
  type Descriptor,
  type ImageManifest,
  type OciModelFile,
} from './image-manifest.js';
import { OciSource } from './oci-source.js';
import { parseOciReference, repositoryName } from './reference.js';
import { pushSignature, type PushedSignature } from './referrers.js';
import { RegistryClient, sha256Digest, type RegistryParams } from './registry.js';

/** Parameters of {@link signOciManifest}: the manifest (exactly one of `manifestPath`, `manifestBytes`, `reference`) and how to sign it. */
export interface SignOciManifestParams extends RegistryParams {
  /** A manifest file, as `oras manifest fetch` or `skopeo inspect --raw` print it. The subject is named after the file (`oci-manifest.json` → `oci-manifest`), as the Go port names it. */
  manifestPath?: string;
  /** A manifest's bytes. The subject is named `modelName`, else as the Go port does: the manifest's `org.opencontainers.image.name` (or `.base.name`) annotation, else `oci-image`. */
  manifestBytes?: Uint8Array;
  /** A registry reference, `oci://host/repository[:tag][@sha256:…]`: the manifest is fetched (no layer is), and the subject named after the repository's last component. */
  reference?: string;
  signer: Signer;
  /** The subject name instead of the default above (informational; never compared). */
  modelName?: string;
  /** Sign the config blob too, as `config.json` (the Go port's `includeConfig`). Default false: `oras pull` does not write it. */
  includeConfig?: boolean;
  /** Layer names to leave out (a folder covers its subtree); recorded in the signature, so verifying a pulled folder leaves them out too. */
  ignorePaths?: readonly string[];
  /** Timestamp the signature with this RFC 3161 authority (key and certificate signers; docs/timestamps.md). */
  timestampAuthority?: TimestampAuthorityOptions;
  /**
   * With `reference`: store the signature in the registry as an OCI 1.1
   * artifact referring to the manifest (see {@link pushSignature}). Default true.
   */
  push?: boolean;
  onProgress?: (progress: SignOciProgress) => void;
}

/** Progress of {@link signOciManifest}. */
export type SignOciProgress =
  /** The manifest was read: `files` layers (and the config) to sign, `totalBytes` in all, none downloaded. */
  | { phase: 'manifest-read'; digest: string; files: number; totalBytes: number }
  /** The signer is asked (Sigstore may open a browser). */
  | { phase: 'signing' }
  /** The signature is stored in the registry. */
  | { phase: 'signature-pushed'; pushed: PushedSignature };

/** The outcome of {@link signOciManifest}. */
export interface SignOciManifestResult {
  bundle: SerializedBundle;
  /** What was signed: one resource per layer. */
  manifest: Manifest;
  /** The model's files as named in the signature, with the layers they are. */
  files: OciModelFile[];
  /** The signed OCI manifest as a descriptor: its digest is that of its exact bytes. */
  subject: Descriptor;
  /** With `reference`: the manifest pinned by digest, `oci://host/repository[:tag]@sha256:…`. */
  reference?: string;
  /** Where the signature was stored in the registry, when it was pushed. */
  pushed?: PushedSignature;
}

/**
 * Signs a model stored in an OCI registry from its image manifest alone:
 * each layer becomes a file of the model, named as the Go port names it
 * (the `org.opencontainers.image.title` annotation, else `layer_NNN.tar.gz`;
 * the config as `config.json` only with `includeConfig`), with the layer's
 * sha256 digest from the manifest. No layer is downloaded. The signature
 * verifies the folder `oras pull` writes, with this library, the reference
 * (Python `model_signing`) and the Go port.
 *
 * From a `reference`, the signature is also stored in the registry (unless
 * `push` is false), where {@link verifyOciModel} and
 * {@link pullVerifiedModel} find it. Nothing is written locally: the caller
 * decides where the bundle goes.
 *
 * @throws {ModelSigningError} `OCI_MANIFEST_INVALID`, `UNSUPPORTED_DIGEST`,
 *   `PATH_ESCAPE`, `EMPTY_MODEL` (the manifest); `INVALID_ARGUMENT` (options:
 *   an OCI manifest gives sha256 digests of whole files, so only the
 *   `files` method and sha256 fit); `NOT_FOUND`, `ACCESS_DENIED`,
 *   `NETWORK_ERROR` (the registry); signer errors; `ABORTED`.
 */
export async function signOciManifest(params: SignOciManifestParams): Promise<SignOciManifestResult> {
  const given = [params.manifestPath, params.manifestBytes, params.reference].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'signOciManifest signs exactly one of manifestPath, manifestBytes and reference',
    });
  }
  let manifest: ImageManifest;
  let subject: Descriptor;
  let modelName: string;
  let client: RegistryClient | undefined;
  let reference: string | undefined;
  if (params.reference !== undefined) {
    const ref = parseOciReference(params.reference);
    client = new RegistryClient(ref, params);
    const resolved = await new OciSource(client).resolve();
    ({ manifest, subject, reference } = resolved);
    modelName = repositoryName(ref);
  } else {
    const what = params.manifestPath !== undefined ? `'${params.manifestPath}'` : 'The manifest';
    const bytes = params.manifestBytes ?? (await readManifestFile(params.manifestPath!));
    manifest = parseImageManifest(bytes, what);
    subject = { mediaType: manifest.mediaType, digest: sha256Digest(bytes), size: bytes.length };
    modelName =
      params.manifestPath !== undefined
        ? manifestFileStem(path.basename(params.manifestPath))
        : (manifest.annotations?.['org.opencontainers.image.name'] ??
          manifest.annotations?.['org.opencontainers.image.base.name'] ??
          'oci-image');
  }
  const ignorePaths = params.ignorePaths ?? [];
  const files = modelFiles(manifest, { includeConfig: params.includeConfig ?? false, ignorePaths });
  params.onProgress?.({
    phase: 'manifest-read',
    digest: subject.digest,
    files: files.length,
    totalBytes: files.reduce((n, f) => n + f.size, 0),
  });
  const created = await createSignature({
    signer: params.signer,
    precomputed: { digests: new Map(files.map((f) => [f.name, f.sha256])), modelName: params.modelName ?? modelName, ignorePaths },
    ...(params.timestampAuthority ? { timestampAuthority: params.timestampAuthority } : {}),
    ...(params.abortSignal ? { abortSignal: params.abortSignal } : {}),
    onSigning: () => params.onProgress?.({ phase: 'signing' }),
  });
  const result: SignOciManifestResult = { bundle: created.bundle, manifest: created.manifest, files, subject };
  if (reference !== undefined) result.reference = reference;
  if (client && (params.push ?? true)) {
    result.pushed = await pushSignature(client, subject, new TextEncoder().encode(serializeBundle(created.bundle)), PREDICATE_TYPE);
    params.onProgress?.({ phase: 'signature-pushed', pushed: result.pushed });
  }
  return result;
}

/** A manifest file's bytes, at most what a manifest may have. */
export async function readManifestFile(file: string): Promise<Uint8Array> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (cause) {
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: file,
      cause,
      message: `Cannot read the manifest '${file}': ${(cause as Error).message}`,
    });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_MANIFEST_BYTES) {
      throw new ModelSigningError({
        code: 'OCI_MANIFEST_INVALID',
        path: file,
        message: `'${file}' is not an OCI image manifest: ${stat.isFile() ? `it has ${stat.size} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have` : 'not a regular file'}`,
      });
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

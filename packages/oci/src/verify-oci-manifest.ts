import { ModelSigningError, openVerifiedSession, type ModelSource } from '@model-signing/core';
import { outcomeOf, type TrustOptions, type VerificationOutcome } from '@model-signing/core/internal';
import { signatureFile } from '@model-signing/core/internal/node';
import { parseImageManifest, type Descriptor, type OciModelFile } from './image-manifest.js';
import { layerListing } from './listing.js';
import { claimsFile } from './oci-source.js';
import { sha256Digest } from './registry.js';
import { readManifestFile } from './sign-oci-manifest.js';

/**
 * Parameters of {@link verifyOciManifest}: the manifest (exactly one of
 * `manifestPath`, `manifestBytes`) and its signature. With `policy`, `model`
 * is required: the identity its rules match, as the manifest was addressed
 * (`{ kind: 'oci', reference: 'registry/repository:tag@sha256:…' }`), since
 * a manifest file does not say where it came from.
 */
export interface VerifyOciManifestParams extends TrustOptions {
  /** A manifest file, as `oras manifest fetch` or `skopeo inspect --raw` print it. */
  manifestPath?: string;
  /** A manifest's bytes. */
  manifestBytes?: Uint8Array;
  /** The signature file (a bundle, or a claims file). */
  signaturePath: string;
  /** The claims file read with the signature. Default `claims.jsonl` beside `signaturePath` when there is one; `false`: none. */
  claimsPath?: string | false;
  /** Largest claims file read, in bytes (`BUNDLE_TOO_LARGE` above). Default four times `maxBundleBytes`. */
  maxClaimsBytes?: number;
  /** Tolerate layers the signature does not cover. Default false. */
  ignoreUnsignedFiles?: boolean;
  /** Leave layers named like signature and attestation files (`claims.jsonl`, `*.sig`, `*.sigstore.json`) out unless signed. Default true. */
  ignoreAttestationFiles?: boolean;
  /** The most bytes read of the signature before it is checked. Default 64 MiB. */
  maxBundleBytes?: number;
}

/** The outcome of {@link verifyOciManifest}: its `source` is one bundle, or which line of a claims file. */
export interface VerifyOciManifestResult extends VerificationOutcome {
  /** The OCI manifest as a descriptor (the digest of its exact bytes). */
  subject: Descriptor;
  /** The layers whose digests matched the signature (model-relative names, sorted). */
  files: string[];
  /** Layers left out: under the signature's ignore paths, or unsigned and tolerated. */
  notChecked: string[];
}

/**
 * Checks a signature against an OCI image manifest, as the Go port and the
 * reference's PR #623 verify one: the signature, then every layer (named
 * as signing names it) present with the digest the manifest lists, no
 * unsigned one, nothing missing. No layer byte is read: this proves what
 * the manifest lists, and a registry serving that manifest by its digest
 * serves those bytes; verifying the pulled files (or a verified pull) proves the bytes.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` under a `policy`: which rule, which requirement, why.
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for both or neither of
 *   `verifier` and `policy`, or a policy without `model`; the signature's errors; {@link ManifestMismatchError}
 *   (`DIGEST_MISMATCH`, `MISSING_FILE`, `UNSIGNED_FILE`); `OCI_MANIFEST_INVALID`;
 *   `UNSUPPORTED_DIGEST` for a manifest with other digests than sha256, or a
 *   signature whose digests are not whole-file sha256 (nothing in a manifest to compare them with).
 */
export async function verifyOciManifest(params: VerifyOciManifestParams): Promise<VerifyOciManifestResult> {
  if ((params.manifestPath === undefined) === (params.manifestBytes === undefined)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'verifyOciManifest checks exactly one of manifestPath and manifestBytes',
    });
  }
  const bytes = params.manifestBytes ?? (await readManifestFile(params.manifestPath!));
  const image = parseImageManifest(bytes, params.manifestPath !== undefined ? `'${params.manifestPath}'` : 'The manifest');
  // The session's rules with a source that lists the manifest's layers and has no bytes: the signature
  // read bounded and judged, then the listing compared (missing, unsigned, a digest that is not the signed one).
  let listed: OciModelFile[] = [];
  const source: ModelSource = {
    location: params.manifestPath ?? 'the manifest',
    signatureLocation: params.signaturePath,
    signature: () => signatureFile(params.signaturePath),
    list: (scope) => {
      listed = layerListing(image, scope.signedFiles);
      return Promise.resolve({ files: listed.map(({ name, size, sha256 }) => ({ name, size, sha256 })) });
    },
    open: () => Promise.resolve(undefined),
    claims: () => claimsFile(params.signaturePath, params.claimsPath),
  };
  const session = await openVerifiedSession({
    source,
    ...(params.verifier ? { verifier: params.verifier } : {}),
    ...(params.policy ? { policy: params.policy } : {}),
    ...(params.model ? { model: params.model } : {}),
    ...(params.maxBundleBytes !== undefined ? { maxBundleBytes: params.maxBundleBytes } : {}),
    ...(params.maxClaimsBytes !== undefined ? { maxClaimsBytes: params.maxClaimsBytes } : {}),
    ...(params.ignoreUnsignedFiles !== undefined ? { ignoreUnsignedFiles: params.ignoreUnsignedFiles } : {}),
    ...(params.ignoreAttestationFiles !== undefined ? { ignoreAttestationFiles: params.ignoreAttestationFiles } : {}),
  });
  const { method, hashType } = session.manifest.serialization;
  if (method !== 'files' || hashType !== 'sha256') {
    throw new ModelSigningError({
      code: 'UNSUPPORTED_DIGEST',
      path: params.signaturePath,
      message: `The signature holds ${method === 'files' ? hashType : `${hashType} shard`} digests; an OCI manifest lists the sha256 of whole layers, so it cannot be checked against them: pull the model and verify the files`,
    });
  }
  session.checkListing();
  const files = new Set((session.files ?? []).map((f) => f.name));
  return {
    ...outcomeOf(session),
    subject: { mediaType: image.mediaType, digest: sha256Digest(bytes), size: bytes.length },
    files: [...files].sort(),
    notChecked: listed
      .map((f) => f.name)
      .filter((name) => !files.has(name))
      .sort(),
  };
}

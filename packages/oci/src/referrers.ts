// The signature stored beside the model in its registry, as cosign stores
// Sigstore bundles (cosign's specs/BUNDLE_SPEC.md): the bundle as a blob, in
// an OCI 1.1 artifact manifest (artifactType
// `application/vnd.dev.sigstore.bundle.v0.3+json`, the empty config) whose
// `subject` is the signed manifest; found again through the referrers API,
// or the referrers tag `sha256-<hex>` on registries without it.
import { ModelSigningError } from '@model-signing/core';
import { BUNDLE_MEDIA_TYPE, isSignaturePredicate } from '@model-signing/core/internal';
import { OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST, TITLE_ANNOTATION, type Descriptor } from './image-manifest.js';
import { sha256Digest, type RegistryClient } from './registry.js';

/** The artifact type of a Sigstore bundle in a registry: the bundle's own media type, as cosign writes it. */
export const SIGSTORE_BUNDLE_ARTIFACT_TYPE = BUNDLE_MEDIA_TYPE;
/** The OCI empty descriptor, the config of an artifact that needs none. */
export const EMPTY_CONFIG: Descriptor = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
};
const EMPTY_CONFIG_BYTES = new TextEncoder().encode('{}');
/** Annotations cosign puts on bundle artifacts, which registries copy into the referrers index. */
const CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
const PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
const CREATED_ANNOTATION = 'org.opencontainers.image.created';
/** The most signature artifacts of one manifest looked at, newest first. */
export const MAX_SIGNATURE_REFERRERS = 16;

/** Where a pushed signature went. */
export interface PushedSignature {
  /** The digest of the artifact manifest that holds the signature. */
  digest: string;
  /** `true` when the registry recorded the subject for its referrers API (it answered `OCI-Subject`). */
  referrersApi: boolean;
  /** The referrers tag updated for registries without the API (`sha256-<hex>`). */
  fallbackTag?: string;
}

/** The referrers tag of a manifest: its digest with `-` for `:`, the distribution spec's tag schema. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

/**
 * Stores a signature in the registry as an artifact referring to `subject`:
 * the bundle blob, the empty config, and the artifact manifest, pushed by
 * its digest. A registry that does not confirm the subject (`OCI-Subject`)
 * gets the referrers tag too, an index listing this artifact beside any
 * already there.
 *
 * @throws {ModelSigningError} `ACCESS_DENIED`, `NETWORK_ERROR`, `NOT_FOUND`, `ABORTED`.
 */
export async function pushSignature(
  client: RegistryClient,
  subject: Descriptor,
  bundleBytes: Uint8Array,
  predicateType: string,
  created = new Date(),
): Promise<PushedSignature> {
  const bundleDigest = sha256Digest(bundleBytes);
  const annotations = {
    [CONTENT_ANNOTATION]: 'dsse-envelope',
    [PREDICATE_ANNOTATION]: predicateType,
    [CREATED_ANNOTATION]: created.toISOString(),
  };
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST,
      artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE,
      config: EMPTY_CONFIG,
      layers: [
        {
          mediaType: SIGSTORE_BUNDLE_ARTIFACT_TYPE,
          digest: bundleDigest,
          size: bundleBytes.length,
          annotations: { [TITLE_ANNOTATION]: `${referrersTag(bundleDigest)}.sigstore.json` },
        },
      ],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  const digest = sha256Digest(manifest);
  await client.pushBlob(EMPTY_CONFIG_BYTES, EMPTY_CONFIG.digest);
  await client.pushBlob(bundleBytes, bundleDigest);
  const { subjectRecorded } = await client.pushManifest(digest, manifest, OCI_IMAGE_MANIFEST);
  if (subjectRecorded) return { digest, referrersApi: true };
  // The distribution spec's fallback: the referrers tag holds an index of the subject's referrers.
  const fallbackTag = referrersTag(subject.digest);
  const existing = await client.manifestIfAny(fallbackTag);
  const listed = existing ? indexEntries(existing.bytes, `The referrers tag ${fallbackTag} of ${client.label}`) : [];
  if (!listed.some((d) => d.digest === digest)) {
    listed.push({ mediaType: OCI_IMAGE_MANIFEST, digest, size: manifest.length, artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE, annotations });
  }
  const index = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: listed }));
  await client.pushManifest(fallbackTag, index, OCI_IMAGE_INDEX);
  return { digest, referrersApi: false, fallbackTag };
}

/** A signature found in the registry. */
export interface StoredSignature {
  /** The bundle's bytes, as stored (their digest checked). */
  bytes: Uint8Array;
  /** The artifact manifest that holds it. */
  digest: string;
  /** When it was made, as its annotation says (not verified). */
  created?: string;
}

/** A signature artifact of the manifest that could not be read, and why. */
export interface UnreadSignature {
  /** The artifact manifest that holds it. */
  digest: string;
  /** When it was made, as its annotation says (not verified). */
  created?: string;
  error: ModelSigningError;
}

/** What {@link findSignatures} found: the signatures read, newest first, and those it could not read. */
export interface FoundSignatures {
  read: StoredSignature[];
  unread: UnreadSignature[];
}

/**
 * The OMS signatures stored for a manifest, newest first (at most
 * {@link MAX_SIGNATURE_REFERRERS}): the referrers API's index, else the
 * referrers tag's; artifacts of the Sigstore bundle type whose predicate is
 * an OMS signature (cosign's image signatures and attestations are passed
 * over), whose manifest names `subjectDigest` as its subject. Nothing here
 * is trusted: each bundle is verified by the caller.
 *
 * Anyone who may push to the repository may add artifacts, so one that
 * cannot be read (over the limit, its blob missing or other bytes) is set
 * aside with its error and the others are still read: junk must not hide a
 * genuine signature. The bytes read together, one more per signature (the
 * line each takes in a claims layout), stay within `maxBundleBytes`: a
 * signature that would go over is set aside too, its blob not downloaded
 * when its listed size says so.
 *
 * @throws {ModelSigningError} `OCI_MANIFEST_INVALID` (the referrers index),
 *   `ACCESS_DENIED`, `NETWORK_ERROR` (reading the index), `ABORTED`.
 */
export async function findSignatures(client: RegistryClient, subjectDigest: string, maxBundleBytes: number): Promise<FoundSignatures> {
  const index =
    (await client.referrers(subjectDigest, SIGSTORE_BUNDLE_ARTIFACT_TYPE)) ??
    (await client.manifestIfAny(referrersTag(subjectDigest)))?.bytes;
  if (!index) return { read: [], unread: [] };
  // Some registries (go-containerregistry's) list an artifact under its config's media type instead of its artifactType: those are read to see.
  const maybeBundle = (d: Descriptor) =>
    d.mediaType === OCI_IMAGE_MANIFEST &&
    (d.artifactType === undefined || d.artifactType === SIGSTORE_BUNDLE_ARTIFACT_TYPE || d.artifactType === EMPTY_CONFIG.mediaType) &&
    (d.annotations?.[PREDICATE_ANNOTATION] === undefined || isSignaturePredicate(d.annotations[PREDICATE_ANNOTATION]));
  const candidates = indexEntries(index, `The referrers of ${client.label}`)
    .filter(maybeBundle)
    .sort((a, b) => (b.annotations?.[CREATED_ANNOTATION] ?? '').localeCompare(a.annotations?.[CREATED_ANNOTATION] ?? ''))
    .slice(0, MAX_SIGNATURE_REFERRERS);
  const found: FoundSignatures = { read: [], unread: [] };
  // Several signatures go to the session as the lines of one claims layout, each followed by a newline, within maxBundleBytes.
  let used = 0;
  for (const candidate of candidates) {
    const createdAnnotation = candidate.annotations?.[CREATED_ANNOTATION];
    const created = createdAnnotation !== undefined ? { created: createdAnnotation } : {};
    try {
      const artifact = await client.manifestIfAny(candidate.digest);
      if (!artifact) continue;
      const layer = bundleLayer(artifact.bytes, subjectDigest);
      if (!layer) continue;
      const name = `the signature ${candidate.digest}`;
      const limit = found.read.length === 0 ? maxBundleBytes : maxBundleBytes - used - 1;
      const bytes = await client.blobBytes(layer, name, limit, (size) =>
        limit < maxBundleBytes && size <= maxBundleBytes
          ? new ModelSigningError({
              code: 'BUNDLE_TOO_LARGE',
              path: name,
              message: `The signature stored as ${candidate.digest} in ${client.label} is ${size} bytes, more than the ${limit} bytes left of the limit of ${maxBundleBytes} bytes read for all the stored signatures together (maxBundleBytes)`,
            })
          : new ModelSigningError({
              code: 'BUNDLE_TOO_LARGE',
              path: name,
              message: `The signature stored as ${candidate.digest} in ${client.label} is ${size} bytes, over the limit of ${maxBundleBytes} bytes read before a signature is checked (maxBundleBytes)`,
            }),
      );
      used += bytes.length + 1;
      found.read.push({ bytes, digest: candidate.digest, ...created });
    } catch (error) {
      if (!(error instanceof ModelSigningError) || error.code === 'ABORTED') throw error;
      found.unread.push({ digest: candidate.digest, ...created, error });
    }
  }
  return found;
}

/** The bundle layer of an artifact manifest, if it is a Sigstore bundle artifact about `subjectDigest`. */
function bundleLayer(bytes: Uint8Array, subjectDigest: string): Descriptor | undefined {
  let json: { artifactType?: unknown; subject?: { digest?: unknown }; layers?: unknown };
  try {
    json = JSON.parse(new TextDecoder().decode(bytes)) as typeof json;
  } catch {
    return undefined;
  }
  if (json.artifactType !== SIGSTORE_BUNDLE_ARTIFACT_TYPE || json.subject?.digest !== subjectDigest || !Array.isArray(json.layers))
    return undefined;
  const layers = (json.layers as unknown[]).filter(
    (l): l is Descriptor =>
      typeof l === 'object' &&
      l !== null &&
      (l as Descriptor).mediaType === SIGSTORE_BUNDLE_ARTIFACT_TYPE &&
      typeof (l as Descriptor).digest === 'string' &&
      /^sha256:[a-f0-9]{64}$/.test((l as Descriptor).digest) &&
      Number.isSafeInteger((l as Descriptor).size),
  );
  return layers.length === 1 ? layers[0] : undefined;
}

/**
 * The descriptors an image index lists.
 *
 * @throws {ModelSigningError} `OCI_MANIFEST_INVALID` for anything but an index.
 */
function indexEntries(bytes: Uint8Array, what: string): Descriptor[] {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    json = undefined;
  }
  const manifests = (json as { manifests?: unknown } | undefined)?.manifests;
  if (!Array.isArray(manifests)) throw new ModelSigningError({ code: 'OCI_MANIFEST_INVALID', message: `${what} is not an image index` });
  return manifests.filter(
    (d): d is Descriptor =>
      typeof d === 'object' &&
      d !== null &&
      typeof (d as Descriptor).digest === 'string' &&
      typeof (d as Descriptor).mediaType === 'string',
  );
}

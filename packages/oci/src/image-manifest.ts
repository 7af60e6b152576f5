// An OCI image manifest read as a model: which files it
// holds, under which names, with which digests, named as the Go port
// (sampras343/model-transparency-go, pkg/oci/manifest.go) and the
// reference's PR #623 name them, so a signature made from the manifest
// verifies the folder `oras pull` writes and interoperates with theirs.
import { ModelSigningError } from '@model-signing/core';
import { normalizeModelPath } from '@model-signing/core/internal';

/** `application/vnd.oci.image.manifest.v1+json`. */
export const OCI_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** `application/vnd.oci.image.index.v1+json`. */
export const OCI_IMAGE_INDEX = 'application/vnd.oci.image.index.v1+json';
/** Docker's schema 2 manifest, which `skopeo inspect --raw` prints for images pushed by Docker: same fields, no annotations. */
export const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** The annotation ORAS writes on each layer with the file's name, and `oras pull` writes the layer to. */
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
/** The name the Go port and the reference's PR #623 give the config blob, when it is signed. */
export const CONFIG_FILE_NAME = 'config.json';

/** The most bytes of a manifest read: the limit the distribution spec asks registries to accept (4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A content descriptor (OCI image spec, descriptor.md). */
export interface Descriptor {
  mediaType: string;
  /** `algorithm:encoded`, e.g. `sha256:<64 hex digits>`. */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** An image manifest, as far as a model needs it. */
export interface ImageManifest {
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
}

/** A file of the model an image manifest holds. */
export interface OciModelFile {
  /** Model-relative name: the layer's title, `layer_NNN.tar.gz`, or `config.json`. */
  name: string;
  /** The blob's SHA-256, lowercase hex: the file's digest in the signature. */
  sha256: string;
  /** The blob's size in bytes, as the manifest gives it. */
  size: number;
  /** The layer (or config) descriptor. */
  descriptor: Descriptor;
}

/** How {@link modelFiles} names and selects the files. */
export interface ModelFilesOptions {
  /**
   * Sign the config blob too, as `config.json` (the Go port's
   * `includeConfig`). Default false: `oras pull` does not write the config,
   * so a signature with it never verifies the pulled folder.
   */
  includeConfig?: boolean;
  /** Model-relative names to leave out (a folder covers its subtree); recorded in the signature. */
  ignorePaths?: readonly string[];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Whether a file's bytes look like an image manifest or index (JSON with
 * `schemaVersion` 2 and `layers` or `manifests`), as the Go port tells an
 * OCI manifest from a model file: for callers that take either.
 */
export function looksLikeImageManifest(bytes: Uint8Array): boolean {
  if (bytes.length > MAX_MANIFEST_BYTES) return false;
  try {
    const json: unknown = JSON.parse(decoder.decode(bytes));
    return isRecord(json) && json['schemaVersion'] === 2 && (Array.isArray(json['layers']) || Array.isArray(json['manifests']));
  } catch {
    return false;
  }
}

/**
 * Parses an image manifest: `schemaVersion` 2, an OCI or Docker schema 2
 * manifest (an index or list of platform manifests is refused: name one
 * platform's manifest), a config and layer descriptors that are well formed.
 *
 * @param what how messages name the manifest (a file, a reference).
 * @throws {ModelSigningError} `OCI_MANIFEST_INVALID` naming `what` and the problem.
 */
export function parseImageManifest(bytes: Uint8Array, what: string): ImageManifest {
  const bad = (why: string) =>
    new ModelSigningError({ code: 'OCI_MANIFEST_INVALID', message: `${what} is not an OCI image manifest: ${why}` });
  if (bytes.length > MAX_MANIFEST_BYTES) throw bad(`it has ${bytes.length} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have`);
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new ModelSigningError({
      code: 'OCI_MANIFEST_INVALID',
      cause,
      message: `${what} is not an OCI image manifest: not JSON (${(cause as Error).message})`,
    });
  }
  if (!isRecord(json)) throw bad('not a JSON object');
  const mediaType = json['mediaType'] ?? OCI_IMAGE_MANIFEST;
  if (mediaType === OCI_IMAGE_INDEX || mediaType === DOCKER_MANIFEST_LIST || Array.isArray(json['manifests'])) {
    throw bad(
      'it is an image index, a list of manifests (one per platform); sign or pull one of them by its digest (oras manifest fetch --platform …, or the digest the index lists)',
    );
  }
  if (json['schemaVersion'] !== 2) throw bad(`schemaVersion is ${JSON.stringify(json['schemaVersion'])}, not 2`);
  if (mediaType !== OCI_IMAGE_MANIFEST && mediaType !== DOCKER_MANIFEST_V2) throw bad(`its mediaType is ${JSON.stringify(mediaType)}`);
  if (!Array.isArray(json['layers'])) throw bad('it has no layers array');
  const config = descriptor(json['config'], 'config', bad);
  const layers = json['layers'].map((layer, i) => descriptor(layer, `layer ${i}`, bad));
  const manifest: ImageManifest = { mediaType, config, layers };
  if (typeof json['artifactType'] === 'string') manifest.artifactType = json['artifactType'];
  const annotations = stringMap(json['annotations'], 'annotations', bad);
  if (annotations) manifest.annotations = annotations;
  if (json['subject'] !== undefined) manifest.subject = descriptor(json['subject'], 'subject', bad);
  return manifest;
}

function descriptor(value: unknown, what: string, bad: (why: string) => ModelSigningError): Descriptor {
  if (!isRecord(value)) throw bad(`the ${what} descriptor is not an object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string') throw bad(`the ${what} descriptor has no mediaType`);
  if (typeof digest !== 'string' || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
    throw bad(`the ${what} descriptor's digest ${JSON.stringify(digest)} is not algorithm:encoded`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`the ${what} descriptor's size is not a byte count`);
  const result: Descriptor = { mediaType, digest, size };
  const annotations = stringMap(value['annotations'], `${what} annotations`, bad);
  if (annotations) result.annotations = annotations;
  if (typeof value['artifactType'] === 'string') result.artifactType = value['artifactType'];
  return result;
}

function stringMap(value: unknown, what: string, bad: (why: string) => ModelSigningError): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) throw bad(`${what} is not a map of strings`);
  return value as Record<string, string>;
}

/**
 * The blob's SHA-256 from its descriptor.
 *
 * @throws {ModelSigningError} `UNSUPPORTED_DIGEST` for another algorithm,
 *   `OCI_MANIFEST_INVALID` for a sha256 digest that is not 64 lowercase hex digits.
 */
export function sha256Of(descriptor: Descriptor, what: string): string {
  const [algorithm, encoded] = descriptor.digest.split(':', 2);
  if (algorithm !== 'sha256') {
    throw new ModelSigningError({
      code: 'UNSUPPORTED_DIGEST',
      path: what,
      message: `${what} is digested with ${algorithm} (${descriptor.digest}); OMS signs each file's sha256, and only sha256 layer digests can be taken as they are (pull the model and sign the folder instead)`,
    });
  }
  if (!/^[a-f0-9]{64}$/.test(encoded)) {
    throw new ModelSigningError({
      code: 'OCI_MANIFEST_INVALID',
      path: what,
      message: `${what} has a malformed sha256 digest '${descriptor.digest}' (64 lowercase hex digits expected)`,
    });
  }
  return encoded;
}

/** The name the Go port gives a layer without a title: `layer_000.tar.gz`, by its index among all layers. */
export function untitledLayerName(index: number): string {
  return `layer_${String(index).padStart(3, '0')}.tar.gz`;
}

/** Whether `name` is `path` or lies under it. */
function isUnder(name: string, path: string): boolean {
  return name === path || name.startsWith(`${path}/`);
}

/**
 * The model an image manifest holds, one file per layer, named as the Go
 * port names them: the layer's `org.opencontainers.image.title` annotation
 * (the name ORAS pushes a file under and `oras pull` writes it to), else
 * `layer_NNN.tar.gz` by its index; the config blob as `config.json` only
 * with `includeConfig`. Each file's digest is its blob's sha256 digest, so
 * nothing is downloaded.
 *
 * Stricter than the Go port where it would sign something that cannot be
 * pulled: titles are model paths (normalized like every resource name,
 * `./a` as `a`; none may leave the model), no two layers share a name, no
 * name is both a file and a folder, and only sha256 digests are taken.
 *
 * @throws {ModelSigningError} `OCI_MANIFEST_INVALID`, `UNSUPPORTED_DIGEST`,
 *   `PATH_ESCAPE` (a title that leaves the model), `EMPTY_MODEL` (no layer
 *   left), naming the layer.
 */
export function modelFiles(manifest: ImageManifest, options: ModelFilesOptions = {}): OciModelFile[] {
  const ignored = (options.ignorePaths ?? []).map((p) => normalizeModelPath(p));
  const files: OciModelFile[] = [];
  manifest.layers.forEach((layer, index) => {
    const title = layer.annotations?.[TITLE_ANNOTATION];
    const what = `layer ${index}${title ? ` ('${title}')` : ''}`;
    let name: string;
    try {
      name = title ? normalizeModelPath(title) : untitledLayerName(index);
    } catch (cause) {
      throw new ModelSigningError({
        code: 'PATH_ESCAPE',
        path: title,
        cause,
        message: `The ${what} title cannot be a file name in the model: ${(cause as Error).message}`,
      });
    }
    if (name === '.') {
      throw new ModelSigningError({ code: 'OCI_MANIFEST_INVALID', path: title, message: `The ${what} title names no file` });
    }
    if (ignored.some((p) => isUnder(name, p))) return;
    files.push({ name, sha256: sha256Of(layer, `The ${what}`), size: layer.size, descriptor: layer });
  });
  if (options.includeConfig && !ignored.some((p) => isUnder(CONFIG_FILE_NAME, p))) {
    if (files.some((f) => f.name === CONFIG_FILE_NAME)) {
      throw new ModelSigningError({
        code: 'OCI_MANIFEST_INVALID',
        path: CONFIG_FILE_NAME,
        message: `A layer is titled '${CONFIG_FILE_NAME}', the name the config blob would be signed under; sign without including the config`,
      });
    }
    files.push({
      name: CONFIG_FILE_NAME,
      sha256: sha256Of(manifest.config, 'The config'),
      size: manifest.config.size,
      descriptor: manifest.config,
    });
  }
  refuseClashes(files);
  if (files.length === 0) {
    throw new ModelSigningError({
      code: 'EMPTY_MODEL',
      message: 'The OCI manifest lists no layer to sign once ignored paths are left out (the OMS spec forbids signing an empty model)',
    });
  }
  return files;
}

/**
 * Two layers under one name (the Go port keeps the last silently), or a
 * name that is a file and a folder at once: no pull can write both.
 */
function refuseClashes(files: readonly OciModelFile[]): void {
  const names = new Set<string>();
  for (const { name } of files) {
    if (names.has(name)) {
      throw new ModelSigningError({ code: 'OCI_MANIFEST_INVALID', path: name, message: `Two layers are named '${name}'` });
    }
    names.add(name);
  }
  for (const { name } of files) {
    for (let slash = name.indexOf('/'); slash > 0; slash = name.indexOf('/', slash + 1)) {
      const folder = name.slice(0, slash);
      if (names.has(folder)) {
        throw new ModelSigningError({
          code: 'OCI_MANIFEST_INVALID',
          path: folder,
          message: `'${folder}' is both a layer and the folder of the layer '${name}'`,
        });
      }
    }
  }
}

/**
 * The subject name the Go port gives a model signed from a manifest file:
 * the file's name without its extension (`oci-manifest.json` → `oci-manifest`).
 */
export function manifestFileStem(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

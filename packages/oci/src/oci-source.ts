// A model in an OCI registry as a source of core's verified-model session:
// it moves bytes and lists names and decides nothing (the session reads the
// signature bounded, judges it, compares the listing, and hashes every
// layer it hands out). The manifest is fetched once and pinned by its
// digest, so the signature, the listing and every layer come from the same
// manifest even if the tag moves meanwhile.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MAX_BUNDLE_BYTES, ModelSigningError } from '@model-signing/core';
import type { ListScope, ListedFile, ModelIdentity, ModelSource, SourceBody, SourceContext, SourceListing } from '@model-signing/core';
import { CLAIMS_FILE_NAME } from '@model-signing/core/internal';
import { signatureFile } from '@model-signing/core/internal/node';
import { parseImageManifest, type Descriptor, type ImageManifest, type OciModelFile } from './image-manifest.js';
import { layerListing } from './listing.js';
import { OCI_SCHEME, formatOciReference, type OciReference } from './reference.js';
import { findSignatures, type StoredSignature, type UnreadSignature } from './referrers.js';
import type { FetchedManifest, RegistryClient } from './registry.js';

/** A layer (or the config) as the source lists it: a {@link ListedFile} whose `sha256` is the manifest's digest. */
export interface OciListedFile extends ListedFile {
  /** The blob's digest from the manifest (hex): the session compares it with a `files`/`sha256` signature before a byte moves. */
  readonly sha256: string;
}

/** Where the source's signature comes from. */
export interface OciSourceOptions {
  /** A signature file (a bundle, or a claims file) instead of the signatures stored in the registry. */
  signaturePath?: string;
  /**
   * The claims file read with the signature (a trust policy's claim
   * requirements count its claims; a verifier's load returns those it
   * accepts). Default: `claims.jsonl` beside `signaturePath` when there is
   * one; none with the signatures stored in the registry (several of them
   * are read as a claims layout already). `false`: none.
   */
  claimsPath?: string | false;
}

/** The manifest the source reads, pinned. */
export interface ResolvedManifest {
  /** `oci://host/repository[:tag]@sha256:…`. */
  reference: string;
  fetched: FetchedManifest;
  manifest: ImageManifest;
  /** The manifest as a subject descriptor (for the signature artifact). */
  subject: Descriptor;
}

/** A model in a registry, as core's verified-model session reads it ({@link ModelSource}). */
export class OciSource implements ModelSource {
  /** `oci://host/repository[:tag]@sha256:…` once resolved; the reference as given before. */
  location: string;
  signatureLocation: string;
  /** The signatures stored in the registry, newest first, once the signature was read from there. */
  stored: StoredSignature[] = [];
  /** The signature artifacts stored for the manifest that could not be read (too large, missing, other bytes), newest first. */
  unread: UnreadSignature[] = [];
  private resolving: Promise<ResolvedManifest> | undefined;
  /** The session lists only after it accepted the signature: later refusals are not the signatures'. */
  private signatureAccepted = false;
  private readonly files = new Map<string, OciModelFile>();
  /** Every file the manifest lists, as the last {@link OciSource.list} named them (ignored ones too). */
  listed: readonly OciListedFile[] = [];

  constructor(
    private readonly client: RegistryClient,
    private readonly options: OciSourceOptions = {},
  ) {
    this.location = client.label;
    this.signatureLocation = options.signaturePath ?? `the signatures stored for ${client.label}`;
  }

  /**
   * Fetches the manifest once (by the reference's digest, else its tag) and
   * pins it by the digest of its bytes.
   *
   * @throws {ModelSigningError} `NOT_FOUND`, `ACCESS_DENIED`, `NETWORK_ERROR`, `OCI_MANIFEST_INVALID`, `ABORTED`.
   */
  resolve(): Promise<ResolvedManifest> {
    this.resolving ??= (async () => {
      const ref: OciReference = this.client.ref;
      const fetched = await this.client.manifest(ref.digest ?? ref.tag!);
      const reference = formatOciReference({ ...ref, digest: fetched.digest });
      const manifest = parseImageManifest(fetched.bytes, `The manifest ${reference}`);
      this.location = reference;
      if (this.options.signaturePath === undefined) this.signatureLocation = `the signatures stored for ${reference}`;
      return {
        reference,
        fetched,
        manifest,
        subject: { mediaType: manifest.mediaType, digest: fetched.digest, size: fetched.bytes.length },
      };
    })();
    return this.resolving;
  }

  /**
   * The signature's body: the file given (read as a directory's signature
   * file is), else the OMS signatures stored for the manifest, read together
   * within the session's limit (`findSignatures`: one that cannot be read is
   * set aside, see {@link OciSource.unread}). One stored signature is handed
   * over as it is; several as a claims layout, one bundle per line, newest
   * last, so the session takes the newest one that verifies, as for a
   * `claims.jsonl`.
   *
   * @throws {ModelSigningError} `NOT_FOUND` when there is none; when none
   *   could be read, the newest one's error (`BUNDLE_TOO_LARGE`, …) naming
   *   each; the registry's errors.
   */
  async signature(context: SourceContext = {}): Promise<SourceBody> {
    if (this.options.signaturePath !== undefined) return signatureFile(this.options.signaturePath);
    const { fetched, reference } = await this.resolve();
    const found = await findSignatures(this.client, fetched.digest, context.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES);
    this.stored = found.read;
    this.unread = found.unread;
    if (this.stored.length === 0 && this.unread.length === 1) throw this.unread[0].error;
    if (this.stored.length === 0 && this.unread.length > 1) {
      throw new ModelSigningError({
        code: this.unread[0].error.code,
        path: reference,
        message: `None of the ${this.unread.length} signatures stored for ${reference} could be read: ${this.unread.map((u) => `${u.digest}: ${u.error.message}`).join('; ')}`,
      });
    }
    if (this.stored.length === 0) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: reference,
        message: `No model signature is stored in the registry for ${reference} (none among its referrers, nor under its referrers tag); sign it with model-signing sign … oci://…, or give the signature file (--signature / signaturePath)`,
      });
    }
    const bytes = this.stored.length === 1 ? this.stored[0].bytes : claimsLayout([...this.stored].reverse());
    return { size: bytes.length, chunks: once(bytes) };
  }

  /**
   * The manifest as it was addressed and pinned, which a trust policy's
   * `oci` rules match: `registry/repository[:tag]@sha256:…`, the tag as
   * given and the digest of the manifest read, so a rule pinning either holds.
   */
  async identity(): Promise<ModelIdentity> {
    const { reference } = await this.resolve();
    return { kind: 'oci', reference: reference.slice(OCI_SCHEME.length) };
  }

  /** The claims file ({@link OciSourceOptions.claimsPath}); `undefined` when there is none. */
  claims(): Promise<{ body: SourceBody; location: string } | undefined> {
    return claimsFile(this.options.signaturePath, this.options.claimsPath);
  }

  /**
   * The session's refusal of the stored signatures, with each one named: the
   * artifact each line of the claims layout came from, and those that could
   * not be read. Any other error (a signature file given, one signature
   * stored and read, a refusal after the signature was accepted) is returned as it is.
   */
  explainRefusal(error: unknown): unknown {
    if (!(error instanceof ModelSigningError) || this.options.signaturePath !== undefined || this.signatureAccepted) return error;
    if (this.stored.length < 2 && this.unread.length === 0) return error;
    const made = (s: StoredSignature) => (s.created ? ` (made ${s.created})` : '');
    const lines =
      this.stored.length === 1
        ? [`${this.stored[0].digest}${made(this.stored[0])} was the one read`]
        : this.stored.map((s, i) => `line ${this.stored.length - i} is ${s.digest}${made(s)}`);
    const unread = this.unread.map((u) => `${u.digest} was not read: ${u.error.message}`);
    error.message += ` [the signatures stored for ${this.location}, newest first: ${[...lines, ...unread].join('; ')}]`;
    return error;
  }

  /**
   * The stored signature that a claims-layout line came from (`line` as the
   * session reports it, 1-based), or the only one.
   */
  storedSignature(line: number | undefined): StoredSignature | undefined {
    if (this.stored.length === 1) return this.stored[0];
    return line === undefined ? undefined : this.stored[this.stored.length - line];
  }

  /**
   * The layers, named as they were signed, with their sizes and the digests
   * the manifest gives; the config blob as `config.json` when the signature
   * covers that name and no layer has it. The session leaves out what its
   * rules leave out (ignore paths, attestation files, tolerated unsigned files).
   *
   * @throws {ModelSigningError} as {@link layerListing} (`OCI_MANIFEST_INVALID`, `UNSUPPORTED_DIGEST`, `PATH_ESCAPE`).
   */
  async list(scope: Pick<ListScope, 'signedFiles'>): Promise<SourceListing> {
    this.signatureAccepted = true;
    const { manifest } = await this.resolve();
    this.files.clear();
    for (const file of layerListing(manifest, scope.signedFiles)) this.files.set(file.name, file);
    this.listed = [...this.files.values()].map(({ name, size, sha256 }) => ({ name, size, sha256 }));
    return { files: this.listed };
  }

  /** A listed file's bytes, streamed from the registry (at most the size the manifest gives); `undefined` for a name not listed. */
  open(name: string): Promise<SourceBody | undefined> {
    const file = this.files.get(name);
    return Promise.resolve(file && { size: file.size, chunks: this.client.blob(file.descriptor, name) });
  }
}

/**
 * The claims file read with a signature, as a signature file is read:
 * `claimsPath`, else `claims.jsonl` beside a `signaturePath` that is not a
 * claims file itself, when there is one; none for `false`, or without either.
 */
export async function claimsFile(
  signaturePath: string | undefined,
  claimsPath: string | false | undefined,
): Promise<{ body: SourceBody; location: string } | undefined> {
  if (claimsPath === false) return undefined;
  if (claimsPath !== undefined) return { body: await signatureFile(claimsPath), location: claimsPath };
  if (signaturePath === undefined || signaturePath.endsWith('.jsonl')) return undefined;
  const beside = path.join(path.dirname(signaturePath), CLAIMS_FILE_NAME);
  // Absent is none; anything else is read, so an unreadable one fails as a signature file does.
  const present = await fs.lstat(beside).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
  );
  return present ? { body: await signatureFile(beside), location: beside } : undefined;
}

/** The bytes as one async chunk. */
async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * Signatures as the lines of a claims layout, each followed by a newline:
 * line breaks inside one become spaces, byte for byte, which leaves a JSON
 * document's meaning as it was (a JSON string holds no raw line break) and
 * its length too, so the layout is exactly as long as `findSignatures`
 * counted; anything else stays on its line for the session to report.
 */
function claimsLayout(signatures: readonly StoredSignature[]): Uint8Array {
  const out = new Uint8Array(signatures.reduce((n, s) => n + s.bytes.length + 1, 0));
  let at = 0;
  for (const { bytes } of signatures) {
    for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i] === 0x0a || bytes[i] === 0x0d ? 0x20 : bytes[i];
    at += bytes.length;
    out[at++] = 0x0a;
  }
  return out;
}

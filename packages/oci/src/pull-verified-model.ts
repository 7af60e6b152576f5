import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SIGNATURE_NAME, ModelSigningError, openVerifiedSession, type SignerInfo, type VerifiedSession } from '@model-signing/core';
import { concurrencyOf, outcomeOf, runPool, type TrustOptions, type VerificationOutcome } from '@model-signing/core/internal';
import { temporaryName, writeFileAtomic } from '@model-signing/core/internal/node';
import { OciSource } from './oci-source.js';
import { parseOciReference } from './reference.js';
import type { StoredSignature } from './referrers.js';
import { RegistryClient, type RegistryParams } from './registry.js';

/**
 * Parameters of {@link verifyOciModel}. Under a `policy`, its `oci` rules
 * match the reference (registry/repository, tag, digest); it decides before
 * a layer byte moves, and a pull writes nothing. `model` defaults to the
 * reference as given, pinned by the manifest's digest
 * (`registry/repository[:tag]@sha256:…`).
 */
export interface VerifyOciModelParams extends RegistryParams, TrustOptions {
  /** `oci://host/repository[:tag][@sha256:…]`. */
  reference: string;
  /** A signature file (a bundle, or a claims file) instead of the signatures stored in the registry with the model. */
  signaturePath?: string;
  /**
   * The claims file read with the signature (`claims.jsonl`, one signed
   * claim per line): a policy's claim requirements count its claims. Default
   * `claims.jsonl` beside `signaturePath` when there is one; none with the
   * signatures stored in the registry. `false`: none.
   */
  claimsPath?: string | false;
  /** Largest claims file read, in bytes (`BUNDLE_TOO_LARGE` above). Default four times `maxBundleBytes`. */
  maxClaimsBytes?: number;
  /** Tolerate layers the signature does not cover: they are left out, never downloaded. Default false. */
  ignoreUnsignedFiles?: boolean;
  /**
   * Leave layers named like signature and attestation files at the model
   * root (`claims.jsonl`, `*.sig`, `*.sigstore.json`) out unless the
   * signature lists them, as every verified load does. Default true.
   */
  ignoreAttestationFiles?: boolean;
  /** The most bytes read of a signature before it is checked. Default 64 MiB. */
  maxBundleBytes?: number;
  /** Layers downloaded at the same time. Default 4. */
  concurrency?: number;
  onProgress?: (progress: PullProgress) => void;
}

/** Parameters of {@link pullVerifiedModel}. */
export interface PullVerifiedModelParams extends VerifyOciModelParams {
  /** Where the verified model goes: a folder that does not exist yet, or an empty one. */
  outputDir: string;
  /** The name the signature that verified is written under in `outputDir`. Default `model.sig`. */
  signatureName?: string;
}

/** Progress of a verified pull, in the order the phases happen. */
export type PullProgress =
  /** The manifest was fetched and pinned, and its signature verified. */
  | { phase: 'signature-verified'; reference: string; signer: SignerInfo }
  /** The manifest's layers match the signature: `files` will be downloaded. */
  | { phase: 'listing-matched'; files: number; totalBytes: number }
  /** Bytes arrived for `path`. */
  | { phase: 'downloading'; path: string; bytesDone: number; totalBytes: number }
  /** `path` matched its signed digest (and, pulling, is in place). */
  | { phase: 'file-verified'; path: string };

/**
 * The outcome of {@link verifyOciModel}. Its `source` is one bundle, or
 * which line of a claims layout (several stored signatures, or a
 * `claims.jsonl`); its `claims`, the other lines of that layout or the
 * claims file.
 */
export interface VerifyOciModelResult extends VerificationOutcome {
  /** The manifest verified, pinned by digest: `oci://host/repository[:tag]@sha256:…`. */
  reference: string;
  /** The files verified (model-relative names, sorted). */
  files: string[];
  /** Where the signature that verified came from: the file given, or the artifact stored in the registry. */
  signature: { path: string } | { referrer: string; created?: string };
  /** Layers left out, never downloaded: under the signature's ignore paths, attestation files, or unsigned and tolerated. */
  notChecked: string[];
}

/** The outcome of {@link pullVerifiedModel}. */
export interface PullVerifiedModelResult extends VerifyOciModelResult {
  outputDir: string;
  /** The signature that verified, as written into `outputDir`. */
  signaturePath: string;
}

/**
 * Verifies a model in an OCI registry without keeping a byte of it: the
 * manifest is pinned by digest, the signature (stored in the registry, or
 * `signaturePath`) verified, the layers compared with the signed files
 * before any is downloaded (every one present, no unsigned one, each
 * layer's sha256 equal to the signed digest), then each layer streamed
 * through the signature's hash: core's verified-model session over the
 * registry ({@link OciSource}), with the rules every verified load has.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` under a `policy`: which rule, which requirement, why (no layer fetched).
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for both or neither of
 *   `verifier` and `policy`; the signature's errors (`NOT_FOUND` when none
 *   is stored, `BUNDLE_TOO_LARGE` over `maxBundleBytes`, `SIGNATURE_INVALID`,
 *   `KEY_MISMATCH`, …);
 *   {@link ManifestMismatchError} (`DIGEST_MISMATCH`, `MISSING_FILE`,
 *   `UNSIGNED_FILE`) naming the layers; `OCI_MANIFEST_INVALID`,
 *   `UNSUPPORTED_DIGEST`; `ACCESS_DENIED`, `NETWORK_ERROR`; `ABORTED`.
 */
export async function verifyOciModel(params: VerifyOciModelParams): Promise<VerifyOciModelResult> {
  return verifiedLoad(params, undefined);
}

/**
 * Pulls a model from an OCI registry only if it verifies, as
 * {@link verifyOciModel} checks it, into `outputDir`, under the names it
 * was signed with (the layers' titles: the folder `oras pull` would write).
 * Each layer streams into a temporary file beside its place and is renamed
 * into place only once its bytes matched; the signature that verified is
 * written last (`model.sig`). On any failure everything this call wrote is
 * removed, `outputDir` too when it created it: nothing unverified is left.
 *
 * @throws as {@link verifyOciModel}; `INVALID_ARGUMENT` when `outputDir` is
 *   not an empty folder or a signed file is named like the signature;
 *   `WRITE_FAILED`.
 */
export async function pullVerifiedModel(params: PullVerifiedModelParams): Promise<PullVerifiedModelResult> {
  const signatureName = params.signatureName ?? DEFAULT_SIGNATURE_NAME;
  const output = await PullDirectory.create(params.outputDir);
  try {
    const result = await verifiedLoad(params, output, signatureName);
    return { ...result, outputDir: params.outputDir, signaturePath: path.join(params.outputDir, signatureName) };
  } catch (cause) {
    const left = await output.rollback();
    if (cause instanceof ModelSigningError) {
      cause.message += left.length > 0 ? ` (could not remove: ${left.join(', ')})` : `; nothing was left in ${params.outputDir}`;
    }
    throw cause;
  }
}

/**
 * The one verified load behind both calls, on core's verified-model session:
 * the session reads the signature (bounded) and judges it, compares the
 * manifest's layers with it, and hashes each layer as it streams; this adds
 * the registry (the pinned manifest, stored signatures), a pool of
 * downloads, and the folder they go into.
 */
async function verifiedLoad(
  params: VerifyOciModelParams,
  output: PullDirectory | undefined,
  signatureName?: string,
): Promise<VerifyOciModelResult> {
  const concurrency = concurrencyOf(params.concurrency);
  const signal = params.abortSignal;
  const onProgress = params.onProgress ?? (() => undefined);
  const client = new RegistryClient(parseOciReference(params.reference), params);
  const source = new OciSource(client, {
    ...(params.signaturePath !== undefined ? { signaturePath: params.signaturePath } : {}),
    ...(params.claimsPath !== undefined ? { claimsPath: params.claimsPath } : {}),
  });
  const { reference } = await source.resolve();

  // The signature, read bounded and accepted (the verifier, or the policy's rule for the reference);
  // then the layers listed, before a byte of them moves.
  const session = await openVerifiedSession({
    source,
    ...(params.verifier ? { verifier: params.verifier } : {}),
    ...(params.policy ? { policy: params.policy } : {}),
    ...(params.model ? { model: params.model } : {}),
    // Kept to store beside the pulled model (verifiedBundleBytes).
    keepSignature: true,
    ...(params.maxBundleBytes !== undefined ? { maxBundleBytes: params.maxBundleBytes } : {}),
    ...(params.maxClaimsBytes !== undefined ? { maxClaimsBytes: params.maxClaimsBytes } : {}),
    ...(params.ignoreUnsignedFiles !== undefined ? { ignoreUnsignedFiles: params.ignoreUnsignedFiles } : {}),
    ...(params.ignoreAttestationFiles !== undefined ? { ignoreAttestationFiles: params.ignoreAttestationFiles } : {}),
    ...(signal ? { abortSignal: signal } : {}),
  }).catch((error: unknown) => {
    throw source.explainRefusal(error);
  });
  onProgress({ phase: 'signature-verified', reference, signer: session.signer });
  session.checkListing();
  const files = session.files ?? [];
  if (output && files.some((f) => f.name === signatureName)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `The model has a file named '${signatureName}', where the signature would be written; choose another name (signatureName)`,
    });
  }
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  onProgress({ phase: 'listing-matched', files: files.length, totalBytes });

  // Each layer hashed as it arrives (the session's stream ends in an error unless it matched), published only then.
  let bytesDone = 0;
  const stop = new AbortController();
  const stopped = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  await runPool(
    files,
    concurrency,
    async (file) => {
      const sink = output ? await output.open(file.name) : undefined;
      try {
        let seen = 0;
        const onBytes = (received: number) => {
          bytesDone += received - seen;
          seen = received;
          onProgress({ phase: 'downloading', path: file.name, bytesDone, totalBytes });
        };
        for await (const chunk of session.stream(file.name, { abortSignal: stopped, onBytes })) await sink?.write(chunk);
        await sink?.commit();
      } finally {
        await sink?.close();
      }
      onProgress({ phase: 'file-verified', path: file.name });
    },
    () => stop.abort(),
  );

  // Nothing signed left unchecked; then the signature that verified, last.
  await session.finish();
  const stored = source.storedSignature(session.source.line);
  if (output) await output.writeSignature(signatureName!, verifiedBundleBytes(session, stored));
  const names = new Set(files.map((f) => f.name));
  return {
    reference,
    ...outcomeOf(session),
    files: [...names].sort(),
    signature:
      params.signaturePath !== undefined
        ? { path: params.signaturePath }
        : { referrer: stored?.digest ?? '', ...(stored?.created !== undefined ? { created: stored.created } : {}) },
    notChecked: source.listed
      .map((f) => f.name)
      .filter((name) => !names.has(name))
      .sort(),
  };
}

/**
 * The bytes of the one bundle that verified, to keep beside the pulled
 * model: the stored signature as the registry holds it, the line of a
 * claims file that verified, or the signature file as it was read.
 */
function verifiedBundleBytes(session: VerifiedSession, stored: StoredSignature | undefined): Uint8Array {
  if (stored) return stored.bytes;
  const { layout, line } = session.source;
  // Opened with keepSignature.
  const signature = session.signature!;
  if (layout !== 'claims' || line === undefined) return signature;
  const text = new TextDecoder().decode(signature).split('\n')[line - 1].replace(/\r$/, '');
  return new TextEncoder().encode(`${text}\n`);
}

/** A file being written: bytes into a temporary name, renamed into place by `commit`. */
interface Sink {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The folder a pull writes into, and everything written there, so a failed
 * pull removes it all: temporary files, files renamed into place, folders
 * it created (and the folder itself when it did not exist).
 */
class PullDirectory {
  private readonly written: string[] = [];
  private readonly createdDirs: string[] = [];

  private constructor(private readonly root: string) {}

  /**
   * @throws {ModelSigningError} `INVALID_ARGUMENT` when `dir` exists and is
   *   not an empty folder; `WRITE_FAILED`.
   */
  static async create(dir: string): Promise<PullDirectory> {
    const root = path.resolve(dir);
    const pull = new PullDirectory(root);
    const stat = await fs.lstat(root).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (stat) {
      if (!stat.isDirectory() || (await fs.readdir(root)).length > 0) {
        throw new ModelSigningError({
          code: 'INVALID_ARGUMENT',
          path: dir,
          message: `'${dir}' exists and is not an empty folder; pull into a new or empty one`,
        });
      }
      return pull;
    }
    const first = await fs.mkdir(root, { recursive: true }).catch((cause: unknown) => Promise.reject(writeFailed(dir, cause)));
    if (first !== undefined) pull.createdDirs.push(first);
    return pull;
  }

  /** A new file `name` (model-relative) in the folder, written under a temporary name until committed. */
  async open(name: string): Promise<Sink> {
    const target = path.join(this.root, ...name.split('/'));
    try {
      const first = await fs.mkdir(path.dirname(target), { recursive: true });
      if (first !== undefined) this.createdDirs.push(first);
      const temporary = path.join(path.dirname(target), temporaryName(path.basename(target)));
      this.written.push(temporary);
      const handle = await fs.open(temporary, 'wx', 0o644);
      let open = true;
      return {
        write: async (chunk) => {
          for (let at = 0; at < chunk.length;) at += (await handle.write(chunk, at)).bytesWritten;
        },
        commit: async () => {
          await handle.close();
          open = false;
          await fs.rename(temporary, target);
          this.written.push(target);
        },
        close: async () => {
          if (open) await handle.close();
          open = false;
        },
      };
    } catch (cause) {
      throw writeFailed(target, cause);
    }
  }

  async writeSignature(name: string, text: Uint8Array): Promise<void> {
    const target = path.join(this.root, name);
    this.written.push(target);
    await writeFileAtomic(target, text);
  }

  /** Removes everything written; returns what could not be removed. */
  async rollback(): Promise<string[]> {
    const left: string[] = [];
    for (const file of this.written.reverse()) await fs.rm(file, { force: true }).catch(() => left.push(file));
    // Folders this pull created hold only what it wrote.
    for (const dir of this.createdDirs.sort((a, b) => b.length - a.length)) {
      await fs.rm(dir, { recursive: true, force: true }).catch(() => left.push(dir));
    }
    return left;
  }
}

function writeFailed(target: string, cause: unknown): ModelSigningError {
  if (cause instanceof ModelSigningError) return cause;
  return new ModelSigningError({
    code: 'WRITE_FAILED',
    path: target,
    cause,
    message: `Could not write '${target}': ${(cause as Error).message}`,
  });
}

// Runtime-neutral. A source's listing held against the verified manifest,
// before any byte moves: which listed files belong to the model, and what
// is missing, unsigned or (by the source's own metadata) changed.
import type { ManifestDifference } from '../errors.js';
import { ManifestMismatchError } from '../errors.js';
import type { ManifestChecker } from '../format/checker.js';
import { isAttestationFile } from '../format/attestation-files.js';
import { isUnderAny } from '../format/model-path.js';
import { parseShardName } from '../format/manifest.js';
import type { VerifiedManifest } from '../format/verified-manifest.js';
import type { ListedFile } from './source.js';

/** Which unsigned files {@link modelFiles} leaves out of the model. */
export interface UnsignedTolerance {
  /** Every unsigned file. */
  ignoreUnsignedFiles: boolean;
  /** Signature and attestation files at the root (`isAttestationFile`): `claims.jsonl`, `*.sig`, `*.sigstore.json`. */
  ignoreAttestationFiles: boolean;
}

/**
 * The listed files that are part of the model: those under an ignore path
 * left out, and unsigned ones that are tolerated (every one, or the
 * signature and attestation files at the root): for every source alike, a
 * claims file or another signature added beside a signed model is never
 * "unsigned", while one the signature lists is checked like any file. An
 * empty file in shard mode has no resource yet counts as signed.
 */
export function modelFiles(
  listed: readonly ListedFile[],
  checker: ManifestChecker,
  ignorePaths: readonly string[],
  tolerance: UnsignedTolerance,
): ListedFile[] {
  const emptyShardFile = (f: ListedFile) => checker.manifest.serialization.method === 'shards' && f.size === 0;
  const tolerated = (f: ListedFile) => tolerance.ignoreUnsignedFiles || (tolerance.ignoreAttestationFiles && isAttestationFile(f.name));
  return listed.filter((f) => !isUnderAny(f.name, ignorePaths) && (!tolerated(f) || checker.isSigned(f.name) || emptyShardFile(f)));
}

/**
 * Compares the model's files, as listed, with the signed ones: every signed
 * file present, no unsigned one (unless tolerated), and where the listing
 * knows more than names, no sign of change: a SHA-256 the source records
 * must equal a `files`/`sha256` signature's digest, and in shard mode a
 * listed size must equal the signed one.
 *
 * @throws {ManifestMismatchError} listing every difference.
 */
export function compareListing(files: readonly ListedFile[], checker: ManifestChecker): void {
  const { manifest } = checker;
  const { method, hashType } = manifest.serialization;
  const present = new Set(files.map((f) => f.name));
  const differences: ManifestDifference[] = checker.signedFiles
    .filter((name) => !present.has(name))
    .map((name) => ({ kind: 'missing', name }));
  // Only a source that records digests (a hub's LFS metadata) needs the signed ones by name; a directory records none.
  const digests =
    method === 'files' && hashType === 'sha256' && files.some((f) => f.sha256 !== undefined)
      ? new Map(manifest.resources.map((r) => [r.name, r.digest]))
      : undefined;
  const sizes = method === 'shards' ? signedSizes(manifest) : undefined;
  for (const f of files) {
    if (!checker.isSigned(f.name)) {
      if (!(method === 'shards' && f.size === 0)) differences.push({ kind: 'unsigned', name: f.name });
      continue;
    }
    const digest = digests?.get(f.name);
    if (digest !== undefined && f.sha256 !== undefined && f.sha256 !== digest) {
      differences.push({ kind: 'mismatch', name: f.name, expected: digest, actual: f.sha256 });
    }
    const size = sizes?.get(f.name);
    if (size !== undefined && f.size !== size) {
      differences.push({ kind: 'mismatch', name: f.name, expected: `${size} bytes`, actual: `${f.size} bytes` });
    }
  }
  if (differences.length > 0) throw new ManifestMismatchError(differences);
}

/** Each shard-signed file's size: the end of its last shard. */
function signedSizes(manifest: VerifiedManifest): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const r of manifest.resources) {
    const shard = parseShardName(r.name);
    sizes.set(shard.path, Math.max(sizes.get(shard.path) ?? 0, shard.end));
  }
  return sizes;
}

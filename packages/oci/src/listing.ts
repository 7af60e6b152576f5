// A manifest's layers held against a verified signature before any byte
// moves: which layers are the model's files, and what is missing, unsigned
// or (by the digests the manifest lists) changed. Shared by the verified
// pull and the check of a manifest file.
import {
  GIT_PATHS,
  ManifestMismatchError,
  type ManifestChecker,
  type ManifestDifference,
  type VerifiedManifest,
} from '@model-signing/core';
import { CONFIG_FILE_NAME, modelFiles, sha256Of, type ImageManifest, type OciModelFile } from './image-manifest.js';

/**
 * The manifest's files, named as they were signed: its layers, and the
 * config blob as `config.json` when the signature covers that name and no
 * layer has it.
 *
 * @throws {ModelSigningError} as {@link modelFiles}.
 */
export function layerListing(manifest: ImageManifest, signedFiles: readonly string[]): OciModelFile[] {
  const files = modelFiles(manifest);
  if (signedFiles.includes(CONFIG_FILE_NAME) && !files.some((f) => f.name === CONFIG_FILE_NAME)) {
    const config = manifest.config;
    files.push({ name: CONFIG_FILE_NAME, sha256: sha256Of(config, 'The config'), size: config.size, descriptor: config });
  }
  return files;
}

/**
 * The listed files that are the model's: those under the signature's
 * ignore paths (and the git files) left out, and unsigned ones too when
 * tolerated; the rest are `notChecked`. Then every difference with the
 * signature, before a byte moves: a signed file missing, an unsigned one,
 * and for a `files`/`sha256` signature a layer digest that is not the signed one.
 *
 * @throws {ManifestMismatchError} listing every difference.
 */
export function checkListing<T extends { name: string; sha256: string }>(
  listed: readonly T[],
  checker: ManifestChecker,
  ignoreUnsignedFiles: boolean,
): { files: T[]; notChecked: string[] } {
  const manifest: VerifiedManifest = checker.manifest;
  const ignorePaths = [...manifest.serialization.ignorePaths, ...GIT_PATHS];
  const ignored = (name: string) => ignorePaths.some((p) => name === p || name.startsWith(`${p}/`));
  const files = listed.filter((f) => !ignored(f.name) && (!ignoreUnsignedFiles || checker.isSigned(f.name)));
  const notChecked = listed
    .filter((f) => !files.includes(f))
    .map((f) => f.name)
    .sort();
  const present = new Set(files.map((f) => f.name));
  const differences: ManifestDifference[] = checker.signedFiles.filter((n) => !present.has(n)).map((name) => ({ kind: 'missing', name }));
  const { method, hashType } = manifest.serialization;
  const signed = method === 'files' && hashType === 'sha256' ? new Map(manifest.resources.map((r) => [r.name, r.digest])) : undefined;
  for (const f of files) {
    if (!checker.isSigned(f.name)) differences.push({ kind: 'unsigned', name: f.name });
    const digest = signed?.get(f.name);
    if (digest !== undefined && digest !== f.sha256)
      differences.push({ kind: 'mismatch', name: f.name, expected: digest, actual: f.sha256 });
  }
  if (differences.length > 0) throw new ManifestMismatchError(differences);
  return { files, notChecked };
}

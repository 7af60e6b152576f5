// A manifest's files as a verified load lists them. Everything about what
// those files must be (present, signed, with the signed digest) is the
// session's; this only names them.
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

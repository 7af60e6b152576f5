import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import { isAttestationFile } from '../format/attestation-files.js';
import { staysInside } from '../format/containment.js';

// Enough of a file's start to tell a Sigstore bundle (JSON naming its media
// type first, as this library and the reference write it) from model bytes.
const SNIFF_BYTES = 4096;
const BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle';

/**
 * Refuses a signature path that would overwrite part of the model: the model
 * itself, or an existing file inside the model directory that is not a
 * signature. Signing leaves the signature path out of the manifest, so
 * without this check `--signature model/weights.bin` would silently replace
 * the weights with the signature. An older signature at that path may be
 * replaced.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT`.
 */
export async function refuseModelFileAsSignature(modelPath: string, signaturePath: string): Promise<void> {
  const root = path.resolve(modelPath);
  const target = path.resolve(signaturePath);
  const refuse = (why: string) =>
    new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      path: signaturePath,
      message: `The signature path '${signaturePath}' ${why}; signing would replace it. Choose another signature path (the signaturePath option).`,
    });
  if (target === root) throw refuse('is the model itself');
  const relative = path.relative(root, target);
  if (!staysInside(relative, path.sep)) return;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(target, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw refuse(`is in the model and cannot be read (${code})`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw refuse('is a directory or special file inside the model');
    // An empty claims or signature file (`touch claims.jsonl`) holds nothing to lose.
    if (stats.size === 0 && isAttestationFile(relative.split(path.sep).join('/'))) return;
    const buffer = Buffer.alloc(Math.min(SNIFF_BYTES, stats.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const start = buffer.subarray(0, bytesRead).toString('utf8');
    if (!/^\s*\{/.test(start) || !start.includes(BUNDLE_MEDIA_TYPE_PREFIX)) throw refuse('is a file of the model, not a signature');
  } finally {
    await handle.close();
  }
}

import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The Hugging Face cache repo folder that `modelPath` lies in when it is a
 * snapshot (`…/models--org--name/snapshots/<commit>[/…]`, resolved):
 * huggingface_hub and huggingface.js keep the bytes in that folder's
 * `blobs/` and link to them from the snapshot (`../../blobs/<hash>`), so a
 * walk of the snapshot that follows links must let them resolve there
 * (`symlinkTargetRoot`), and no further. Undefined for any other path.
 */
export async function hubCacheRepoFolder(modelPath: string): Promise<string | undefined> {
  const real = await fs.realpath(path.resolve(modelPath)).catch(() => undefined);
  if (real === undefined) return undefined;
  const parts = real.split(path.sep);
  const at = parts.lastIndexOf('snapshots');
  if (at < 1 || at + 1 >= parts.length || !/^(models|datasets|spaces)--./.test(parts[at - 1])) return undefined;
  return parts.slice(0, at).join(path.sep) || path.sep;
}

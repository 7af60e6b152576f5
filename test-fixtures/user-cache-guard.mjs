// Vitest global setup for every package: tests never touch the user's real
// caches. The run gets a fresh XDG_CACHE_HOME (where core keeps its hash
// records, and under which the Hugging Face cache defaults), inherited by
// the test workers and every process they start; and the run fails if
// `$HOME/.cache/model-signing` changed anyway, so a default that ignores
// XDG_CACHE_HOME cannot slip back in.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Every file and folder under `dir` with its size and modification time, or [] when there is none. */
function snapshot(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      const stats = fs.lstatSync(file, { throwIfNoEntry: false });
      return `${path.relative(dir, file)} ${stats ? `${stats.size} ${stats.mtimeMs}` : 'gone'}`;
    })
    .sort();
}

export default function setup() {
  const guarded = path.join(os.homedir(), '.cache', 'model-signing');
  const before = snapshot(guarded);
  const isolated = fs.mkdtempSync(path.join(os.tmpdir(), 'oms-test-cache-'));
  process.env['XDG_CACHE_HOME'] = isolated;
  return () => {
    fs.rmSync(isolated, { recursive: true, force: true });
    const after = snapshot(guarded);
    const changed = [...after.filter((e) => !before.includes(e)), ...before.filter((e) => !after.includes(e))];
    if (changed.length > 0) {
      // A throw here is only logged by vitest ("error during close"): the exit code is what CI reads.
      process.exitCode = 1;
      throw new Error(
        `The tests changed the user's cache ${guarded} (tests must use temporary directories): ${changed.slice(0, 10).join('; ')}`,
      );
    }
  };
}

// Where the Go-built servers and tools live (the TSA, Rekor v2, Fulcio, the
// OCI registry, ORAS, actionlint): scripts/setup-go-tools.sh builds them once,
// caches the binaries and writes their paths to scripts/tools.env, read here.
// Tests fail, not skip, when a tool is missing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ENV_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'tools.env');

/** The absolute path of a tool built by scripts/setup-go-tools.sh, e.g. `goTool('timestamp-server')`. */
export function goTool(name) {
  const key = `MODEL_SIGNING_TOOL_${name.toUpperCase().replace(/-/g, '_')}`;
  let lines = [];
  try {
    lines = fs.readFileSync(ENV_FILE, 'utf8').split('\n');
  } catch {
    // reported below
  }
  const line = lines.find((l) => l.startsWith(`${key}=`));
  const file = line?.slice(key.length + 1);
  if (!file || !fs.existsSync(file)) {
    throw new Error(`${name} is not built: run scripts/setup-go-tools.sh (it builds the Go servers the tests start on loopback)`);
  }
  return file;
}

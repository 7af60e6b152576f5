// The Node lines the start-up scenario compares: the oldest supported line
// and the current LTS, from the default `node` and the lines
// scripts/setup-node-lines.sh fetches (run here if it has not been).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function describe(node) {
  const [version, lts] = JSON.parse(
    execFileSync(node, ['-p', 'JSON.stringify([process.version, process.release.lts ?? null])'], { encoding: 'utf8' }),
  );
  return { node, version, lts, major: Number(version.slice(1).split('.')[0]) };
}

/**
 * `[{ node, version, label }]`: the oldest supported line, then the newest
 * LTS line (one entry when they are the same). Throws when the lines cannot
 * be fetched.
 */
export function startupLines(root, log) {
  const envFile = path.join(root, 'scripts', 'node-lines.env');
  if (!fs.existsSync(envFile)) {
    log('Fetching the other Node lines (scripts/setup-node-lines.sh)…');
    execFileSync('bash', [path.join(root, 'scripts/setup-node-lines.sh')], { stdio: 'inherit' });
  }
  const fetched = fs
    .readFileSync(envFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('MODEL_SIGNING_NODE_'))
    .map((line) => line.slice(line.indexOf('=') + 1));
  const described = [process.execPath, ...fetched].map(describe);
  const lines = described.filter((l, i) => described.findIndex((o) => o.version === l.version) === i).sort((a, b) => a.major - b.major);
  // The oldest line `engines` allows (20 in "^20.17.0 || >=22.9.0"); where it is not at hand, the oldest that is.
  const { engines } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const oldestSupported = Number(/\d+/.exec(engines.node)[0]);
  const oldest = lines[0];
  const oldestLabel = oldest.major === oldestSupported ? 'oldest supported' : `oldest at hand; Node ${oldestSupported} is not`;
  const lts = lines.filter((l) => l.lts).at(-1);
  if (!lts) throw new Error(`no LTS line among ${lines.map((l) => l.version).join(', ')}`);
  if (lts === oldest) return [{ ...oldest, label: `${oldest.version} (${oldestLabel}, current LTS)` }];
  return [
    { ...oldest, label: `${oldest.version} (${oldestLabel})` },
    { ...lts, label: `${lts.version} (current LTS, ${lts.lts})` },
  ];
}

#!/usr/bin/env node
// Publishes every public package whose version is not on the npm registry
// yet, as .github/workflows/release.yml runs it once changesets has
// versioned them: each package is packed with pnpm (which turns `workspace:`
// ranges into versions; scripts/check-packages.mjs installs such tarballs),
// then published with `npm publish --provenance`, so the registry holds a
// signed statement tying the tarball to this workflow run (it needs the job's
// `id-token: write`). Each published version is tagged `<name>@<version>`
// and printed as "New tag: …", the line changesets/action reads to push the
// tags and write the GitHub releases.
//
// Usage: node scripts/release.mjs [--dry-run]   (--dry-run: npm publish --dry-run, no provenance, no tags)
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dryRun = process.argv.includes('--dry-run');

/** Whether `name@version` is on the registry (npm view prints nothing, or fails with E404, when it is not). */
async function published(name, version) {
  try {
    const { stdout } = await run('npm', ['view', `${name}@${version}`, 'version']);
    return stdout.trim() === version;
  } catch (err) {
    if (/E404|404 Not Found/.test(String(err.stderr ?? err.message))) return false;
    throw err;
  }
}

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'oms-release-'));
try {
  // Core first: the others depend on it.
  const names = (await fs.readdir(path.join(root, 'packages'))).sort(
    (a, b) => Number(b === 'core') - Number(a === 'core') || a.localeCompare(b),
  );
  for (const name of names) {
    const dir = path.join(root, 'packages', name);
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8'));
    if (manifest.private) continue;
    const id = `${manifest.name}@${manifest.version}`;
    if (await published(manifest.name, manifest.version)) {
      console.log(`${id} is already on the registry`);
      continue;
    }
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', work], { cwd: dir });
    const tarball = path.resolve(work, path.basename(stdout.trim().split('\n').at(-1)));
    const flags = dryRun ? ['--dry-run'] : ['--provenance'];
    await run('npm', ['publish', tarball, '--access', 'public', ...flags], { cwd: dir });
    if (dryRun) {
      console.log(`would publish ${id} (${path.basename(tarball)})`);
      continue;
    }
    await run('git', ['tag', id], { cwd: root });
    console.log(`New tag: ${id}`);
  }
} finally {
  await fs.rm(work, { recursive: true, force: true });
}

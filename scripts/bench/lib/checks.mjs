// Checks that the timed commands did the real work: every manifest lists
// every file, ours and the reference's agree digest for digest, and (in
// smoke runs, where it is cheap) openssl agrees and the reference accepts
// our signatures.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { referenceCommand } from './tools.mjs';

/** The resources of a signature file: Map of name → `algorithm:digest`. */
function resourcesOf(signaturePath) {
  const bundle = JSON.parse(fs.readFileSync(signaturePath, 'utf8'));
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  return new Map(statement.predicate.resources.map((r) => [r.name, `${r.algorithm}:${r.digest}`]));
}

function expectedNames(scenario, variant, shardSize) {
  if (variant.method === 'files') return scenario.files.map((f) => f.path);
  return scenario.files.flatMap((f) => {
    const names = [];
    for (let start = 0; start < f.bytes; start += shardSize) names.push(`${f.path}:${start}:${Math.min(start + shardSize, f.bytes)}`);
    return names;
  });
}

function opensslDigests(model, files) {
  const digests = new Map();
  const out = execFileSync('openssl', ['dgst', '-sha256', '-r', ...files.map((f) => path.join(model, f.path))], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const line of out.trim().split('\n')) {
    const [digest, file] = [line.slice(0, 64), line.slice(66)];
    digests.set(path.relative(model, file).split(path.sep).join('/'), digest);
  }
  return digests;
}

/** Returns a list of failure messages (empty when everything agrees). */
export async function crossCheck({ scenarios, signatureDir, tools, keys, reference, shardSize, smoke, root }) {
  const failures = [];
  for (const scenario of scenarios) {
    for (const variant of scenario.variants) {
      const where = `${scenario.name} (${variant.id})`;
      const oursPath = path.join(signatureDir, `${scenario.name}-${variant.id}-ours.sig`);
      const ours = resourcesOf(oursPath);
      const names = expectedNames(scenario, variant, shardSize);
      const missing = names.filter((n) => !ours.has(n));
      if (missing.length > 0 || ours.size !== names.length) {
        failures.push(
          `${where}: our manifest has ${ours.size} resources, expected ${names.length} (missing e.g. ${missing.slice(0, 3).join(', ')})`,
        );
        continue;
      }
      if (reference && !variant.oursOnly) {
        const theirs = resourcesOf(path.join(signatureDir, `${scenario.name}-${variant.id}-reference.sig`));
        const differing = names.filter((n) => theirs.get(n) !== ours.get(n));
        if (differing.length > 0)
          failures.push(
            `${where}: ours and the reference disagree on ${differing.length} resources, e.g. ${differing[0]}: ${ours.get(differing[0])} vs ${theirs.get(differing[0])}`,
          );
      }
      if (!smoke) continue;
      if (variant.method === 'files' && variant.hash === 'sha256') {
        const sample = scenario.files.slice(0, 50);
        const expected = opensslDigests(scenario.model, sample);
        for (const f of sample) {
          if (ours.get(f.path) !== `sha256:${expected.get(f.path)}`)
            failures.push(`${where}: ${f.path} is ${ours.get(f.path)}, openssl says ${expected.get(f.path)}`);
        }
      }
      if (reference && !variant.oursOnly) {
        const [command, args] = referenceCommand(tools, 'verify', { model: scenario.model, signature: oursPath, keys, variant, shardSize });
        try {
          execFileSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        } catch (err) {
          failures.push(
            `${where}: the reference rejects our signature: ${String(err.stderr ?? err.message)
              .trim()
              .slice(-1000)}`,
          );
        }
      }
    }
  }
  return failures;
}

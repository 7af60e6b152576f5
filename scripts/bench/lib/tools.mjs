// The commands the benchmark times: ours (the CLI, as users run it), the
// reference (Python model-signing 1.1.1) and the machine's limit (openssl).
import fs from 'node:fs';
import path from 'node:path';

/** Paths of the programs, relative to the repository root `root`. */
export function toolPaths(root) {
  return {
    node: process.execPath,
    cli: path.join(root, 'packages/cli/dist/bin.js'),
    referenceCli: path.join(root, '.venv-ref/bin/model_signing'),
    referencePython: path.join(root, '.venv-ref/bin/python'),
    referenceApi: path.join(root, 'scripts/reference_api.py'),
  };
}

function methodFlags(variant, shardSize) {
  const flags = [];
  if (variant.method === 'shards') flags.push('--method', 'shards', '--shard-size', String(shardSize));
  if (variant.hash !== 'sha256') flags.push('--hash', variant.hash);
  return flags;
}

/** Our CLI: `sign key` or `verify key`. */
export function oursCommand(tools, action, { model, signature, keys, variant, shardSize }) {
  const args =
    action === 'sign'
      ? [tools.cli, 'sign', 'key', model, '--private-key', keys.privateKey, '--signature', signature, ...methodFlags(variant, shardSize)]
      : [tools.cli, 'verify', 'key', model, '--public-key', keys.publicKey, '--signature', signature, ...(variant.verifyFlags ?? [])];
  return [tools.node, args];
}

/**
 * The reference: its CLI for files + sha256 (the only configuration the CLI
 * offers), its Python API (scripts/reference_api.py) for shards and BLAKE3.
 */
export function referenceCommand(tools, action, { model, signature, keys, variant, shardSize }) {
  const key = action === 'sign' ? keys.privateKey : keys.publicKey;
  if (variant.method === 'files' && variant.hash === 'sha256') {
    const keyFlag = action === 'sign' ? '--private_key' : '--public_key';
    return [tools.referenceCli, [action, 'key', model, keyFlag, key, '--signature', signature]];
  }
  return [
    tools.referencePython,
    [
      tools.referenceApi,
      action,
      model,
      signature,
      key,
      '--method',
      variant.method,
      '--hash',
      variant.hash,
      '--shard-size',
      String(shardSize),
    ],
  ];
}

/** Splits files into `groups` lists of nearly equal bytes (largest first, each to the lightest group). */
export function splitByBytes(files, groups) {
  const lists = Array.from({ length: groups }, () => ({ bytes: 0, files: [] }));
  for (const f of [...files].sort((a, b) => b.bytes - a.bytes)) {
    const lightest = lists.reduce((min, l) => (l.bytes < min.bytes ? l : min));
    lightest.files.push(f);
    lightest.bytes += f.bytes;
  }
  return lists.filter((l) => l.files.length > 0).map((l) => l.files);
}

/**
 * A shell command that runs one `openssl dgst -sha256` per file list, all
 * at once, through xargs (so 20,000 paths never overflow a command line),
 * and fails if any of them fails.
 */
export function opensslCommand(listFiles) {
  const lines = ['set -e', 'pids=""'];
  for (const list of listFiles) lines.push(`xargs -0 -a '${list}' openssl dgst -sha256 > /dev/null & pids="$pids $!"`);
  lines.push('for p in $pids; do wait $p; done');
  return ['/bin/sh', ['-c', lines.join('\n')]];
}

/**
 * The machine-limit commands for a scenario, with file lists written under `listDir`:
 * - `split`: the files split among the cores by bytes, one openssl per core;
 * - `everyCore`: every core hashes all the files (its time divided by the
 *   core count is the machine's aggregate sha256 rate, with no imbalance);
 * - `oneCore`: one openssl over all the files.
 */
export function limitCommands({ scenario, model, listDir, cores }) {
  fs.mkdirSync(listDir, { recursive: true });
  const write = (name, files) => {
    const file = path.join(listDir, `${scenario.name}-${name}.list`);
    fs.writeFileSync(file, files.map((f) => path.join(model, f.path)).join('\0'));
    return file;
  };
  const all = write('all', scenario.files);
  const groups = splitByBytes(scenario.files, cores).map((files, i) => write(`core-${i}`, files));
  return {
    split: groups.length > 1 ? opensslCommand(groups) : undefined,
    everyCore: opensslCommand(Array.from({ length: cores }, () => all)),
    oneCore: opensslCommand([all]),
  };
}

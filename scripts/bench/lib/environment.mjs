// Facts about the machine and the versions under test, for the report.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }).trim();
  } catch {
    return undefined;
  }
}

function cpuFlags() {
  const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const flags = new Set((info.match(/^flags\s*:\s*(.*)$/m)?.[1] ?? '').split(' '));
  return ['sha_ni', 'avx2', 'avx512f'].filter((f) => flags.has(f));
}

/** CPU, cores, memory, OS, and the versions of every tool in the comparison. */
export function describeEnvironment(root, tools) {
  const cpus = os.cpus();
  const cliPackage = JSON.parse(fs.readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8'));
  const corePackage = JSON.parse(fs.readFileSync(path.join(root, 'packages/core/package.json'), 'utf8'));
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuFlags: cpuFlags(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    openssl: run('openssl', ['version']) ?? 'not found',
    python: run(tools.referencePython, ['--version']) ?? 'not found',
    reference: run(tools.referencePython, ['-c', 'import importlib.metadata as m; print(m.version("model-signing"))']) ?? 'not installed',
    ours: `@model-signing/cli ${cliPackage.version}, @model-signing/core ${corePackage.version}`,
    commit: run('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }) ?? 'unknown',
  };
}

import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { HashAlgorithm, SerializationMethod } from '@model-signing/core';
import { loadCoreInternals } from '../load-core.js';
// The containment check alone, without loading the rest of core.
import { staysInside } from '@model-signing/core/internal/containment';

// Kept here rather than imported so `--help` and `--version` never load core.
const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha256', 'blake2b', 'blake3'];
const DEFAULT_SHARD_SIZE = 1_000_000_000;

/** Options every command that reads a model accepts. */
export interface ModelOptions {
  ignorePaths: string[];
  ignoreGitPaths: boolean;
  ignoreAttPaths: boolean;
  allowSymlinks: boolean;
  json: boolean;
  progress: boolean;
  workers?: number;
}

/** Options of commands that hash: sign and digest. */
export interface HashOptions {
  hash: HashAlgorithm;
  method: SerializationMethod;
  shardSize: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Commander parser for options that take a positive integer. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** Adds the options shared by sign, verify and digest. */
export function addModelOptions(cmd: Command): Command {
  return cmd
    .option(
      '--ignore-paths <path>',
      'file or directory to leave out; repeatable (absolute, relative to the current directory, or relative to the model)',
      collect,
      [],
    )
    .option('--ignore-git-paths', 'leave out .git, .gitattributes, .github and .gitignore at the model root', true)
    .option('--no-ignore-git-paths', 'include git files')
    .option('--ignore-att-paths', 'leave out signature and attestation files at the model root: claims.jsonl, *.sig, *.sigstore.json', true)
    .option('--no-ignore-att-paths', 'include them (verifying still checks those the signature lists)')
    .option('--allow-symlinks', 'follow symbolic links to files inside the model', false)
    .option('--workers <n>', 'hashing threads (default: all cores)', positiveInteger)
    .option('--no-progress', 'do not show a progress bar')
    .option('--json', 'print a machine-readable result on stdout', false);
}

/** Adds --hash, --method and --shard-size. */
export function addHashOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--hash <algorithm>', 'file hash').choices([...HASH_ALGORITHMS]).default('sha256'))
    .addOption(
      new Option('--method <method>', 'one digest per file, or per fixed-size shard of each file')
        .choices(['files', 'shards'])
        .default('files'),
    )
    .option('--shard-size <bytes>', 'shard size for --method shards', positiveInteger, DEFAULT_SHARD_SIZE);
}

/**
 * Resolves --ignore-paths values: a path that, taken from the current
 * directory, lies inside the model is used as is (the reference's rule);
 * any other relative path is taken relative to the model root.
 */
export function resolveIgnorePaths(modelPath: string, values: readonly string[]): string[] {
  const root = path.resolve(modelPath);
  return values.map((value) => {
    const fromCwd = path.resolve(value);
    const rel = path.relative(root, fromCwd);
    const inside = rel !== '' && staysInside(rel, path.sep);
    return path.isAbsolute(value) || inside ? fromCwd : value;
  });
}

/**
 * The walk options for core from parsed CLI options. A Hugging Face cache
 * snapshot (what huggingface_hub downloads) is a folder of links into its
 * cache repo's `blobs/`: with --allow-symlinks, as for the reference, its
 * links may resolve anywhere in that repo folder, and no further.
 */
export async function walkOptionsFrom(modelPath: string, opts: ModelOptions) {
  const repoFolder = opts.allowSymlinks ? await (await loadCoreInternals()).hubCacheRepoFolder(modelPath) : undefined;
  return {
    modelPath,
    ignorePaths: resolveIgnorePaths(modelPath, opts.ignorePaths),
    ignoreGitPaths: opts.ignoreGitPaths,
    ignoreAttestationFiles: opts.ignoreAttPaths,
    allowSymlinks: opts.allowSymlinks,
    ...(repoFolder !== undefined ? { symlinkTargetRoot: repoFolder } : {}),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
  };
}

import fs from 'node:fs/promises';
import { statSync, type BigIntStats, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import { staysInside } from '../format/containment.js';
import { compareResourceNames } from '../format/manifest.js';
import { isTemporaryName } from './temporary.js';
import { GIT_PATHS } from '../format/model-path.js';
import { CLAIMS_FILE_NAME, isAttestationFile } from '../format/attestation-files.js';
import { modelNameOf, toModelRelative } from './paths.js';

/** Options that decide which files make up a model. */
export interface WalkOptions {
  /** A model directory or a single model file. */
  modelPath: string;
  /**
   * Paths to exclude: model-relative POSIX paths, or absolute paths inside the
   * model. A directory excludes its whole subtree. Matching is exact (no globs).
   */
  ignorePaths?: readonly string[];
  /** Exclude `.git`, `.gitattributes`, `.github`, `.gitignore` at the model root. Default true. */
  ignoreGitPaths?: boolean;
  /**
   * Exclude signature and attestation files at the model root
   * (`claims.jsonl`, `*.sig`, `*.sigstore.json`: `ATTESTATION_FILE_PATTERNS`)
   * and record them in the ignore paths. Default true.
   */
  ignoreAttestationFiles?: boolean;
  /** Follow symbolic links to files inside the model (or `symlinkTargetRoot`). Default false: any symlink is an error. */
  allowSymlinks?: boolean;
  /**
   * With `allowSymlinks`, link targets must resolve inside this directory.
   * Defaults to the model root. A Hugging Face cache snapshot widens it to
   * its cache repo folder, whose `blobs/` its links point into.
   */
  symlinkTargetRoot?: string;
  /**
   * Called with the stats of each regular file the walk lists (nanosecond
   * times: its one stat is taken with `bigint`), its index in `files` and
   * its entry, so that the local hash record needs no second stat per file.
   * Files reached through a symlink and a single-file model are not reported.
   */
  onFileStats?: (index: number, stats: BigIntStats, file: ModelFile) => void;
}

/** A file that belongs to the model. */
export interface ModelFile {
  /** Model-relative POSIX path; `.` for a single-file model. */
  name: string;
  /** Absolute path to read the bytes from (a symlink's resolved target). */
  absolutePath: string;
  size: number;
}

/** The result of walking a model. */
export interface WalkedModel {
  /** Absolute path of the model directory or file. */
  root: string;
  isSingleFile: boolean;
  modelName: string;
  /**
   * Files in signing order: by name, code point by code point (OMS spec
   * §5.2.1), the order `sortResources` puts a manifest in.
   */
  files: ModelFile[];
  /** Every ignore path that applied, model-relative, sorted; recorded in the signature. */
  ignorePaths: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalidName(raw: Buffer, parentRel: string): ModelSigningError {
  const shown = `${parentRel === '' ? '' : parentRel + '/'}${raw.toString('utf8')}`;
  return new ModelSigningError({
    code: 'INVALID_FILE_NAME',
    path: shown,
    message: `File name '${shown}' is not valid UTF-8; OMS manifests need UTF-8 names. Rename the file.`,
  });
}

/** A UTF-16 unit at or above the surrogates, where code-unit and code-point order can differ. */
const HIGH_UNIT = /[\ud800-\uffff]/;

/**
 * Sorts names in code-point order (`compareResourceNames`): with the
 * runtime's own string order, which is the same unless a name has a
 * surrogate pair, and much faster than a comparator for big folders.
 */
function sortNames(names: string[]): string[] {
  return names.some((n) => HIGH_UNIT.test(n)) ? names.sort(compareResourceNames) : names.sort();
}

function isInside(root: string, target: string): boolean {
  return staysInside(path.relative(root, target), path.sep);
}

async function resolveLink(linkPath: string, rel: string, targetRoot: string): Promise<{ target: string; stats: Stats }> {
  let target: string;
  try {
    target = await fs.realpath(linkPath);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'forms a cycle' : code === 'ENOENT' ? 'points to a missing file' : `cannot be resolved (${code})`;
    throw new ModelSigningError({
      code: code === 'ELOOP' ? 'SYMLINK_REFUSED' : 'NOT_FOUND',
      path: rel,
      cause,
      message: `Symbolic link '${rel}' ${why}`,
    });
  }
  if (!isInside(targetRoot, target)) {
    throw new ModelSigningError({
      code: 'PATH_ESCAPE',
      path: rel,
      message: `Symbolic link '${rel}' points outside the model (${target}); only links that stay inside ${targetRoot} are followed`,
    });
  }
  try {
    return { target, stats: await fs.stat(target) };
  } catch (cause) {
    throw unreadable(rel, 'file', cause);
  }
}

/** The resolved path of an existing directory option. */
async function realDirectory(dir: string): Promise<string> {
  try {
    return await fs.realpath(path.resolve(dir));
  } catch (cause) {
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: dir,
      cause,
      message: `'${dir}' does not exist or cannot be resolved: ${(cause as Error).message}`,
    });
  }
}

function unreadable(rel: string, what: 'file' | 'directory' | 'model path', cause: unknown): ModelSigningError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
  return new ModelSigningError({
    code: 'READ_FAILED',
    path: rel,
    cause,
    message: `Could not read the ${what} '${rel}' (${code}): ${(cause as Error).message}`,
  });
}

/**
 * The stats of a listed file, or undefined when it was deleted since its
 * directory was read: a file gone mid-walk is simply not part of the model
 * (so a signed one is reported missing).
 */
function statOrGone(abs: string, rel: () => string, bigint: boolean): Stats | BigIntStats | undefined {
  try {
    return bigint ? statSync(abs, { bigint: true, throwIfNoEntry: false }) : statSync(abs, { throwIfNoEntry: false });
  } catch (cause) {
    throw unreadable(rel(), 'file', cause);
  }
}

/** A folder's entries by kind: regular files, folders, and the rest (links, FIFOs, sockets, devices) by name. */
interface Listing {
  files: string[];
  folders: string[];
  others: Map<string, Dirent>;
}

/** A size as a small integer when it fits: the runtime then stores it in the object instead of in a 16-byte box. */
function compact(size: number): number {
  return size < 0x40000000 ? size | 0 : size;
}

/** How many folders are listed on the thread pool ahead of the one being visited. */
const LIST_AHEAD = 4;

function emptyListing(): Listing {
  return { files: [], folders: [], others: new Map() };
}

function classify(listing: Listing, name: string, entry: Dirent | Dirent<Buffer>): void {
  if (entry.isFile()) listing.files.push(name);
  else if (entry.isDirectory()) listing.folders.push(name);
  else listing.others.set(name, entry as Dirent);
}

/**
 * Lists a folder. Names come decoded as UTF-8; one that is not valid UTF-8
 * comes back with U+FFFD in it, and only then is the folder read again as
 * bytes to tell: such a name is `INVALID_FILE_NAME`, or skipped when
 * `skipInvalidNames` (it cannot be a signed name). A folder deleted during
 * the walk holds no files; its signed files are then missing.
 */
async function list(dirAbs: string, dirRel: string, skipInvalidNames: boolean): Promise<Listing> {
  const unreadableFolder = (cause: unknown) => unreadable(dirRel === '' ? '.' : dirRel, 'directory', cause);
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dirAbs, { withFileTypes: true });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return emptyListing();
    throw unreadableFolder(cause);
  }
  const listing = emptyListing();
  for (const entry of entries) {
    if (entry.name.includes('\ufffd'))
      return listAsBytes(dirAbs, dirRel, skipInvalidNames).catch((cause: unknown) => {
        throw cause instanceof ModelSigningError ? cause : unreadableFolder(cause);
      });
    classify(listing, entry.name, entry);
  }
  return listing;
}

async function listAsBytes(dirAbs: string, dirRel: string, skipInvalidNames: boolean): Promise<Listing> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await fs.readdir(dirAbs, { encoding: 'buffer', withFileTypes: true });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return emptyListing();
    throw cause;
  }
  const listing = emptyListing();
  for (const entry of entries) {
    let name: string;
    try {
      name = utf8.decode(entry.name);
    } catch {
      if (skipInvalidNames) continue;
      throw invalidName(entry.name, dirRel);
    }
    classify(listing, name, entry);
  }
  return listing;
}

function specialFile(rel: string): ModelSigningError {
  return new ModelSigningError({
    code: 'SPECIAL_FILE',
    path: rel,
    message: `'${rel}' is neither a regular file nor a directory (device, socket or FIFO); remove it or add it to the ignore paths`,
  });
}

function refusedLink(rel: string): ModelSigningError {
  return new ModelSigningError({
    code: 'SYMLINK_REFUSED',
    path: rel,
    message: `'${rel}' is a symbolic link; symlinks are refused unless the allowSymlinks option is set`,
  });
}

/**
 * Lists the files of a model: applies ignore rules (checked before anything
 * else, so an ignored symlink is never an error), the symlink policy and
 * containment, and rejects special files and non-UTF-8 names.
 *
 * Temporary files and folders of this library (`TEMPORARY_PREFIX`, at any
 * depth) are never listed. Files and folders deleted while the walk runs
 * are left out; any other error reading a folder or a file's size is
 * `READ_FAILED`.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SYMLINK_REFUSED`, `PATH_ESCAPE`,
 *   `SPECIAL_FILE`, `INVALID_FILE_NAME`, `READ_FAILED`.
 */
export function walkModel(options: WalkOptions): Promise<WalkedModel> {
  return walkSelected(options);
}

/**
 * {@link walkModel} restricted to the entries `select` accepts (model-relative
 * paths of files and folders): the others are skipped before any check, as
 * if absent. Verifying with unsigned files tolerated selects only the signed
 * files and their folders, so, as in the reference, nothing else in the
 * model is examined (an unsigned symlink, FIFO or non-UTF-8 name is no error).
 */
export async function walkSelected(options: WalkOptions, select?: (rel: string) => boolean): Promise<WalkedModel> {
  const root = path.resolve(options.modelPath);
  const allowSymlinks = options.allowSymlinks ?? false;
  const onFileStats = options.onFileStats;
  let rootStats: Stats;
  try {
    rootStats = await fs.lstat(root);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(options.modelPath, 'model path', cause);
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: options.modelPath,
      cause,
      message: `Model path '${options.modelPath}' does not exist`,
    });
  }
  const ignorePaths = new Set<string>();
  if (options.ignoreGitPaths ?? true) GIT_PATHS.forEach((p) => ignorePaths.add(p));
  const ignoreAttestations = options.ignoreAttestationFiles ?? true;
  if (ignoreAttestations) ignorePaths.add(CLAIMS_FILE_NAME);
  for (const p of options.ignorePaths ?? []) {
    const rel = toModelRelative(root, p);
    if (rel !== undefined) ignorePaths.add(rel);
  }
  const ignored = [...ignorePaths];
  // An ignored folder is never entered, so an entry is ignored only when its
  // own path is listed: one lookup, and only at depths some ignore path has.
  const ignoredDepths = new Set(ignored.map((p) => p.split('/').length));
  /** Attestation files found (at the root), recorded as ignored so that verifiers without the rule skip them too. */
  const attestations = new Set<string>();
  const result: WalkedModel = {
    root,
    isSingleFile: false,
    modelName: modelNameOf(options.modelPath),
    files: [],
    ignorePaths: ignored.sort(),
  };

  let realRoot = root;
  if (rootStats.isSymbolicLink()) {
    if (!allowSymlinks) throw refusedLink(options.modelPath);
    try {
      realRoot = await fs.realpath(root);
      rootStats = await fs.stat(realRoot);
    } catch (cause) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: options.modelPath,
        cause,
        message: `Model path '${options.modelPath}' is a symbolic link that cannot be resolved: ${(cause as Error).message}`,
      });
    }
  }
  if (rootStats.isFile()) {
    result.isSingleFile = true;
    result.files.push({ name: '.', absolutePath: realRoot, size: rootStats.size });
    return result;
  }
  if (!rootStats.isDirectory()) throw specialFile(options.modelPath);
  const targetRoot = options.symlinkTargetRoot ? await realDirectory(options.symlinkTargetRoot) : realRoot;

  // A folder's entries are sorted (folders as `name/`, since `/` is what
  // follows them in a path) and visited in that order, so files come out
  // in signing order without sorting a million paths at the end. Sizes
  // come from synchronous stats: each is a few microseconds from the inode
  // cache, while an awaited stat costs a thread-pool round trip.
  const visitLink = async (abs: string, rel: string): Promise<void> => {
    if (!allowSymlinks) throw refusedLink(rel);
    const { target, stats } = await resolveLink(abs, rel, targetRoot);
    if (stats.isFile()) {
      result.files.push({ name: rel, absolutePath: target, size: compact(stats.size) });
    } else if (stats.isDirectory()) {
      // The reference does not descend into linked directories, so their
      // files would silently be unsigned; refuse instead of dropping them.
      throw new ModelSigningError({
        code: 'SYMLINK_REFUSED',
        path: rel,
        message: `'${rel}' is a symbolic link to a directory; only links to files are supported. Replace it with a real directory.`,
      });
    } else {
      throw specialFile(rel);
    }
  };
  // A million files are kept in memory, so each is made lean: one flat path
  // (`[a, b].join('')`: `a + b` makes a rope that keeps its parts, then a flat
  // copy once read), its name a view into it where the separator is '/'.
  const rootPrefix = realRoot.endsWith(path.sep) ? realRoot.length : realRoot.length + 1;
  const nameOf = (abs: string, relPrefix: string, key: string) => (path.sep === '/' ? abs.slice(rootPrefix) : [relPrefix, key].join(''));
  const visit = async (dirAbs: string, dirRel: string, depth: number, listing: Promise<Listing>): Promise<void> => {
    const { files, folders, others } = await listing;
    const checkIgnored = ignoredDepths.has(depth);
    const checkAttestations = ignoreAttestations && depth === 1;
    const keep = (name: string, rel: string) => {
      // Our own temporaries first: a signature being written beside the model is not an attestation to record.
      if (isTemporaryName(name)) return false;
      if (checkAttestations && isAttestationFile(rel)) {
        attestations.add(rel);
        return false;
      }
      return !((checkIgnored && ignorePaths.has(rel)) || (select && !select(rel)));
    };
    const absPrefix = dirAbs.endsWith(path.sep) ? dirAbs : dirAbs + path.sep;
    const relPrefix = dirRel === '' ? '' : dirRel + '/';
    const keys = folders.length === 0 && others.size === 0 ? files : [...files, ...folders.map((f) => f + '/'), ...others.keys()];
    const subfolders: string[] = [];
    for (const key of sortNames(keys)) if (key.endsWith('/') && keep(key.slice(0, -1), relPrefix + key.slice(0, -1))) subfolders.push(key);
    // Folders are listed a few ahead on the thread pool while this thread stats files.
    const listings = new Map<string, Promise<Listing>>();
    let listed = 0;
    const listAhead = () => {
      for (; listed < subfolders.length && listings.size < LIST_AHEAD; listed++) {
        const name = subfolders[listed].slice(0, -1);
        const listing = list(absPrefix + name, relPrefix + name, select !== undefined);
        listing.catch(() => undefined);
        listings.set(name, listing);
      }
    };
    listAhead();
    for (const key of keys) {
      if (key.endsWith('/')) {
        const name = key.slice(0, -1);
        const listing = listings.get(name);
        if (listing === undefined) continue;
        listings.delete(name);
        listAhead();
        await visit(absPrefix + name, relPrefix + name, depth + 1, listing);
        continue;
      }
      const rel = relPrefix + key;
      if (!keep(key, rel)) continue;
      const other = others.get(key);
      if (other === undefined) {
        const abs = [absPrefix, key].join('');
        const stats = statOrGone(abs, () => rel, onFileStats !== undefined);
        if (stats) {
          const file = { name: nameOf(abs, relPrefix, key), absolutePath: abs, size: compact(Number(stats.size)) };
          result.files.push(file);
          onFileStats?.(result.files.length - 1, stats as BigIntStats, file);
        }
      } else if (other.isSymbolicLink()) {
        const abs = absPrefix + key;
        await visitLink(abs, rel);
      } else {
        throw specialFile(rel);
      }
    }
  };
  await visit(realRoot, '', 1, list(realRoot, '', select !== undefined));
  if (attestations.size > 0) result.ignorePaths = [...new Set([...result.ignorePaths, ...attestations])].sort();
  return result;
}

/** What {@link countModelFiles} leaves out and where it stops. */
export interface CountOptions {
  /** Model-relative paths not counted (a folder: its whole subtree). */
  ignorePaths?: readonly string[];
  /** Stop counting here and return it. */
  atMost?: number;
}

/**
 * How many files a model path holds, cheaply: every entry that is not a
 * folder (files, links, anything else) at any depth, from the folders'
 * listings alone, with no stat and no check. Folders that cannot be read
 * count as empty and nothing throws: the walk reports those problems. A file
 * counts 1, a missing path 0. For a limit that follows the model's size,
 * taken before its signature is read.
 */
export async function countModelFiles(modelPath: string, options: CountOptions = {}): Promise<number> {
  const atMost = options.atMost ?? Number.MAX_SAFE_INTEGER;
  const ignored = new Set(options.ignorePaths ?? []);
  const root = path.resolve(modelPath);
  const rootStats = await fs.stat(root).catch(() => undefined);
  if (!rootStats?.isDirectory()) return rootStats ? 1 : 0;
  let count = 0;
  const folders: [abs: string, rel: string][] = [[root, '']];
  for (let next = folders.pop(); next !== undefined && count < atMost; next = folders.pop()) {
    const [abs, rel] = next;
    const entries = await fs.readdir(abs, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const entryRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (ignored.has(entryRel)) continue;
      if (entry.isDirectory()) folders.push([path.join(abs, entry.name), entryRel]);
      else count++;
    }
  }
  return Math.min(count, atMost);
}

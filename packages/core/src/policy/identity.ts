// Runtime-neutral (no `node:*`). How a model was addressed, which is what a
// policy's rules match: a Hugging Face repo at a revision, a local path, a
// URL, an OCI reference. Each is normalised once, so that two spellings of
// the same model meet the same rule (a deny rule must not be dodged by
// writing a name another way).
import { ModelSigningError } from '../errors.js';

/** How a model was addressed; what rules match against. */
export type ModelIdentity =
  | { kind: 'huggingface'; repo: string; revision?: string }
  | { kind: 'path'; path: string }
  | { kind: 'url'; url: string }
  | { kind: 'oci'; reference: string };

/** An OCI reference split into its parts, Docker's defaults applied. */
export interface OciReference {
  /** `registry/repository`, lowercased registry (`docker.io/library/ubuntu`). */
  repository: string;
  tag?: string;
  digest?: string;
}

function invalid(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'INVALID_ARGUMENT', message });
}

/** A Hugging Face repo id as the Hub resolves it: names are case-insensitive there, so compared lowercased. */
export function normalizeRepoId(repo: string): string {
  const id = repo.trim();
  if (
    id === '' ||
    /\s/.test(id) ||
    id.split('/').some((part) => part === '' || part === '.' || part === '..') ||
    id.split('/').length > 2
  ) {
    throw invalid(`'${repo}' is not a Hugging Face repo id (namespace/name)`);
  }
  return id.toLowerCase();
}

/** An absolute path in POSIX form (`C:\m` → `C:/m`), `.` and `..` resolved, no trailing slash. */
export function normalizeAbsolutePath(p: string): string {
  const slashed = p.replace(/\\/g, '/');
  const drive = /^[A-Za-z]:\//.exec(slashed)?.[0];
  if (!slashed.startsWith('/') && drive === undefined) throw invalid(`'${p}' is not an absolute path`);
  const rest = drive === undefined ? slashed : slashed.slice(drive.length - 1);
  const out: string[] = [];
  for (const part of rest.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `${drive === undefined ? '' : drive.slice(0, 2).toUpperCase()}/${out.join('/')}`;
}

// RFC 3986 §6.2.2.2: percent-encoded unreserved characters mean the characters themselves.
const UNRESERVED = /%(2[DdEe]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|7[Ee])/g;

/**
 * An http(s) URL as rules compare it: scheme, host (lowercased, default port
 * dropped) and path (dot segments resolved, unreserved characters decoded);
 * query and fragment left out, they do not name another model.
 */
export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`'${url}' is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalid(`'${url}' is not an http(s) URL`);
  if (parsed.username !== '' || parsed.password !== '') throw invalid(`'${url}' holds credentials; leave them out of a model's identity`);
  const path = parsed.pathname.replace(UNRESERVED, (c) => String.fromCharCode(parseInt(c.slice(1), 16)));
  return `${parsed.protocol}//${parsed.host}${path}`;
}

/**
 * Splits an OCI reference (`registry/repo[:tag][@sha256:…]`) as Docker does:
 * without a registry it is `docker.io`, and a single-name repository there
 * is under `library/`.
 */
export function parseOciReference(reference: string): OciReference {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1).toLowerCase();
    rest = rest.slice(0, at);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw invalid(`'${reference}' has an invalid digest (sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw invalid(`'${reference}' has an invalid tag '${tag}'`);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!.toLowerCase();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw invalid(`'${reference}' is not an OCI reference (registry/repository[:tag][@digest], lowercase repository)`);
  }
  return { repository: `${registry}/${repository}`, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The identity in normal form, or `INVALID_ARGUMENT` saying what is wrong with it. */
export function normalizeIdentity(identity: ModelIdentity): ModelIdentity {
  switch (identity.kind) {
    case 'huggingface':
      return {
        kind: 'huggingface',
        repo: normalizeRepoId(identity.repo),
        ...(identity.revision !== undefined ? { revision: identity.revision } : {}),
      };
    case 'path':
      return { kind: 'path', path: normalizeAbsolutePath(identity.path) };
    case 'url':
      return { kind: 'url', url: normalizeUrl(identity.url) };
    case 'oci': {
      const { repository, tag, digest } = parseOciReference(identity.reference);
      return { kind: 'oci', reference: `${repository}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}` };
    }
    default:
      throw invalid(`unknown kind of model identity '${(identity as { kind: unknown }).kind as string}'`);
  }
}

/** The identity for people: `Hugging Face repo my-org/tiny at main`, `local path /srv/m`, … */
export function describeIdentity(identity: ModelIdentity): string {
  switch (identity.kind) {
    case 'huggingface':
      return `Hugging Face repo ${identity.repo}${identity.revision !== undefined ? ` at revision ${identity.revision}` : ' (no revision given)'}`;
    case 'path':
      return `local path ${identity.path}`;
    case 'url':
      return `URL ${identity.url}`;
    case 'oci':
      return `OCI reference ${identity.reference}`;
  }
}

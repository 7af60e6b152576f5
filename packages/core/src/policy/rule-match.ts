// Runtime-neutral (no `node:*`). Which models a rule covers, and how
// specific it is. Globs are translated to RE2 (linear time, anchored), so a
// pattern cannot backtrack whatever name it meets.
import { RE2JS } from 're2js';
import type { MatchDocument } from './document.js';
import { normalizeAbsolutePath, normalizeUrl, parseOciReference, type ModelIdentity } from './identity.js';

/**
 * How specific a match is, compared left to right: a pinned version
 * (revision, tag or digest: 1, a digest 2) beats none; an exact name beats a
 * pattern; then more literal characters (everything but wildcards, or the
 * length of a URL prefix) beat fewer.
 */
export type Specificity = readonly [pin: number, exact: number, literal: number];

/** Orders specificities, most specific first. */
export function compareSpecificity(a: Specificity, b: Specificity): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return b[i] - a[i];
  return 0;
}

/** A rule's match, compiled. */
export interface RuleMatcher {
  kind: ModelIdentity['kind'];
  /** The match as written, for people: `huggingface my-org/* at revision abc`. */
  description: string;
  /** A key equal for two matches that cover exactly the same models. */
  key: string;
  specificity: Specificity;
  matches(identity: ModelIdentity): boolean;
}

/** Why a match cannot be compiled. */
export class MatchError extends Error {
  constructor(
    readonly field: keyof MatchDocument,
    message: string,
  ) {
    super(message);
    this.name = 'MatchError';
  }
}

/**
 * An OCI repository pattern with Docker's defaults, as references are
 * normalised (`ubuntu` → `docker.io/library/ubuntu`, `org/*` → `docker.io/org/*`).
 */
function ociPattern(text: string): string {
  const refuse = () =>
    new MatchError('oci', `'${text}' is not an OCI repository or pattern (registry/repository; pin a version with tag or digest)`);
  const lower = text.toLowerCase();
  if (!/^[a-z0-9._\-/:*?]+$/.test(lower)) throw refuse();
  const parts = lower.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) registry = parts.shift()!;
  if (parts.some((p) => p === '' || p.includes(':'))) throw refuse();
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && parts.length === 1 && !parts[0].includes('*')) parts.unshift('library');
  return `${registry}/${parts.join('/')}`;
}

/** A compiled glob: `*` and `?` stay within a path segment, `**` crosses them. */
interface Glob {
  test(text: string): boolean;
  exact: boolean;
  literal: number;
}

/**
 * Compiles a glob into an anchored RE2 expression: `*` any run of characters
 * but `/`, `?` one such character, `**` any run at all (`a/**` also matches
 * `a`, and `**` followed by `/` may match nothing). Every other character is
 * literal; `[`, `]`, `{` and `}` are refused rather than read as classes or
 * alternatives some other tool would see.
 */
export function compileGlob(glob: string): Glob {
  if (/[[\]{}]/.test(glob)) throw new Error(`'${glob}' holds [ ] { }; only *, ** and ? are wildcards`);
  let regex = '';
  let literal = 0;
  for (let i = 0; i < glob.length;) {
    if (glob.startsWith('/**', i) && i + 3 === glob.length) {
      regex += '(?:/.*)?';
      i += 3;
    } else if (glob.startsWith('**/', i) && (i === 0 || glob[i - 1] === '/')) {
      regex += '(?:.*/)?';
      i += 3;
    } else if (glob.startsWith('**', i)) {
      regex += '.*';
      i += 2;
    } else if (glob[i] === '*') {
      regex += '[^/]*';
      i += 1;
    } else if (glob[i] === '?') {
      regex += '[^/]';
      i += 1;
    } else {
      const codePoint = glob.codePointAt(i)!;
      const char = String.fromCodePoint(codePoint);
      regex += RE2JS.quote(char);
      literal += 1;
      i += char.length;
    }
  }
  const re = RE2JS.compile(regex, RE2JS.DOTALL);
  return { test: (text) => re.testExact(text), exact: !/[*?]/.test(glob), literal };
}

function kindsOf(match: MatchDocument): (keyof MatchDocument)[] {
  return (['huggingface', 'path', 'url', 'oci'] as const).filter((k) => match[k] !== undefined);
}

/**
 * Compiles a rule's match.
 *
 * @throws {MatchError} naming the field that is wrong.
 */
export function compileMatch(match: MatchDocument): RuleMatcher {
  const kinds = kindsOf(match);
  if (kinds.length !== 1) throw new MatchError(kinds[1] ?? 'huggingface', 'a match needs exactly one of huggingface, path, url, oci');
  const glob = (field: keyof MatchDocument, text: string): Glob => {
    try {
      return compileGlob(text);
    } catch (err) {
      throw new MatchError(field, (err as Error).message);
    }
  };
  if (match.huggingface !== undefined) {
    const pattern = match.huggingface.toLowerCase();
    if (/\s/.test(pattern) || pattern.split('/').length > 2) {
      throw new MatchError('huggingface', `'${match.huggingface}' is not a repo id or pattern (namespace/name, * for any)`);
    }
    const compiled = glob('huggingface', pattern);
    const revision = match.revision;
    return {
      kind: 'huggingface',
      description: `huggingface ${match.huggingface}${revision !== undefined ? ` at revision ${revision}` : ''}`,
      key: `huggingface\u0000${pattern}\u0000${revision ?? ''}`,
      specificity: [revision !== undefined ? 1 : 0, compiled.exact ? 1 : 0, compiled.literal],
      matches: (id) => id.kind === 'huggingface' && compiled.test(id.repo) && (revision === undefined || id.revision === revision),
    };
  }
  if (match.path !== undefined) {
    let pattern: string;
    try {
      pattern = normalizeAbsolutePath(match.path);
    } catch {
      throw new MatchError('path', `'${match.path}' is not an absolute path or pattern`);
    }
    // `/srv/models/**` normalises to itself; keep a trailing `/**` the normaliser would not change anyway.
    const compiled = glob('path', pattern);
    return {
      kind: 'path',
      description: `path ${match.path}`,
      key: `path\u0000${pattern}`,
      specificity: [0, compiled.exact ? 1 : 0, compiled.literal],
      matches: (id) => id.kind === 'path' && compiled.test(id.path),
    };
  }
  if (match.url !== undefined) {
    let prefix: string;
    try {
      if (/[?#]/.test(match.url)) throw new Error('query');
      prefix = normalizeUrl(match.url);
    } catch {
      throw new MatchError('url', `'${match.url}' is not an http(s) URL prefix (no query, fragment or credentials)`);
    }
    return {
      kind: 'url',
      description: `url ${match.url}`,
      key: `url\u0000${prefix}`,
      specificity: [0, 0, prefix.length],
      // At a path-segment boundary: https://h/org must not cover https://h/organisation.
      matches: (id) =>
        id.kind === 'url' && (id.url === prefix || (id.url.startsWith(prefix) && (prefix.endsWith('/') || id.url[prefix.length] === '/'))),
    };
  }
  const text = match.oci!;
  const repository = ociPattern(text);
  const compiled = glob('oci', repository);
  const pin = match.digest !== undefined ? 2 : match.tag !== undefined ? 1 : 0;
  return {
    kind: 'oci',
    description: `oci ${text}${match.tag !== undefined ? `:${match.tag}` : ''}${match.digest !== undefined ? `@${match.digest}` : ''}`,
    key: `oci\u0000${repository}\u0000${match.tag ?? ''}\u0000${match.digest ?? ''}`,
    specificity: [pin, compiled.exact ? 1 : 0, compiled.literal],
    matches: (id) => {
      if (id.kind !== 'oci') return false;
      const ref = parseOciReference(id.reference);
      return (
        compiled.test(ref.repository) &&
        (match.tag === undefined || ref.tag === match.tag) &&
        (match.digest === undefined || ref.digest === match.digest)
      );
    },
  };
}

import { ModelSigningError } from '@model-signing/core';
import type { HubFile } from './hub-source.js';

/**
 * Picks the signed files that `patterns` select, as huggingface_hub's
 * `allow_patterns` does: each pattern is an fnmatch pattern over the repo path
 * (`*` also crosses `/`, `?` is one character, `[…]` a set, `[!…]` its
 * complement), a plain path selects that file, and a trailing `/` selects
 * everything below it.
 *
 * Unlike `allow_patterns`, a pattern that selects no signed file is an error:
 * a file asked for by name must be covered by the signature.
 *
 * @throws {ModelSigningError} `UNSIGNED_FILE` when a pattern selects only
 *   files the signature does not cover; `MISSING_FILE` when it selects nothing.
 */
export function selectFiles(signed: readonly HubFile[], listed: readonly HubFile[], patterns: readonly string[]): HubFile[] {
  const selected = new Set<HubFile>();
  for (const pattern of patterns) {
    const matches = fnmatch(pattern.endsWith('/') ? `${pattern}*` : pattern);
    const hits = signed.filter((f) => matches(f.name));
    if (hits.length > 0) {
      for (const f of hits) selected.add(f);
      continue;
    }
    const unsigned = listed.find((f) => matches(f.name));
    if (unsigned) {
      throw new ModelSigningError({
        code: 'UNSIGNED_FILE',
        path: unsigned.name,
        message: `'${pattern}' selects '${unsigned.name}', which the signature does not cover; only signed files can be downloaded verified`,
      });
    }
    throw new ModelSigningError({ code: 'MISSING_FILE', path: pattern, message: `No signed file of the repo matches '${pattern}'` });
  }
  return signed.filter((f) => selected.has(f));
}

/**
 * `allowPatterns` as a list, checked before anything is fetched.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for an empty list or pattern.
 */
export function allowPatternList(allowPatterns: string | readonly string[] | undefined): readonly string[] | undefined {
  const patterns = typeof allowPatterns === 'string' ? [allowPatterns] : allowPatterns;
  if (patterns !== undefined && (patterns.length === 0 || patterns.some((p) => p === ''))) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'allowPatterns must list at least one non-empty path or pattern' });
  }
  return patterns;
}

/** Python's `fnmatch.fnmatchcase`: the pattern translated to an anchored regular expression. */
function fnmatch(pattern: string): (name: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      // As in fnmatch, a `]` right after `[` or `[!` belongs to the set, and a `[` never closed is literal.
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      const close = pattern.indexOf(']', j);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let set = pattern.slice(i + 1, close).replace(/[\\\]^[]/g, '\\$&');
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      source += `[${set}]`;
      i = close;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const re = new RegExp(`^(?:${source})$`, 's');
  return (name) => re.test(name);
}

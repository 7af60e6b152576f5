// Pure string logic, no `node:*` imports: this check runs wherever paths are
// compared (Node, browsers, workers) and is the project's only containment test.

/**
 * Whether a relative path stays inside the folder it is relative to: it is
 * not absolute and no component is `..`. Pass what `path.relative(base,
 * target)` returns, with that platform's separator; `''` (the folder
 * itself) stays inside.
 *
 * Components are compared whole, so names that merely start with dots
 * (`..data`, `...`, `a/..b`) are inside, while `..`, `../x` and `a/../../x`
 * are not. On Windows (`separator` `\`), `/` separates too, and drive
 * letters and UNC paths count as absolute.
 */
export function staysInside(relative: string, separator: '/' | '\\' = '/'): boolean {
  if (relative.startsWith('/')) return false;
  if (separator === '\\' && (relative.startsWith('\\') || /^[A-Za-z]:/.test(relative))) return false;
  const parts = separator === '\\' ? relative.split(/[\\/]/) : relative.split('/');
  return !parts.includes('..');
}

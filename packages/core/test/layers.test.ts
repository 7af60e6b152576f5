// The layering of packages/core must not rot: everything under src/format/,
// src/session/, src/sources/ and src/claims/, and everything src/browser.ts and
// src/internal.ts reach, runs without Node, so none of it may
// import a Node built-in or use Node's globals. Type-only imports are erased
// by the compiler and allowed (format/hash-algorithms.ts types the built-ins
// it takes from `process.getBuiltinModule` when the runtime has them).
import fs from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
const NODE_BUILTINS = new Set(builtinModules);

/** Source without comments, so prose that mentions Buffer or process does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Module specifiers a file imports at run time (static, re-export and dynamic), type-only ones left out. */
function runtimeImports(text: string): string[] {
  const specs: string[] = [];
  for (const m of code(text).matchAll(
    /\b(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g,
  )) {
    if (m[4] !== undefined) specs.push(m[4]);
    else if (m[2] === undefined) specs.push(m[3]);
  }
  return specs;
}

/** Which Node things a file uses at run time, if any. */
function nodeUses(text: string): string[] {
  const uses = runtimeImports(text).filter((spec) => spec.startsWith('node:') || NODE_BUILTINS.has(spec.split('/')[0]));
  const body = code(text);
  if (/(?<![.\w$])Buffer\b/.test(body)) uses.push('Buffer');
  // A bare `process` (globalThis.process?.… is how neutral code asks whether it runs in Node).
  if (/(?<![.\w$])process\s*\??\./.test(body)) uses.push('process');
  return uses;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

/** Every source file reachable from `entry` through relative run-time imports. */
async function reachable(entry: string): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [entry];
  for (let file = queue.shift(); file; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of runtimeImports(await fs.readFile(file, 'utf8'))) {
      // JSON modules (vendored schemas) are data: nothing in them runs.
      if (spec.startsWith('.') && !spec.endsWith('.json')) queue.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
    }
  }
  return [...seen];
}

async function offenders(files: string[]): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  for (const file of files) {
    const uses = nodeUses(await fs.readFile(file, 'utf8'));
    if (uses.length > 0) found[path.relative(SRC, file)] = uses;
  }
  return found;
}

describe('core layers', () => {
  it('the check itself sees Node imports and globals, and ignores comments and type-only imports', () => {
    expect(nodeUses("import fs from 'node:fs';")).toEqual(['node:fs']);
    expect(nodeUses("import { createHash } from 'crypto';")).toEqual(['crypto']);
    expect(nodeUses("export { x } from 'node:path';")).toEqual(['node:path']);
    expect(nodeUses("const m = await import('node:os');")).toEqual(['node:os']);
    expect(nodeUses('const b = Buffer.from(x);')).toEqual(['Buffer']);
    expect(nodeUses('const id = process.pid;')).toEqual(['process']);
    expect(
      nodeUses(
        "import type * as C from 'node:crypto';\n// Buffer and process.pid in a comment\nconst p = (globalThis as { process?: { x?: 1 } }).process?.x;",
      ),
    ).toEqual([]);
  });

  for (const folder of ['format', 'session', 'sources', 'claims']) {
    it(`src/${folder}/ imports no Node built-in and uses no Buffer or process`, async () => {
      const files = await filesUnder(path.join(SRC, folder));
      expect(files.length).toBeGreaterThan(0);
      expect(await offenders(files)).toEqual({});
    });
  }

  // The browser entry, and the internal helpers the browser entries of the adapters import.
  for (const entry of ['browser.ts', 'internal.ts']) {
    it(`nothing src/${entry} reaches imports a Node built-in or uses Buffer or process`, async () => {
      const files = await reachable(path.join(SRC, entry));
      expect(files.length).toBeGreaterThan(5);
      expect(files.some((f) => f.includes(`${path.sep}node${path.sep}`))).toBe(false);
      expect(await offenders(files)).toEqual({});
    });
  }
});

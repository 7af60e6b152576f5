// The public API is what README.md lists, one line per name, with its count:
// this keeps the list, the counts and the entries from drifting apart, and
// keeps a name from having two shapes across the Node and browser entries.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The names an entry's source re-exports (values and types), following `export * from` into the modules it names. */
async function exportedNames(entry: string): Promise<string[]> {
  const text = (await fs.readFile(path.join(ROOT, 'src', entry), 'utf8')).replace(/\/\/.*$/gm, '');
  const names: string[] = [];
  for (const m of text.matchAll(/export\s+\*\s+from\s+'\.\/([^']+)\.js'/g)) names.push(...(await exportedNames(`${m[1]}.ts`)));
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1].split(',')) {
      const name = part.trim().replace(/^type\s+/, '');
      if (name)
        names.push(
          name
            .split(/\s+as\s+/)
            .at(-1)!
            .trim(),
        );
    }
  }
  return names.sort();
}

/** The names README.md lists between two headings, from the start of each `- ` line up to its ` — `. */
function listed(readme: string, from: string, to: string): string[] {
  const section = readme.slice(readme.indexOf(from), readme.indexOf(to));
  const names = new Set<string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('- '))) {
    for (const m of line.split(' — ')[0].matchAll(/`([A-Za-z_0-9]+)(?:\([^`]*\))?`/g)) names.add(m[1]);
  }
  return [...names].sort();
}

describe('the public API', () => {
  it('is exactly what README.md lists, with the counts it states', async () => {
    const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
    const node = await exportedNames('index.ts');
    const browser = await exportedNames('browser.ts');
    expect(listed(readme, '## The public API', '`@model-signing/core/browser` (runtime-neutral')).toEqual(node);
    expect(readme).toContain(`exports **${node.length} names**`);
    const values = Object.keys(await import('../dist/index.js')).sort();
    expect(readme).toContain(`${values.length} you call or construct`);
    expect(readme).toContain(`${node.length - values.length} types`);

    const onlyBrowser = browser.filter((name) => !node.includes(name));
    expect(listed(readme, '`@model-signing/core/browser` (runtime-neutral', '## Entries and layers')).toEqual(onlyBrowser);
    expect(readme).toContain(`exports\n**${browser.length} names**`);
  });

  it('gives a name both entries export the same value', async () => {
    const node = (await import('../dist/index.js')) as Record<string, unknown>;
    const browser = (await import('../dist/browser.js')) as Record<string, unknown>;
    const shared = Object.keys(browser).filter((name) => name in node);
    expect(shared.length).toBeGreaterThan(5);
    for (const name of shared) expect(browser[name], name).toBe(node[name]);
  });
});

// The files of src/config import each other without cycles, type imports included
// (STYLE.md 1): a cycle closed by a type import hides which file owns a shape.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { test } from 'node:test';

const DIR = path.dirname(fileURLToPath(import.meta.url));

/** Every sibling a file imports or re-exports (`import`, `import type`, `export ... from`). */
function siblingImports(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'\.\/([^'/]+)\.js'/gms)].map((match) => `${match[1]}.ts`);
}

test('src/config has no import cycle, counting type imports', () => {
  const files = readdirSync(DIR).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
  const edges = new Map(files.map((name) => [name, siblingImports(readFileSync(path.join(DIR, name), 'utf8')).filter((to) => files.includes(to))]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(name)), name].join(' > '));
      return;
    }
    state.set(name, 'open');
    for (const to of edges.get(name) ?? []) visit(to, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of files) visit(name, []);
  assert.ok(edges.get('folder-merge.ts')?.includes('collection-merge.ts'), 'the scan finds imports');
  assert.deepEqual(cycles, []);
});

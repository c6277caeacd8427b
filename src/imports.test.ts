// Imports flow one way (DESIGN.md §6, STYLE.md 1), type imports included: no file of src/
// imports itself through others, and no folder imports a folder above it:
//   cli → server → control, pipeline → modules, iisnode → log-files, file-system → http → config → the root files
// A cycle closed by a type import hides which file owns a shape; a module that imports the
// engine cannot be built or tested without it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.dirname(fileURLToPath(import.meta.url));

/** LAYERS: a folder may import folders of a lower layer only (and its own files). */
const LAYERS: Record<string, number> = {
  cli: 8,
  server: 7,
  control: 6,
  pipeline: 5,
  modules: 4,
  iisnode: 4,
  'log-files': 3,
  'file-system': 3,
  http: 2,
  config: 1,
  '': 0, // errors.ts, host-log.ts, version.ts, errors-doc.ts
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.test-helper.ts') ? [full] : [];
  });
}

/** Every file of ours a file imports or re-exports (`import`, `import type`, `export ... from`, `import('...')` types). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...[...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)].map((m) => m[1]!),
    ...[...text.matchAll(/import\('(\.{1,2}\/[^']+)'\)/g)].map((m) => m[1]!),
  ];
  return specifiers.map((specifier) => path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
}

/** folderOf names the top folder of a file under src/ ('' for the root files). */
function folderOf(file: string): string {
  const relative = path.relative(SRC, file).split(path.sep);
  return relative.length === 1 ? '' : relative[0]!;
}

const files = sourceFiles(SRC);
const edges = new Map(files.map((file) => [file, importsOf(file).filter((to) => files.includes(to))]));

test('the scan sees the imports it checks', () => {
  assert.ok(edges.get(path.join(SRC, 'pipeline/pipeline.ts'))?.includes(path.join(SRC, 'http/request-context.ts')));
  assert.ok(edges.get(path.join(SRC, 'http/request-context.ts'))?.includes(path.join(SRC, 'http/error-outcome.ts')), 'type imports count');
});

test('src/ has no import cycle, counting type imports', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(' > '));
      return;
    }
    state.set(file, 'open');
    for (const to of edges.get(file) ?? []) visit(to, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});

test('every folder imports downwards only; modules and iisnode do not import each other', () => {
  const wrong: string[] = [];
  for (const [file, targets] of edges) {
    const from = folderOf(file);
    assert.ok(from in LAYERS, `src/${from}/ has no layer in imports.test.ts`);
    for (const to of targets) {
      const target = folderOf(to);
      if (target === from) continue;
      if (LAYERS[target]! >= LAYERS[from]!) wrong.push(`${path.relative(SRC, file)} imports ${path.relative(SRC, to)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

// Copies every file of src/ that tsc does not emit (the worker preload .cjs, pages, styles,
// JSON) to the same place under dist/, so the compiled program finds its assets beside it.
import { cpSync } from 'node:fs';

const isAsset = (file) => !file.endsWith('.ts');
cpSync(new URL('../src', import.meta.url), new URL('../dist', import.meta.url), { recursive: true, filter: isAsset });

/**
 * lifecycle-doc.ts generates the state diagrams and transition tables of
 * docs/worker-lifecycle.md from the transition tables (worker-state.ts, generation-state.ts),
 * so the doc cannot drift from the code; lifecycle-doc.test.ts fails when they disagree.
 * Regenerate with `node --import tsx src/iisnode/lifecycle-doc.ts --write`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GENERATION_STATES, GENERATION_TRANSITIONS } from './generation-state.js';
import { WORKER_STATES, WORKER_TRANSITIONS } from './worker-state.js';

/** A transition table as the state machines declare it: from → to → when. */
type TransitionTable<S extends string> = Readonly<Record<S, Readonly<Partial<Record<S, string>>>>>;

/** LIFECYCLE_DOC_URL is the document whose generated blocks this file writes. */
export const LIFECYCLE_DOC_URL = new URL('../../docs/worker-lifecycle.md', import.meta.url);

/**
 * renderLifecycleDoc returns `doc` with every generated block replaced by the rendering of its
 * table: the text between `<!-- generated:worker-states -->` (or `generation-states`) and
 * `<!-- end generated -->`. Throws when a block is missing, so a test notices a broken doc.
 */
export function renderLifecycleDoc(doc: string): string {
  let out = doc;
  out = replaceBlock(out, 'worker-states', renderStateMachine(WORKER_STATES, WORKER_TRANSITIONS));
  out = replaceBlock(out, 'generation-states', renderStateMachine(GENERATION_STATES, GENERATION_TRANSITIONS));
  return out;
}

/**
 * renderStateMachine renders one machine: a mermaid stateDiagram (the first state is the
 * initial one; states without moves are final) and a markdown table of every move.
 */
function renderStateMachine<S extends string>(states: readonly S[], table: TransitionTable<S>): string {
  const lines = ['```mermaid', 'stateDiagram-v2', `    [*] --> ${states[0]}`];
  const rows = ['| from | to | when |', '|---|---|---|'];
  for (const from of states) {
    const moves = Object.entries(table[from]) as [S, string][];
    for (const [to, when] of moves) {
      lines.push(`    ${from} --> ${to}`);
      rows.push(`| ${from} | ${to} | ${when.replaceAll('|', '\\|')} |`);
    }
    if (moves.length === 0) lines.push(`    ${from} --> [*]`);
  }
  lines.push('```');
  return [...lines, '', ...rows].join('\n');
}

function replaceBlock(doc: string, name: string, body: string): string {
  const begin = `<!-- generated:${name} (from the transition table by src/iisnode/lifecycle-doc.ts; do not edit by hand) -->\n`;
  const end = '<!-- end generated -->';
  const start = doc.indexOf(begin);
  const stop = start === -1 ? -1 : doc.indexOf(end, start);
  if (start === -1 || stop === -1) throw new Error(`docs/worker-lifecycle.md has no generated block '${name}'`);
  return doc.slice(0, start + begin.length) + body + '\n' + doc.slice(stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--write')) {
  const target = fileURLToPath(LIFECYCLE_DOC_URL);
  writeFileSync(target, renderLifecycleDoc(readFileSync(target, 'utf8')));
}

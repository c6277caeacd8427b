import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GENERATION_STATES, GENERATION_TRANSITIONS } from './generation-state.js';
import { LIFECYCLE_DOC_URL, renderLifecycleDoc } from './lifecycle-doc.js';
import { WORKER_STATES, WORKER_TRANSITIONS } from './worker-state.js';

const onDisk = readFileSync(LIFECYCLE_DOC_URL, 'utf8');

test('docs/worker-lifecycle.md draws the transition tables (run `node --import tsx src/iisnode/lifecycle-doc.ts --write`)', () => {
  assert.equal(onDisk, renderLifecycleDoc(onDisk));
});

test('the doc has a diagram edge and a table row for every legal move, worker and generation', () => {
  for (const [states, table] of [
    [WORKER_STATES, WORKER_TRANSITIONS],
    [GENERATION_STATES, GENERATION_TRANSITIONS],
  ] as const) {
    for (const from of states) {
      for (const to of Object.keys((table as Record<string, object>)[from]!)) {
        assert.ok(onDisk.includes(`    ${from} --> ${to}\n`), `edge ${from} --> ${to}`);
        assert.ok(onDisk.includes(`| ${from} | ${to} | `), `row ${from} | ${to}`);
      }
    }
  }
});

test('a doc without its generated blocks is an error, not a silent pass', () => {
  assert.throws(() => renderLifecycleDoc('# Worker lifecycle\n'), /no generated block 'worker-states'/);
});

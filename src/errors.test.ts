// Contract test (STYLE 9): docs/errors.md is generated from the table, so every code is documented and no other.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderErrorReference } from './errors-doc.js';
import { ERRORS, NodehostError } from './errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

test('docs/errors.md is the output of renderErrorReference (run `node --import tsx src/errors-doc.ts --write`)', () => {
  assert.equal(doc, renderErrorReference());
});

test('every error code is documented in docs/errors.md', () => {
  for (const code of Object.keys(ERRORS)) assert.match(doc, new RegExp(`\\b${code}\\b`), `${code} is missing from docs/errors.md`);
});

test('docs/errors.md names no code that does not exist', () => {
  for (const [code] of doc.matchAll(/NH_ERR_[A-Z0-9_]+/g)) assert.ok(code in ERRORS, `docs/errors.md names unknown code ${code}`);
});

test('NodehostError carries the status, substatus and source of its code', () => {
  const err = new NodehostError('NH_ERR_CONFIG_YML', 'bad value', { source: { file: '/s/iisnode.yml', line: 3 } });
  assert.equal(err.status, 500);
  assert.equal(err.substatus, 1032);
  assert.equal(err.toString(), '/s/iisnode.yml:3: bad value [NH_ERR_CONFIG_YML]');
});

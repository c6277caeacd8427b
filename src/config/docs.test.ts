import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigurationReference } from './docs.js';
import { IISNODE_SCHEMA } from './schema.js';

test('docs/configuration.md is the output of renderConfigurationReference (run `node --import tsx src/config/docs.ts --write`)', () => {
  const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(onDisk, renderConfigurationReference());
});

test('the reference documents every setting without machine-specific values', () => {
  const text = renderConfigurationReference();
  for (const spec of IISNODE_SCHEMA) assert.ok(text.includes(`### ${spec.name}\n`), spec.name);
  assert.ok(!text.includes(process.execPath), 'the node binary path of this machine must not appear');
});

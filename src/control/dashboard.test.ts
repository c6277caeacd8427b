import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_DIR } from './dashboard.js';

test('the page files are found from the sources and from the compiled dist/ alike', async () => {
  for (const file of ['index.html', 'dashboard.css', 'dashboard.js']) assert.ok(fs.existsSync(path.join(DASHBOARD_DIR, file)), file);
  const compiled = fileURLToPath(new URL('../../dist/control/dashboard.js', import.meta.url));
  assert.ok(fs.existsSync(compiled), 'dist/ is built by npm ci and npm test');
  const { DASHBOARD_DIR: fromDist } = (await import(compiled)) as { DASHBOARD_DIR: string };
  assert.equal(fromDist, DASHBOARD_DIR);
});

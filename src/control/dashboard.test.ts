import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_DIR } from './dashboard.js';

test('the page files are found beside the module, in the sources and in the compiled dist/ (the package ships dist/ only)', async () => {
  const compiled = fileURLToPath(new URL('../../dist/control/dashboard.js', import.meta.url));
  assert.ok(fs.existsSync(compiled), 'dist/ is built by npm ci and npm test');
  const { DASHBOARD_DIR: fromDist } = (await import(compiled)) as { DASHBOARD_DIR: string };
  assert.equal(fromDist, path.join(path.dirname(compiled), 'dashboard') + path.sep);
  for (const dir of [DASHBOARD_DIR, fromDist])
    for (const file of ['index.html', 'dashboard.css', 'dashboard.js']) assert.ok(fs.existsSync(path.join(dir, file)), path.join(dir, file));
});

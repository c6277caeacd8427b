/**
 * The deploy-under-load test: 2 workers, 50 keep-alive and 50 fresh connections sending
 * requests for 10 s while the app file is rewritten 10 times. No request may fail, no
 * connection may break, and every request sent after a write's recycle completed must be
 * answered by the new version. Counts only, no timing thresholds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { recycleWatcher, runRecycleLoad } from '../bench/recycle-load.js';
import { fetchRaw, startNodehost } from './helpers/nodehost.js';
import { copySite } from './helpers/recycle.js';

test('10 deploys under 100 concurrent connections: zero failures, zero stale responses', { timeout: 180_000 }, async () => {
  const dir = copySite('recycle-load');
  const appFile = path.join(dir, 'app.js');
  const template = fs.readFileSync(appFile, 'utf8');
  const host = await startNodehost(dir);
  try {
    const waitForRecycle = recycleWatcher(host.child.stderr!);
    assert.equal((await fetchRaw(host.url, '/app.js')).text, 'v1');
    const report = await runRecycleLoad({
      base: host.url,
      target: '/app.js',
      appFile,
      appText: (version) => template.replace("const VERSION = 'v1';", `const VERSION = '${version}';`),
      keepAliveConnections: 50,
      freshConnections: 50,
      durationMs: 10_000,
      writes: 10,
      waitForRecycle,
    });
    const summary = JSON.stringify(report);
    process.stderr.write(`recycle load: ${summary}\n`);
    assert.equal(report.recycles, 10, summary);
    assert.ok(report.requests > 100, summary);
    assert.equal(report.connectionErrors, 0, summary);
    assert.equal(report.failures, 0, summary);
    assert.equal(report.staleResponses, 0, summary);
    // The last version serves.
    assert.equal((await fetchRaw(host.url, '/app.js')).text, 'v11');
  } finally {
    await host.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * nodehost's own worker limits, end to end: maxRequestsPerProcess, maxMemoryPerProcessMB and
 * idleTimeout each replace or stop workers gracefully (the old worker gets SIGTERM).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fetchRaw, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { copySite, pollUntil, waitForFile, waitForLog } from './helpers/recycle.js';

async function withLimits(attributes: string, body: (dir: string, host: RunningHost) => Promise<void>): Promise<void> {
  const dir = copySite('recycle');
  const file = path.join(dir, 'web.config');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('<iisnode ', `<iisnode ${attributes} `));
  const host = await startNodehost(dir);
  try {
    await body(dir, host);
  } finally {
    await host.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const pidOf = (reply: { text: string }): number => Number(reply.text.split(' ')[0]);

test('maxRequestsPerProcess: after that many requests the worker is replaced gracefully', async () => {
  await withLimits('maxRequestsPerProcess="3"', async (dir, host) => {
    const pids = [];
    for (let i = 0; i < 4; i++) pids.push(pidOf(await fetchRaw(host.url, '/app.js/pid')));
    assert.equal(pids[0], pids[1]);
    assert.equal(pids[1], pids[2]);
    assert.notEqual(pids[3], pids[0], 'the fourth request is served by the successor');
    await waitForFile(path.join(dir, `sigterm-${pids[0]}.txt`));
    assert.match(host.stderr(), /"msg":"worker retired".*maxRequestsPerProcess/);
  });
});

test('maxMemoryPerProcessMB: a worker over its memory budget is replaced gracefully', async () => {
  await withLimits('maxMemoryPerProcessMB="150"', async (dir, host) => {
    const before = pidOf(await fetchRaw(host.url, '/app.js/pid'));
    assert.match((await fetchRaw(host.url, '/app.js/grow?mb=200')).text, /^grew /);
    await waitForLog(host.child.stderr!, host.stderr, /"msg":"worker retired".*maxMemoryPerProcessMB/);
    const after = await pollUntil(host.url, '/app.js/pid', (r) => pidOf(r) !== before);
    assert.match(after.text, / v1$/);
    await waitForFile(path.join(dir, `sigterm-${before}.txt`));
  });
});

test("idleTimeout: an idle application's workers stop, and the next request starts them again", async () => {
  await withLimits('idleTimeout="300"', async (dir, host) => {
    const before = pidOf(await fetchRaw(host.url, '/app.js/pid'));
    await waitForLog(host.child.stderr!, host.stderr, /"msg":"app idle"/);
    await waitForFile(path.join(dir, `sigterm-${before}.txt`));
    const after = await fetchRaw(host.url, '/app.js/pid');
    assert.equal(after.status, 200);
    assert.notEqual(pidOf(after), before, 'a new worker serves after the idle stop');
  });
});

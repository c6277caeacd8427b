/**
 * Overlapped recycles, end to end: while the new generation starts (held by the test app until
 * the test lets it listen, so its start-up takes as long as the test wants), requests are
 * answered by the old generation, proved by the pid and version in each response; the switch
 * comes when the new one listens. With overlappedRecycle="false" requests wait, as in iisnode.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, fetchRaw, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { copySite, setVersion, waitForFile, waitForLog } from './helpers/recycle.js';

const run = promisify(execFile);

async function withSite(iisnode: string, body: (dir: string, host: RunningHost) => Promise<void>): Promise<void> {
  const dir = copySite('recycle');
  const config = path.join(dir, 'web.config');
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('<iisnode ', `<iisnode ${iisnode} `));
  const host = await startNodehost(dir);
  try {
    await body(dir, host);
  } finally {
    await host.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** deployHeld deploys v2 while the new process is held before listening; resolves with its pid once it runs. */
async function deployHeld(dir: string): Promise<number> {
  fs.writeFileSync(path.join(dir, 'hold-start'), '');
  setVersion(path.join(dir, 'app.js'), 'v2');
  await waitForFile(path.join(dir, 'held.txt'));
  return Number(fs.readFileSync(path.join(dir, 'held.txt'), 'utf8').split(' ')[0]);
}

async function appStatus(dir: string): Promise<{ generation: number; isRecycling: boolean; waiting: number }> {
  return JSON.parse((await run(process.execPath, [BIN, 'status', dir, '--json'])).stdout).apps[0];
}

test('an overlapped recycle: requests during a slow start are served by the old generation; the new one takes over once it listens', async () => {
  await withSite('', async (dir, host) => {
    const oldPid = Number((await fetchRaw(host.url, '/app.js/pid')).text.split(' ')[0]);
    const newPid = await deployHeld(dir);
    assert.notEqual(newPid, oldPid);
    // The new generation's process runs but does not listen: every request meanwhile is the old one's.
    const during = await Promise.all(Array.from({ length: 20 }, () => fetchRaw(host.url, '/app.js/pid')));
    for (const reply of during) {
      assert.equal(reply.status, 200);
      assert.equal(reply.text, `${oldPid} v1`);
    }
    const status = await appStatus(dir);
    assert.deepEqual([status.generation, status.isRecycling, status.waiting], [1, true, 0]);
    fs.rmSync(path.join(dir, 'hold-start'));
    await waitForLog(host.child.stderr!, host.stderr, /"msg":"app recycled".*"generation":2/);
    assert.equal((await fetchRaw(host.url, '/app.js/pid')).text, `${newPid} v2`);
    await waitForFile(path.join(dir, `sigterm-${oldPid}.txt`));
  });
});

test('overlappedRecycle="false": a request that arrives during the start waits for the new generation, as in iisnode', async () => {
  await withSite('overlappedRecycle="false"', async (dir, host) => {
    assert.match((await fetchRaw(host.url, '/app.js/pid')).text, / v1$/);
    const newPid = await deployHeld(dir);
    const waiting = fetchRaw(host.url, '/app.js/pid');
    const deadline = Date.now() + 10_000;
    while ((await appStatus(dir)).waiting !== 1) {
      assert.ok(Date.now() < deadline, 'the request did not wait for the new generation');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    fs.rmSync(path.join(dir, 'hold-start'));
    assert.equal((await waiting).text, `${newPid} v2`);
  });
});

/**
 * Strict round robin from a generation's first request, end to end (iisnode's functional
 * tests 124 `node_config_override` and 125 `node_config_autoupdate`): each process of the
 * site counts its own requests and answers `Hello, world <count>`, so with N processes the
 * first N requests of a fresh generation must all say 1, the next N all say 2. That holds
 * only if a generation takes requests once all of its processes are ready and its rotation
 * is exact from the first request.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { fetchRaw, SITES, startNodehost } from './helpers/nodehost.js';
import { copySite } from './helpers/recycle.js';

/** expectRotation sends 2 × `processes` requests one after the other and checks the bodies. */
async function expectRotation(base: string, target: string, processes: number): Promise<void> {
  const expected: string[] = [];
  for (let round = 1; round <= 2; round++) for (let i = 0; i < processes; i++) expected.push(`Hello, world ${round}`);
  const bodies: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const reply = await fetchRaw(base, target);
    assert.equal(reply.status, 200, reply.text);
    bodies.push(reply.text);
  }
  assert.deepEqual(bodies, expected);
}

test('124 node_config_override: iisnode.yml (4 processes) wins over web.config (2), rotation exact from a cold start', async () => {
  const host = await startNodehost(SITES + 'node-config-override');
  try {
    await expectRotation(host.url, '/hello.js', 4);
  } finally {
    assert.equal(await host.stop(), 0);
  }
});

test('125 node_config_autoupdate: iisnode.yml rewritten by the app is followed by the very next request, rotation exact after each recycle', async () => {
  const dir = copySite('node-config-autoupdate');
  const host = await startNodehost(dir);
  try {
    // No iisnode.yml yet: one process; ?revert writes 2 processes.
    assert.equal((await fetchRaw(host.url, '/hello.js?revert')).text, 'iisnode.yml reverted');
    await expectRotation(host.url, '/hello.js', 2);
    assert.equal((await fetchRaw(host.url, '/hello.js?update')).text, 'iisnode.yml updated');
    await expectRotation(host.url, '/hello.js', 4);
  } finally {
    assert.equal(await host.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

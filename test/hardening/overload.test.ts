/**
 * Overload (small numbers here; `npm run soak` runs the big ones): idle connections up to
 * nodehost.yml `limits.maxConnections` are held, the next is closed at accept and reported in
 * the host log, and service returns once connections close. The host's memory per idle
 * connection is printed as a diagnostic.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawConnection } from '../helpers/raw-http.js';
import { fetchStrict } from '../helpers/strict-http.js';
import { logged, startHardeningHost, waitUntil } from './hardening-host.js';

/** rssKb reads a process's resident memory from /proc. */
function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

test('maxConnections: idle connections up to the cap are held, the next is closed at once and reported, service returns', { timeout: 60_000 }, async (t) => {
  const cap = 40;
  const host = await startHardeningHost(`limits:\n  maxConnections: ${cap}\n`);
  const idle: RawConnection[] = [];
  try {
    assert.equal((await fetchStrict(host.url, '/public.txt')).status, 200);
    const before = rssKb(host.child.pid!);
    for (let i = 0; i < cap; i++) idle.push(await RawConnection.open(host.port));
    // Over the cap: closed at accept, without a byte.
    const extra = await RawConnection.open(host.port);
    await extra.closed();
    t.diagnostic(`host RSS ${before} KB before, ${rssKb(host.child.pid!)} KB with ${cap} idle connections`);
    await logged(host, /connection limit reached/);
    for (const connection of idle.splice(0, 10)) connection.close();
    await waitUntil(async () => {
      try {
        return (await fetchStrict(host.url, '/public.txt')).status === 200;
      } catch {
        return false;
      }
    });
  } finally {
    for (const connection of idle) connection.close();
    assert.equal(await host.close(), 0);
  }
});

test('an app still starting takes as many waiting requests as its slots: the next is refused with 503 at once, not after the start', {
  timeout: 60_000,
}, async () => {
  const host = await startHardeningHost();
  try {
    // late/ listens only once `go` exists, with one process of 2 slots: three requests arrive
    // while it starts, two wait for it and one is refused while it is still not listening.
    const replies = [0, 1, 2].map((i) => fetchStrict(host.url, `/late/app.js/pid?${i}`).then((reply) => ({ i, status: reply.status })));
    const stuck = new Promise<'stuck'>((resolve) => {
      const timer = setTimeout(() => resolve('stuck'), 20_000);
      void Promise.all(replies).finally(() => clearTimeout(timer));
    });
    const first = await Promise.race([...replies, stuck]);
    assert.notEqual(first, 'stuck', 'no request was refused while the app was starting');
    assert.equal((first as { status: number }).status, 503);
    writeFileSync(join(host.site, 'late', 'go'), '');
    const statuses = (await Promise.all(replies)).map((reply) => reply.status).sort();
    assert.deepEqual(statuses, [200, 200, 503]);
  } finally {
    assert.equal(await host.close(), 0);
  }
});

/**
 * Workers that stop answering: one that accepts a request and never answers while its event
 * loop runs (responseTimeout: 504.1017, the slot freed, the app sees the abort), one whose
 * event loop is blocked for good (maxEventLoopBlockMs: replaced, then killed), and one that
 * leaks memory (maxHeapMB: replaced gracefully while clients keep sending, none of them fails).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fetchStrict } from '../helpers/strict-http.js';
import { logged, startHardeningHost, waitUntil } from './hardening-host.js';

describe('stalled workers', () => {
  test('a worker that never answers gets 504.1017 after responseTimeout: its slot is freed, it sees the abort, the log names its pid', {
    timeout: 30_000,
  }, async () => {
    const host = await startHardeningHost();
    try {
      const pid = (await fetchStrict(host.url, '/hang/app.js/pid')).text;
      const reply = await fetchStrict(host.url, '/hang/app.js/wait');
      assert.equal(reply.status, 504);
      // The one slot (maxConcurrentRequestsPerProcess 1) is free again: the same worker serves.
      assert.equal((await fetchStrict(host.url, '/hang/app.js/pid')).text, pid);
      await logged(host, new RegExp(`"msg":"request failed".*"pid":${pid}.*"code":"NH_ERR_WORKER_RESPONSE_TIMEOUT"`));
      // The app heard its request's connection close.
      await waitUntil(async () => JSON.parse((await fetchStrict(host.url, '/hang/app.js/seen')).text).aborted === 1);
    } finally {
      assert.equal(await host.close(), 0);
    }
  });

  test('a worker that listens, then blocks its event loop for good, is replaced and killed; the next request is served', {
    timeout: 30_000,
  }, async () => {
    const host = await startHardeningHost();
    try {
      const pid = (await fetchStrict(host.url, '/blocked/app.js/pid')).text;
      const blocked = fetchStrict(host.url, '/blocked/app.js/block');
      await logged(host, new RegExp(`"msg":"worker unhealthy".*"pid":${pid}.*"problem":"event-loop"`));
      assert.notEqual((await fetchStrict(host.url, '/blocked/app.js/pid')).text, pid);
      // Its request fails once the grace period ends and the stuck process is killed.
      assert.ok((await blocked).status >= 500);
      await logged(host, new RegExp(`"msg":"worker exited".*"pid":${pid}`));
    } finally {
      assert.equal(await host.close(), 0);
    }
  });

  test('a worker that leaks memory is replaced gracefully under maxHeapMB while 4 clients keep sending: no request fails', {
    timeout: 60_000,
  }, async () => {
    const host = await startHardeningHost();
    try {
      const pids = new Set<string>();
      const statuses: number[] = [];
      let afterReplacement = 0;
      const client = async () => {
        // Bounded: at most 300 requests per client; stops 40 requests after a successor answered.
        for (let i = 0; i < 300 && afterReplacement < 40; i++) {
          const reply = await fetchStrict(host.url, '/leak/app.js/grow');
          statuses.push(reply.status);
          pids.add(reply.text);
          if (pids.size > 1) afterReplacement++;
        }
      };
      await Promise.all(Array.from({ length: 4 }, client));
      assert.ok(pids.size > 1, 'the leaking worker was never replaced');
      assert.deepEqual(
        statuses.filter((status) => status !== 200),
        [],
      );
      assert.match(host.stderr(), /"msg":"worker retired".*"reason":"heap \d+ MB over maxHeapMB 40"/);
    } finally {
      assert.equal(await host.close(), 0);
    }
  });
});

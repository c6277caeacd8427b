import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Heartbeat, type HealthProblem } from './heartbeat.js';

/** watch runs a heartbeat whose worker answers each ping with the messages `answer` returns (none: never). */
function watch(maxBlockMs: number, maxHeapBytes: number, answer: (seq: number) => unknown[]): Promise<[HealthProblem, string]> {
  // The heartbeat's timers are unreferenced; this one keeps the test process up meanwhile.
  const keepAlive = setInterval(() => undefined, 1000);
  return new Promise((resolve) => {
    const heartbeat: Heartbeat = new Heartbeat({
      maxBlockMs,
      maxHeapBytes,
      send: (message) => {
        const replies = answer((message as { seq: number }).seq);
        setImmediate(() => {
          for (const reply of replies) heartbeat.onMessage(reply);
        });
        return true;
      },
      onUnhealthy: (problem, detail) => {
        clearInterval(keepAlive);
        resolve([problem, detail]);
      },
    });
    heartbeat.start();
  });
}

test('a ping left unanswered is a blocked event loop', async () => {
  const [problem, detail] = await watch(20, 0, () => []);
  assert.equal(problem, 'event-loop');
  assert.match(detail, /^event loop blocked over \d+ ms \(maxEventLoopBlockMs 20\)$/);
});

test('answers keep a worker healthy until its heap is over budget; stale or foreign answers do not count', async () => {
  let pings = 0;
  const [problem, detail] = await watch(1000, 10 * 1048576, (seq) => {
    pings++;
    const stale = { nodehost: 'pong', seq: seq + 7, heapUsed: 99 * 1048576 };
    return ['app message', stale, { nodehost: 'pong', seq, heapUsed: (pings < 3 ? 1 : 12) * 1048576 }];
  });
  assert.equal(pings, 3);
  assert.equal(problem, 'heap');
  assert.equal(detail, 'heap 12 MB over maxHeapMB 10');
});

test('isNeeded: no heartbeat when both limits are off', () => {
  assert.equal(Heartbeat.isNeeded(0, 0), false);
  assert.equal(Heartbeat.isNeeded(0, 1), true);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestContext } from '../../http/request-context.js';
import { createHealthModule } from './health-paths.js';

/** A request as far as the module reads it, and what it wrote. */
function probe(path: string, method = 'GET') {
  const written: { status?: number; headers?: Record<string, unknown>; body?: unknown } = {};
  const ctx = {
    path,
    status: 0,
    req: { method },
    res: {
      writeHead(status: number, headers: Record<string, unknown>) {
        written.status = status;
        written.headers = headers;
      },
      end(body?: unknown) {
        written.body = body;
      },
    },
  } as unknown as RequestContext;
  return { ctx, written };
}

test('ready answers 503 with the reason while the host is not ready; live stays 200', () => {
  let state = { isReady: false, reason: 'shutting down' };
  const module = createHealthModule('/_h', () => state);
  const notReady = probe('/_h/ready');
  assert.equal(module.handle(notReady.ctx), 'finish');
  assert.equal(notReady.written.status, 503);
  assert.deepEqual(JSON.parse(String(notReady.written.body)), { ready: false, reason: 'shutting down' });
  assert.equal(notReady.ctx.status, 503);
  const live = probe('/_h/live');
  module.handle(live.ctx);
  assert.equal(live.written.status, 200);
  state = { isReady: true, reason: '' };
  const ready = probe('/_h/ready');
  module.handle(ready.ctx);
  assert.deepEqual([ready.written.status, JSON.parse(String(ready.written.body))], [200, { ready: true }]);
  assert.equal(module.handle(probe('/_h/ready', 'DELETE').ctx), 'continue');
  assert.equal(module.handle(probe('/_h').ctx), 'continue');
  assert.equal(module.handle(probe('/_h/ready/x').ctx), 'continue');
});

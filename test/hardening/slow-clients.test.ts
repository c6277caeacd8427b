/**
 * Slow and vanishing clients (nodehost.yml `limits`): a head trickled a byte at a time
 * (slowloris) meets a total deadline, a stalled body meets the body timeout, a slow whole
 * request meets requestTimeout, and a client that half-closes after its request aborts it, so
 * the worker's slot is freed and a shutdown does not wait for it. The timeouts are short here;
 * each test waits for the close, bounded by its own timeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { RawConnection } from '../helpers/raw-http.js';
import { startHardeningHost, waitUntil, type HardeningHost } from './hardening-host.js';

/** trickle writes `bytes` one at a time, each after the previous write was taken and `paceMs` passed, until the connection closes; resolves with how many were written. */
async function trickle(connection: RawConnection, bytes: string, paceMs: number): Promise<number> {
  let isClosed = false;
  const closed = once(connection.socket, 'close').then(() => (isClosed = true));
  for (let i = 0; i < bytes.length; i++) {
    if (isClosed) return i;
    await Promise.race([connection.write(bytes[i]!).catch(() => {}), closed]);
    await new Promise((resolve) => setTimeout(resolve, paceMs));
  }
  return bytes.length;
}

describe('slow clients', () => {
  let host: HardeningHost;

  before(async () => {
    host = await startHardeningHost('limits:\n  headerTimeout: 600ms\n  bodyTimeout: 600ms\n');
  });

  after(async () => {
    assert.equal(await host.close(), 0);
  });

  test('a head sent a byte at a time is cut off by the head deadline with 408 (slowloris)', { timeout: 30_000 }, async () => {
    const connection = await RawConnection.open(host.port);
    const head = 'GET /app.js/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ' + 'a'.repeat(200) + '\r\n\r\n';
    // Each byte re-arms an inactivity timer; only a total deadline stops this.
    const written = await trickle(connection, head, 50);
    assert.ok(written < head.length, 'the whole head went through');
    const response = await connection.read();
    assert.equal(response.status, 408);
    await connection.closed();
    assert.equal((await host.seen()).seen.filter((r) => r.url === '/app.js/slow').length, 0);
  });

  test('a connection that sends nothing is closed at the head deadline without an answer', { timeout: 30_000 }, async () => {
    const connection = await RawConnection.open(host.port);
    await connection.closed();
    // As a socket timeout did before the fast path's sweep took over: no 408 to a silent client.
    assert.equal(connection.socket.bytesRead, 0);
  });

  test('a connection that went quiet in the middle of its second head gets 408 at the head deadline', { timeout: 30_000 }, async () => {
    const connection = await RawConnection.open(host.port);
    await connection.write('GET /app.js/first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal((await connection.read()).status, 200);
    await connection.write('GET /app.js/second HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    assert.equal((await connection.read()).status, 408);
    await connection.closed();
  });

  test('a request body that stops arriving is cut off by bodyTimeout, and the app sees the abort', { timeout: 30_000 }, async () => {
    const before = (await host.seen()).aborted;
    const connection = await RawConnection.open(host.port);
    await connection.write('POST /app.js/wait HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789');
    await connection.closed();
    await waitUntil(async () => (await host.seen()).aborted > before);
  });

  test('a chunked body read by node that stops arriving is cut off by bodyTimeout too', { timeout: 30_000 }, async () => {
    const connection = await RawConnection.open(host.port);
    await connection.write('POST /app.js/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n');
    await connection.closed();
  });

  test('a client that half-closes after its request aborts it: the app sees close, the connection ends', { timeout: 30_000 }, async () => {
    const before = (await host.seen()).aborted;
    const connection = await RawConnection.open(host.port);
    await connection.write('GET /app.js/wait?fin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitUntil(async () => (await host.seen()).seen.some((r) => r.url === '/app.js/wait?fin'));
    connection.socket.end();
    await connection.closed();
    await waitUntil(async () => (await host.seen()).aborted > before);
  });
});

describe('requestTimeout', () => {
  test('a request whose body trickles in steadily is cut off by the whole-request deadline', { timeout: 30_000 }, async () => {
    const host = await startHardeningHost('limits:\n  headerTimeout: 500ms\n  bodyTimeout: 60s\n  requestTimeout: 800ms\n');
    try {
      const connection = await RawConnection.open(host.port);
      await connection.write('POST /app.js/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 400\r\n\r\n');
      const written = await trickle(connection, 'x'.repeat(400), 20);
      assert.ok(written < 400, 'the whole body went through');
      await connection.closed();
    } finally {
      assert.equal(await host.close(), 0);
    }
  });
});

describe('shutdown with clients gone', () => {
  test('SIGTERM does not wait for requests whose clients half-closed (gracefulShutdownTimeout is 60 s here)', { timeout: 30_000 }, async () => {
    const host = await startHardeningHost();
    const connection = await RawConnection.open(host.port);
    await connection.write('GET /app.js/wait?gone HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitUntil(async () => (await host.seen()).seen.some((r) => r.url === '/app.js/wait?gone'));
    connection.socket.end();
    await connection.closed();
    assert.equal(await host.close(), 0);
  });
});

/**
 * A chunked request body whose framing goes bad after its head has reached a worker: the
 * client gets 400 and a close (no response had started), the worker's request is aborted
 * (the app sees 'close' before the body's end), nothing after the bad bytes reaches it, and
 * the worker's slot is free again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawConnection } from '../helpers/raw-http.js';
import { fetchStrict } from '../helpers/strict-http.js';
import { startHardeningHost, waitUntil, type HardeningHost } from './hardening-host.js';

/**
 * Chunk framing that goes bad: [name, the bytes after a first good chunk, the body the app
 * gets]. A chunk's data is passed on as it arrives, so when only the CRLF after it is wrong,
 * that data came before the bad bytes and reaches the app; nothing after them does.
 */
const BAD_FRAMING: [string, string, string][] = [
  ['size-not-hex', 'zz\r\nAFTER\r\n0\r\n\r\n', 'BEFORE'],
  ['size-overflow', 'ffffffffffffffffffff\r\nAFTER\r\n0\r\n\r\n', 'BEFORE'],
  ['bad-extension', '5;\x01ext\r\nAFTER\r\n0\r\n\r\n', 'BEFORE'],
  ['missing-crlf', '5\r\nDATA.x5\r\nAFTER\r\n0\r\n\r\n', 'BEFOREDATA.'],
  ['bare-lf-size', '5\nAFTER\r\n0\r\n\r\n', 'BEFORE'],
];

describe('a malformed chunk after the head was forwarded', () => {
  let host: HardeningHost;

  before(async () => {
    host = await startHardeningHost();
  });

  after(async () => {
    assert.equal(await host.close(), 0);
  });

  for (const [name, bad, body] of BAD_FRAMING) {
    test(`${name}: 400 and close, the app's request aborted, nothing after the bad bytes forwarded`, async () => {
      const target = `/app.js/hold?${name}`;
      const before = (await host.seen()).aborted;
      const connection = await RawConnection.open(host.port);
      await connection.write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nBEFORE\r\n`);
      // The head and the first chunk are at the app before the bad bytes are sent.
      await waitUntil(async () => (await host.seen()).bodies[target] === 'BEFORE');
      await connection.write(bad);
      const response = await connection.read();
      assert.equal(response.status, 400);
      await connection.closed();
      await waitUntil(async () => (await host.seen()).aborted > before);
      const seen = await host.seen();
      assert.equal(seen.bodies[target], body);
      assert.equal(seen.seen.filter((r) => r.url === target).length, 1);
    });
  }

  test("the worker's only slot is free again after a bad chunk", async () => {
    // The worker is started first, so the held request is the only one that can take its slot.
    assert.equal((await fetchStrict(host.url, '/single/app.js/pid')).status, 200);
    const connection = await RawConnection.open(host.port);
    await connection.write('POST /single/app.js/hold HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nBEFORE\r\n');
    // The one slot is taken once the request is dispatched: another request gets 503.
    await waitUntil(async () => (await fetchStrict(host.url, '/single/app.js/pid')).status === 503);
    await connection.write('zz\r\nAFTER\r\n');
    assert.equal((await connection.read()).status, 400);
    await connection.closed();
    await waitUntil(async () => (await fetchStrict(host.url, '/single/app.js/pid')).status === 200);
  });
});

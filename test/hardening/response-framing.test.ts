/**
 * A misbehaving worker's response framing reaches the client as exactly one valid framing
 * (RFC 9110 §8.6, RFC 9112 §6): repeated equal lengths become one, a coding other than chunked
 * (which only a close could end) is refused (nginx answers 502, iisnode 500.1014), a close-delimited body is
 * re-chunked, and the client connection stays usable after each. Read by node's strict client
 * and on a raw keep-alive connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawConnection, headerOf } from '../helpers/raw-http.js';
import { fetchStrict } from '../helpers/strict-http.js';
import { startHardeningHost, type HardeningHost } from './hardening-host.js';

describe('response framing from a misbehaving worker', () => {
  let host: HardeningHost;

  before(async () => {
    host = await startHardeningHost();
  });

  after(async () => {
    assert.equal(await host.close(), 0);
  });

  test('two equal Content-Length lines go out as one', async () => {
    const reply = await fetchStrict(host.url, '/raw.js/twolengths');
    assert.equal(reply.status, 200);
    assert.equal(reply.framing, 'content-length');
    assert.equal(reply.text, 'hello');
  });

  test('Content-Length with Transfer-Encoding: gzip, from a raw worker and from a node app, is refused with 500.1014', async () => {
    for (const target of ['/raw.js/lengthgzip', '/app.js/clgzip']) {
      const reply = await fetchStrict(host.url, target);
      assert.equal(reply.status, 500, target);
    }
  });

  test('a close-delimited body with Transfer-Encoding: gzip is refused with 500.1014, and the keep-alive connection goes on', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      await connection.write('GET /raw.js/closegzip HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      const refused = await connection.read();
      assert.equal(refused.status, 500);
      assert.notEqual(headerOf(refused, 'transfer-encoding')?.toLowerCase(), 'gzip');
      await connection.write('GET /raw.js/plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      assert.equal((await connection.read()).body.toString(), 'raw');
    } finally {
      connection.close();
    }
  });

  test('a body delimited by the close with no framing at all is re-chunked', async () => {
    const reply = await fetchStrict(host.url, '/raw.js/closebare');
    assert.equal(reply.framing, 'chunked');
    assert.equal(reply.text, 'hello');
  });
});

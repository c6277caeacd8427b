/**
 * Bad HTTP input on raw sockets: each request gets a clear 4xx (or the connection closes),
 * nothing that should be refused reaches the app (each request names itself in its target,
 * and the app's list of what it saw is read after), and the host keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawConnection, headerOf, type RawResponse } from '../helpers/raw-http.js';
import { fetchStrict } from '../helpers/strict-http.js';
import { startHardeningHost, type HardeningHost } from './hardening-host.js';

const HOST = 'Host: 127.0.0.1\r\n';

/** Refused: [name, bytes, status]; the name is the last segment of the target, so the app's list can be checked. */
const REFUSED: [string, string | Buffer, number][] = [
  // Request smuggling (RFC 9112 §6.1, §6.3): every one is refused and closed by node's parser or nodehost.
  ['cl-te', `POST /app.js/cl-te HTTP/1.1\r\n${HOST}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['te-cl', `POST /app.js/te-cl HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`, 400],
  ['two-lengths', `POST /app.js/two-lengths HTTP/1.1\r\n${HOST}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`, 400],
  ['listed-length', `POST /app.js/listed-length HTTP/1.1\r\n${HOST}Content-Length: 1, 1\r\n\r\na`, 400],
  ['signed-length', `POST /app.js/signed-length HTTP/1.1\r\n${HOST}Content-Length: +1\r\n\r\na`, 400],
  ['te-obfuscated', `POST /app.js/te-obfuscated HTTP/1.1\r\n${HOST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, 400],
  ['te-space', `POST /app.js/te-space HTTP/1.1\r\n${HOST}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, 400],
  ['te-twice', `POST /app.js/te-twice HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`, 400],
  ['te-not-last', `POST /app.js/te-not-last HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, 400],
  // Chunk sizes: overflowing, negative, not hex, with a bare LF.
  ['chunk-huge', `POST /app.js/chunk-huge HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk-negative', `POST /app.js/chunk-negative HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk-not-hex', `POST /app.js/chunk-not-hex HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk-bare-lf', `POST /app.js/chunk-bare-lf HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 400],
  // Two Host fields (RFC 9112 §3.2), read by the fast path and by node's parser.
  ['two-hosts', `GET /app.js/two-hosts HTTP/1.1\r\n${HOST}Host: other.example\r\n\r\n`, 400],
  ['two-hosts-node', `POST /app.js/two-hosts-node HTTP/1.1\r\n${HOST}Host: other.example\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['no-host', 'GET /app.js/no-host HTTP/1.1\r\n\r\n', 400],
  // Line ends and bytes that cannot start a request (answered at once, not after a timeout).
  ['bare-lf', `GET /app.js/bare-lf HTTP/1.1\n${HOST.replace('\r', '')}\n`, 400],
  ['bare-lf-header', `GET /app.js/bare-lf-header HTTP/1.1\r\n${HOST}X-A: b\nX-C: d\r\n\r\n`, 400],
  ['tls-hello', Buffer.from('16030100a5010000a10303', 'hex'), 400],
  ['binary', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a]), 400],
  ['http09', 'GET /app.js/http09\r\n', 400],
  ['h2-preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400],
  // Names and values.
  ['bad-name', `GET /app.js/bad-name HTTP/1.1\r\n${HOST}Bad Header: x\r\n\r\n`, 400],
  ['nul-name', `GET /app.js/nul-name HTTP/1.1\r\n${HOST}X\x00Y: x\r\n\r\n`, 400],
  ['ctl-value', `GET /app.js/ctl-value HTTP/1.1\r\n${HOST}X-A: a\x01b\r\n\r\n`, 400],
  ['obs-fold', `GET /app.js/obs-fold HTTP/1.1\r\n${HOST}X-A: a\r\n folded\r\n\r\n`, 400],
  ['space-in-target', `GET /app.js/space in-target HTTP/1.1\r\n${HOST}\r\n`, 400],
  // Sizes: a request line past the head limit is 414 (RFC 9112 §3), a header block past it 431.
  ['long-target', `GET /app.js/long-target?${'a'.repeat(17 * 1024)} HTTP/1.1\r\n${HOST}\r\n`, 414],
  ['long-head', `GET /app.js/long-head HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431],
  ['many-long-headers', `GET /app.js/many-long-headers HTTP/1.1\r\n${HOST}${'X-Pad: 0123456789\r\n'.repeat(1200)}\r\n`, 431],
  // More fields than limits.maxHeaderCount (200), however small (node alone would drop the extra ones and serve it).
  ['many-small-headers', `GET /app.js/many-small-headers HTTP/1.1\r\n${HOST}${'a:b\r\n'.repeat(2500)}\r\n`, 431],
  ['one-header-too-many', `GET /app.js/one-header-too-many HTTP/1.1\r\n${HOST}${'a:b\r\n'.repeat(200)}\r\n`, 431],
  // Methods that must not reach an app.
  ['trace', `TRACE /app.js/trace HTTP/1.1\r\n${HOST}\r\n`, 405],
];

async function exchange(host: HardeningHost, bytes: string | Buffer): Promise<{ response: RawResponse | undefined; connection: RawConnection }> {
  const connection = await RawConnection.open(host.port);
  await connection.write(bytes);
  try {
    return { response: await connection.read(), connection };
  } catch {
    // Closed without an answer.
    return { response: undefined, connection };
  }
}

describe('bad HTTP input', () => {
  let host: HardeningHost;

  before(async () => {
    host = await startHardeningHost();
  });

  after(async () => {
    assert.equal(await host.close(), 0);
  });

  for (const [name, bytes, status] of REFUSED) {
    test(`${name}: ${status}, connection closed, nothing forwarded`, async () => {
      const { response, connection } = await exchange(host, bytes);
      try {
        assert.equal(response?.status, status);
        await connection.closed();
      } finally {
        connection.close();
      }
    });
  }

  test('none of the refused requests reached the app, and the host still serves', async () => {
    const seen = (await host.seen()).seen.map((r) => r.url.split('?')[0]!.split('/').pop());
    // A bad chunk is found in the body, after a valid head went on to the app (streamed, not
    // buffered): the app sees that request aborted, which the slow-clients tests cover.
    for (const [name] of REFUSED) if (!name.startsWith('chunk-')) assert.ok(!seen.includes(name), `${name} reached the app`);
    assert.equal((await fetchStrict(host.url, '/app.js/after')).text, 'app');
  });

  test('CONNECT (authority-form) is closed without an answer from the app', async () => {
    const { response, connection } = await exchange(host, 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n');
    try {
      assert.ok(response === undefined || (response.status >= 400 && response.status < 500), `CONNECT got ${response?.status}`);
      await connection.closed();
    } finally {
      connection.close();
    }
    assert.ok(!(await host.seen()).seen.some((r) => r.method === 'CONNECT'));
  });

  test('accepted forms: chunk extensions, a leading empty line, HTTP/1.0 without Host, OPTIONS *, absolute-form, 200 header fields', async () => {
    const cases: [string, number][] = [
      [`POST /app.js/upload HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5;ext=1;q="x"\r\nhello\r\n0\r\n\r\n`, 200],
      [`\r\nGET /app.js/leading-crlf HTTP/1.1\r\n${HOST}\r\n`, 200],
      ['GET /app.js/http10 HTTP/1.0\r\n\r\n', 200],
      [`OPTIONS * HTTP/1.1\r\n${HOST}\r\n`, 403],
      [`GET http://127.0.0.1/app.js/absolute HTTP/1.1\r\n${HOST}\r\n`, 200],
      [`GET /app.js/headers-at-limit HTTP/1.1\r\n${HOST}${'a:b\r\n'.repeat(199)}\r\n`, 200],
    ];
    for (const [bytes, status] of cases) {
      const { response, connection } = await exchange(host, bytes);
      connection.close();
      assert.equal(response?.status, status, JSON.stringify(bytes.slice(0, 60)));
    }
  });

  test('an absolute-form target reaches the app in origin-form, with its authority as Host', async () => {
    const { response, connection } = await exchange(host, `GET http://other.example/app.js/absolute-form?x HTTP/1.1\r\n${HOST}\r\n`);
    connection.close();
    assert.equal(response?.status, 200);
    const seen = (await host.seen()).seen.find((r) => r.url.includes('absolute-form'));
    assert.equal(seen?.url, '/app.js/absolute-form?x');
    assert.deepEqual(
      seen?.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1]!.toLowerCase() === 'host'),
      ['other.example'],
    );
  });

  test('pipelined requests are answered in order on one connection', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      const names = ['p1', 'p2', 'p3'];
      await connection.write(
        names.map((n) => `GET /raw.js/${n} HTTP/1.1\r\n${HOST}\r\n`).join('') + `GET /app.js/p4 HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`,
      );
      for (let i = 0; i < 3; i++) assert.equal((await connection.read()).body.toString(), 'raw');
      const last = await connection.read();
      assert.equal(last.body.toString(), 'app');
      assert.equal(headerOf(last, 'connection'), 'close');
      await connection.closed();
    } finally {
      connection.close();
    }
  });
});

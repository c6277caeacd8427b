/**
 * Too many request header fields (nodehost.yml `limits.maxHeaderCount`, 50 here), however
 * small: 431 and a close on the fast path and on connections node's parser reads (a chunked
 * request, HTTP/1.0, an upgrade, after a handed-over request), over http and https; 431 on its
 * stream over HTTP/2, whose connection goes on. None of them reaches the app, and a request
 * at the limit is served.
 */
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { fetchStrict } from '../helpers/strict-http.js';
import { TwoPortHost } from './hardening-host.js';

const LIMIT = 50;
const HOST = 'Host: 127.0.0.1\r\n';

/** fields is `count` header lines, Host included. */
function fields(count: number): string {
  return HOST + 'a: b\r\n'.repeat(count - 1);
}

/** Heads of `count` fields besides what makes node's parser read them: [how, head for `name`]. */
const HEADS: [string, (name: string, count: number) => string][] = [
  ['fast path', (name, count) => `GET /app.js/${name} HTTP/1.1\r\n${fields(count)}\r\n`],
  ['chunked (node)', (name, count) => `POST /app.js/${name} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n${fields(count - 1)}\r\n0\r\n\r\n`],
  ['HTTP/1.0 (node)', (name, count) => `GET /app.js/${name} HTTP/1.0\r\n${fields(count)}\r\n`],
  ['upgrade (node)', (name, count) => `GET /app.js/${name} HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${fields(count - 2)}\r\n`],
];

describe('limits.maxHeaderCount', () => {
  const server = new TwoPortHost();
  before(() => server.start({ maxHeaderCount: String(LIMIT) }));
  after(() => server.stop());

  async function seen(): Promise<string[]> {
    const reply = await fetchStrict(`http://127.0.0.1:${server.httpPort}`, '/app.js/seen');
    return (JSON.parse(reply.text) as { seen: { url: string }[] }).seen.map((r) => r.url);
  }

  for (const isHttps of [false, true]) {
    const scheme = isHttps ? 'https' : 'http';
    for (const [how, head] of HEADS) {
      test(`${scheme}, ${how}: one field over the limit gets 431 and a close, never the app`, async () => {
        const name = `over-${scheme}-${how.replace(/\W+/g, '-')}`;
        const connection = await server.open(isHttps);
        await connection.write(head(name, LIMIT + 1));
        assert.equal((await connection.read()).status, 431);
        await connection.closed();
        assert.ok(!(await seen()).includes(`/app.js/${name}`));
      });
    }

    test(`${scheme}: a request at the limit is served, on the fast path and by node's parser`, async () => {
      for (const [how, head] of HEADS.slice(0, 3)) {
        const connection = await server.open(isHttps);
        await connection.write(head(`at-limit-${how.length}`, LIMIT));
        assert.equal((await connection.read()).status, 200, how);
        connection.close();
      }
    });

    test(`${scheme}, after a chunked request on the same connection (node's parser): 431 and a close`, async () => {
      const connection = await server.open(isHttps);
      await connection.write(`POST /app.js/upload HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
      assert.equal((await connection.read()).status, 200);
      await connection.write(`GET /app.js/over-after-${scheme} HTTP/1.1\r\n${fields(LIMIT + 1)}\r\n`);
      assert.equal((await connection.read()).status, 431);
      await connection.closed();
      assert.ok(!(await seen()).includes(`/app.js/over-after-${scheme}`));
    });
  }

  test('HTTP/2: too many fields get 431 on their stream, the connection serves on', async () => {
    const session = connect(`https://127.0.0.1:${server.httpsPort}`, { ca: server.ca!.ca, servername: 'secure.test' });
    try {
      const statusOf = (path: string, count: number) => h2Status(session, path, count);
      assert.equal(await statusOf('/app.js/h2-over', LIMIT + 1), 431);
      // Past node's default of 128 header pairs, still within the 32 KiB header list.
      assert.equal(await statusOf('/app.js/h2-many', 600), 431);
      assert.equal(await statusOf('/app.js/h2-at-limit', LIMIT), 200);
      assert.ok(!(await seen()).some((url) => url === '/app.js/h2-over' || url === '/app.js/h2-many'));
    } finally {
      session.close();
    }
  });
});

/** h2Status sends a GET with `count` header fields (pseudo-headers aside) and resolves with its status. */
function h2Status(session: ClientHttp2Session, path: string, count: number): Promise<number> {
  const headers: OutgoingHttpHeaders = { ':path': path };
  for (let i = 0; i < count; i++) headers[`x-field-${i}`] = 'v';
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    stream.on('response', (head) => {
      stream.resume();
      stream.on('end', () => resolve(Number(head[':status'])));
    });
    stream.on('error', reject);
    stream.end();
  });
}

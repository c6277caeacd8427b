/**
 * A client that half-closes (FIN) while its request runs, on every kind of connection: read by
 * the fast path, or by node's parser (a chunked request, an HTTP/1.0 one), over http and
 * https. By default the FIN aborts the request: the app sees `close`, the connection ends. With
 * `limits.halfClose: respond` the request runs on, and its answer reaches the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawConnection } from '../helpers/raw-http.js';
import { fetchStrict } from '../helpers/strict-http.js';
import { TwoPortHost, waitUntil } from './hardening-host.js';

const HOST = 'Host: 127.0.0.1\r\n';

/** How a request reaches the app: [name, head for `target`]; the name ends up in the target. */
const KINDS: [string, (target: string) => string][] = [
  ['the fast path', (target) => `GET ${target} HTTP/1.1\r\n${HOST}\r\n`],
  ["node's parser (a chunked request)", (target) => `POST ${target} HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ["node's parser (HTTP/1.0)", (target) => `GET ${target} HTTP/1.0\r\n${HOST}\r\n`],
];

/** seenBy is what the app saw so far, asked over http. */
async function seenBy(server: TwoPortHost): Promise<{ seen: { url: string }[]; aborted: number }> {
  return JSON.parse((await fetchStrict(`http://127.0.0.1:${server.httpPort}`, '/app.js/seen')).text);
}

/** sendThenFin sends `bytes`, waits until the app has the request for `target`, then half-closes the connection. */
async function sendThenFin(server: TwoPortHost, isHttps: boolean, target: string, bytes: string): Promise<RawConnection> {
  const connection = await server.open(isHttps);
  await connection.write(bytes);
  await waitUntil(async () => (await seenBy(server)).seen.some((r) => r.url === target));
  // Resolved once the FIN is sent: what the test asks next comes after it.
  await new Promise<void>((resolve) => connection.socket.end(resolve));
  return connection;
}

describe('a client FIN aborts its running request (default)', () => {
  const server = new TwoPortHost();
  before(() => server.start());
  after(() => server.stop());

  for (const isHttps of [false, true]) {
    const scheme = isHttps ? 'https' : 'http';
    for (const [kind, head] of KINDS) {
      test(`${scheme}, ${kind}: the app sees close, the connection ends`, { timeout: 30_000 }, async () => {
        const before = (await seenBy(server)).aborted;
        const target = `/app.js/wait?fin-${scheme}-${kind.replace(/\W+/g, '-')}`;
        const connection = await sendThenFin(server, isHttps, target, head(target));
        await connection.closed();
        await waitUntil(async () => (await seenBy(server)).aborted > before);
      });
    }
  }
});

describe('limits.halfClose: respond lets the request run on after a FIN', () => {
  const server = new TwoPortHost();
  before(() => server.start({ halfClose: 'respond' }));
  after(() => server.stop());

  for (const isHttps of [false, true]) {
    const scheme = isHttps ? 'https' : 'http';
    for (const [kind, head] of KINDS) {
      test(`${scheme}, ${kind}: the answer reaches the half-closed client, then the connection ends`, { timeout: 30_000 }, async () => {
        const before = (await seenBy(server)).aborted;
        const target = `/app.js/park?fin-${scheme}-${kind.replace(/\W+/g, '-')}`;
        const connection = await sendThenFin(server, isHttps, target, head(target));
        assert.equal((await fetchStrict(`http://127.0.0.1:${server.httpPort}`, '/app.js/release')).text, '1');
        const response = await connection.read();
        assert.equal(response.status, 200);
        assert.equal(response.body.toString(), 'released');
        await connection.closed();
        assert.equal((await seenBy(server)).aborted, before);
      });
    }
  }
});

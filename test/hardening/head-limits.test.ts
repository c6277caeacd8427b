/**
 * Head limits on connections node's own parser reads (after the fast path handed them over:
 * a chunked request first, an HTTP/1.0 one, a pipelined pair), over http and https: a request
 * line over the 16 KiB head limit gets 414 (RFC 9112 §3), a header block over it 431, as on
 * the fast path (http-parsing.test.ts), sent in one write or in pieces.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TwoPortHost } from './hardening-host.js';

const HOST = 'Host: 127.0.0.1\r\n';
const LONG_LINE = `GET /app.js/long-line?${'a'.repeat(17 * 1024)} HTTP/1.1\r\n${HOST}\r\n`;
const LONG_HEADER = `GET /app.js/long-header HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`;
const MANY_HEADERS = `GET /app.js/many-headers HTTP/1.1\r\n${HOST}${'X-Pad: 0123456789\r\n'.repeat(1200)}\r\n`;

/** How a connection comes to be read by node's parser: the first request, answered with 200 before the oversized one. */
const HANDED_OVER: [string, string][] = [
  ['after a chunked request', `POST /app.js/upload HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['after an HTTP/1.0 keep-alive request', `GET /app.js/one HTTP/1.0\r\n${HOST}Connection: keep-alive\r\n\r\n`],
];

const OVERSIZED: [string, string, number][] = [
  ['a long request line', LONG_LINE, 414],
  ['a long header', LONG_HEADER, 431],
  ['too many header bytes', MANY_HEADERS, 431],
];

describe("head limits on connections node's parser reads", () => {
  const server = new TwoPortHost();

  before(() => server.start());
  after(() => server.stop());

  for (const isHttps of [false, true]) {
    const scheme = isHttps ? 'https' : 'http';
    for (const [how, first] of HANDED_OVER) {
      for (const [what, bytes, status] of OVERSIZED) {
        for (const pieces of [1, 9]) {
          test(`${scheme}, ${how}: ${what} in ${pieces} write(s) gets ${status} and a close`, async () => {
            const connection = await server.open(isHttps);
            await connection.write(first);
            assert.equal((await connection.read()).status, 200);
            const size = Math.ceil(bytes.length / pieces);
            for (let at = 0; at < bytes.length; at += size) await connection.write(bytes.slice(at, at + size));
            assert.equal((await connection.read()).status, status);
            await connection.closed();
          });
        }
      }
    }

    for (const [what, bytes, status] of OVERSIZED) {
      // Node's parser refuses the connection as soon as it reads the oversized head, which may
      // be before the first request's answer is sent: the last answer is the one that counts.
      test(`${scheme}, pipelined after a request: ${what} gets ${status}`, async () => {
        const connection = await server.open(isHttps);
        await connection.write(`GET /app.js/first HTTP/1.1\r\n${HOST}\r\n${bytes}`);
        const statuses: number[] = [];
        for (;;) {
          try {
            statuses.push((await connection.read()).status);
          } catch {
            break;
          }
        }
        assert.equal(statuses.at(-1), status, `answers: ${statuses.join(', ')}`);
      });
    }
  }
});

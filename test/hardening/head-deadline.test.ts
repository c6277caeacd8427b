/**
 * The head deadline against the idle timers (docs/host-config.md `limits`): once a byte of a
 * request head has come, only `limits.headerTimeout` ends it, with 408 and a close, on the
 * fast path and on a connection node's parser reads, over http and https, whether or not the
 * keep-alive timer (5 s) or the idle timer would have fired first; a connection with no byte
 * of a request is closed without an answer. Each case waits for the close, never for a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RawConnection } from '../helpers/raw-http.js';
import { TwoPortHost } from './hardening-host.js';

const HEAD = 'GET /app.js/x HTTP/1.1\r\nHost: 127.0.0.1\r\n';
const CHUNKED = 'POST /app.js/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';

/** ending is how the server ended the connection: the status it answered, or 'closed' without one. */
async function ending(connection: RawConnection): Promise<number | 'closed'> {
  try {
    const response = await connection.read();
    await connection.closed();
    return response.status;
  } catch {
    return 'closed';
  }
}

/** The cases: [name, what is sent first and answered, the bytes of the head that stalls]; '' sends nothing. */
const CASES: [string, string, string][] = [
  ['a first head (fast path)', '', HEAD],
  ['an HTTP/1.0 first head', '', HEAD.replace('1.1', '1.0')],
  ['a head after a keep-alive response (fast path)', `${HEAD}\r\n`, HEAD],
  ["a head after a chunked request (node's parser)", CHUNKED, HEAD],
];

/** run plays one case on a new connection and says how it ended. */
async function run(deadline: TwoPortHost, isHttps: boolean, first: string, stalled: string): Promise<number | 'closed'> {
  const connection = await deadline.open(isHttps);
  if (first !== '') {
    await connection.write(first);
    assert.equal((await connection.read()).status, 200);
  }
  if (stalled !== '') await connection.write(stalled);
  return ending(connection);
}

for (const [headerTimeout, why] of [
  ['600ms', 'shorter than the idle timers'],
  ['7s', 'longer than the keep-alive timer'],
] as const) {
  // The cases wait for timers, not for CPU: they run side by side.
  describe(`a stalled head with headerTimeout ${headerTimeout} (${why})`, { concurrency: true }, () => {
    const deadline = new TwoPortHost();

    before(() => deadline.start({ headerTimeout }));
    after(() => deadline.stop());

    for (const isHttps of [false, true]) {
      const scheme = isHttps ? 'https' : 'http';
      test(`${scheme}: every head that has begun gets 408 and a close`, { timeout: 60_000 }, async () => {
        const endings = await Promise.all(CASES.map(([, first, stalled]) => run(deadline, isHttps, first, stalled)));
        assert.deepEqual(Object.fromEntries(CASES.map(([name], i) => [name, endings[i]])), Object.fromEntries(CASES.map(([name]) => [name, 408])));
      });

      test(`${scheme}: a connection with no byte of a request is closed without an answer`, { timeout: 60_000 }, async () => {
        const endings = await Promise.all([run(deadline, isHttps, '', ''), run(deadline, isHttps, `${HEAD}\r\n`, ''), run(deadline, isHttps, CHUNKED, '')]);
        assert.deepEqual(endings, ['closed', 'closed', 'closed']);
      });
    }
  });
}

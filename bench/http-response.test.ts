import { test } from 'node:test';
import assert from 'node:assert/strict';
import { responseEnd } from './http-response.js';

const HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n';

test('responseEnd delimits a Content-Length response and waits for the whole body', () => {
  const text = `${HEAD}Content-Length: 13\r\n\r\nHello, world!`;
  assert.equal(responseEnd(Buffer.from(text.slice(0, -1))), undefined);
  assert.equal(responseEnd(Buffer.from(text.slice(0, 20))), undefined);
  assert.deepEqual(responseEnd(Buffer.from(`${text}HTTP/1.1 200 OK\r\n`)), { status: 200, bytes: text.length, isClosing: false });
});

test('responseEnd delimits a chunked response, with and without trailers', () => {
  const plain = `${HEAD}Transfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n8;x=y\r\n, world!\r\n0\r\n\r\n`;
  assert.equal(responseEnd(Buffer.from(plain.slice(0, -2))), undefined);
  assert.deepEqual(responseEnd(Buffer.from(plain)), { status: 200, bytes: plain.length, isClosing: false });
  const trailers = `${HEAD}transfer-encoding: chunked\r\n\r\nd\r\nHello, world!\r\n0\r\nX-Sum: 1\r\n\r\n`;
  assert.equal(responseEnd(Buffer.from(trailers.slice(0, -2))), undefined);
  assert.deepEqual(responseEnd(Buffer.from(trailers)), { status: 200, bytes: trailers.length, isClosing: false });
});

test('responseEnd reports the status and Connection: close', () => {
  const text = 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
  assert.deepEqual(responseEnd(Buffer.from(text)), { status: 503, bytes: text.length, isClosing: true });
  assert.deepEqual(responseEnd(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')), { status: 204, bytes: 27, isClosing: false });
});

test('responseEnd rejects what it cannot delimit', () => {
  assert.throws(() => responseEnd(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /not an HTTP\/1.x response/);
  assert.throws(() => responseEnd(Buffer.from(`${HEAD}\r\nbody until close`)), /without Content-Length or chunked/);
  assert.throws(() => responseEnd(Buffer.from(`${HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n`)), /bad chunk size line/);
});

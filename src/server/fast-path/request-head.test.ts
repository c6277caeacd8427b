import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BAD_REQUEST, HANDOFF, MAX_HEAD_BYTES, NEEDS_MORE, readRequestHead, TOO_MANY_HEADERS, URI_TOO_LONG } from './request-head.js';

const read = (text: string, maxHeaderCount = 200) => readRequestHead(Buffer.from(text, 'latin1'), maxHeaderCount);

test('a plain request head is read: method, target as sent, header list in order, values trimmed', () => {
  const head = read('GET /a%20b/c?x=1&y HTTP/1.1\r\nHost: example.com\r\nAccept:  */* \r\nX-Empty:\r\nX-Twice: 1\r\nX-Twice: 2\r\n\r\n');
  assert.deepEqual(head, {
    method: 'GET',
    url: '/a%20b/c?x=1&y',
    rawHeaders: ['Host', 'example.com', 'Accept', '*/*', 'X-Empty', '', 'X-Twice', '1', 'X-Twice', '2'],
    wantsClose: false,
    headLength: 99,
    bodyLength: 0,
  });
});

test('Connection: close is noticed among other tokens, in any case', () => {
  assert.equal((read('GET / HTTP/1.1\r\nHost: h\r\nConnection: TE, Close\r\n\r\n') as { wantsClose: boolean }).wantsClose, true);
  assert.equal((read('GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n') as { wantsClose: boolean }).wantsClose, false);
});

test('a Content-Length body may follow the head, whole or in part', () => {
  const whole = read('POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello') as { headLength: number; bodyLength: number };
  assert.equal(whole.bodyLength, 5);
  assert.equal(whole.headLength, 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n'.length);
  assert.equal((read('POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhe') as { bodyLength: number }).bodyLength, 5);
  assert.equal((read('POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n') as { bodyLength: number }).bodyLength, 0);
  assert.equal((read('GET / HTTP/1.1\r\nHost: h\r\n\r\n') as { bodyLength: number }).bodyLength, 0);
});

test('an incomplete head asks for more, up to the size limit', () => {
  assert.equal(read('GET / HTTP/1.1\r\nHost: h\r\n'), NEEDS_MORE);
  assert.equal(read('GET / HTTP/1.1\r\nHost: h\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES)), HANDOFF);
  assert.equal(read('GET / HTTP/1.1\r\nHost: h\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\n\r\n'), HANDOFF);
});

test('everything but the plain case goes to node', () => {
  const handedOff = [
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3 4\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: h\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n',
    'GET / HTTP/1.0\r\nHost: h\r\n\r\n',
    'GET / HTTP/2.0\r\nHost: h\r\n\r\n',
    'GET / HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n',
    'PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n',
    'get / HTTP/1.1\r\nHost: h\r\n\r\n',
    'GET  / HTTP/1.1\r\nHost: h\r\n\r\n',
    'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n',
    'GET /caf\u00e9 HTTP/1.1\r\nHost: h\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\nX: a\u0000b\r\n\r\n',
  ];
  for (const text of handedOff) assert.equal(read(text), HANDOFF, JSON.stringify(text));
});

test('obs-text and tabs in values are read; names are tokens', () => {
  const head = read("GET / HTTP/1.1\r\nHost: h\r\nX-Latin: caf\u00e9\tok\r\nX-Odd!#$%&'*+-.^_`|~: v\r\n\r\n");
  assert.notEqual(head, HANDOFF);
  assert.deepEqual((head as { rawHeaders: string[] }).rawHeaders, ['Host', 'h', 'X-Latin', 'caf\u00e9\tok', "X-Odd!#$%&'*+-.^_`|~", 'v']);
});

test('bytes that cannot start an HTTP/1.x request line are refused at once, complete or not', () => {
  for (const text of [
    '\x16\x03\x01\x00',
    '\x00',
    'GET /\r\n',
    'GET /\r\n\r\n',
    'GET / HTTP/1.1\n',
    'GET / HTTP/1.1\nHost: h\n\n',
    'GE(T / HTTP/1.1',
    'GET / HTTQ',
    'GET / HTTP/x',
  ])
    assert.equal(read(text), BAD_REQUEST, JSON.stringify(text));
  for (const text of ['G', 'GET', 'GET /a', 'GET /a HT', 'GET /a HTTP/1.1', 'GET /a HTTP/1.1\r']) assert.equal(read(text), NEEDS_MORE, JSON.stringify(text));
});

test('a bare LF among the header lines goes to node, which refuses it at once', () => {
  assert.equal(read('GET / HTTP/1.1\r\nHost: h\nX: y\r\n'), HANDOFF);
});

test("a request line longer than the head limit is 414; a long header block stays node's 431", () => {
  assert.equal(read(`GET /${'a'.repeat(MAX_HEAD_BYTES)}`), URI_TOO_LONG);
  assert.equal(read(`GET /${'a'.repeat(MAX_HEAD_BYTES)} HTTP/1.1\r\nHost: h\r\n\r\n`), URI_TOO_LONG);
  assert.equal(read(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`), HANDOFF);
});

test('more header fields than the limit are TOO_MANY_HEADERS, however small; the limit itself is read', () => {
  const head = (fields: number) => `GET / HTTP/1.1\r\nHost: h\r\n${'a:b\r\n'.repeat(fields - 1)}\r\n`;
  assert.equal((read(head(200)) as { rawHeaders: string[] }).rawHeaders.length, 400);
  assert.equal(read(head(201)), TOO_MANY_HEADERS);
  assert.equal(read(head(2500)), TOO_MANY_HEADERS);
  assert.equal(read(head(3), 2), TOO_MANY_HEADERS);
  // Counted before anything else would hand the head to node.
  assert.equal(read(`POST / HTTP/1.1\r\nHost: h\r\n${'a:b\r\n'.repeat(300)}Transfer-Encoding: chunked\r\n\r\n`), TOO_MANY_HEADERS);
  // 0: no limit but the head's size.
  assert.equal((read(head(2500), 0) as { rawHeaders: string[] }).rawHeaders.length, 5000);
});

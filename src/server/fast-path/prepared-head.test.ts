import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { FastResponse, type ResponseOwner } from './fast-response.js';
import { JOINED_MAX } from './prepared-head.js';

/** FakeSocket records each write as the bytes it was given (the buffer itself when it was one). */
class FakeSocket {
  readonly writes: Buffer[] = [];
  writableLength = 0;
  write(chunk: string | Buffer, encodingOrCallback?: unknown, callback?: unknown): boolean {
    this.writes.push(
      typeof chunk === 'string' ? Buffer.from(chunk, typeof encodingOrCallback === 'string' ? (encodingOrCallback as BufferEncoding) : 'utf8') : chunk,
    );
    const cb = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (typeof cb === 'function') process.nextTick(cb as () => void);
    return true;
  }
  cork(): void {}
  uncork(): void {}
  destroy(): void {}
}

const OWNER: ResponseOwner = { onResponseFinished: () => undefined };
const BODY = Buffer.from('hello, prepared world\n');
const HEAD = Object.freeze(['Content-Type', 'text/plain', 'Content-Length', String(BODY.length), 'ETag', '"1-2"']);

/** respond sends one response of `list` and `body` (none for HEAD or undefined) on a fresh FastResponse; returns the writes. */
function respond(list: readonly string[], body: Buffer | undefined, options: { method?: string; status?: number; keepAlive?: boolean } = {}): Buffer[] {
  const socket = new FakeSocket();
  const req = { method: options.method ?? 'GET' } as IncomingMessage;
  const res = new FastResponse(req, socket as unknown as Socket, OWNER, options.keepAlive ?? true, 5000);
  res.writeHead(options.status ?? 200, list as string[]);
  res.end(body);
  return socket.writes;
}

test('a frozen head list goes out as node would write it, head and body in one write, and as the same buffer next time', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 0, 2, 3, 4, 5, 100) });
  const first = respond(HEAD, BODY);
  const expected = Buffer.concat([
    Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nETag: "1-2"\r\n' +
        'Date: Fri, 02 Jan 2026 03:04:05 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n',
      'latin1',
    ),
    BODY,
  ]);
  assert.equal(first.length, 1, 'one write');
  assert.deepEqual(first[0], expected);
  assert.deepEqual(respond([...HEAD], BODY), first, 'a list that is not frozen renders the same bytes');
  const second = respond(HEAD, BODY);
  assert.equal(second[0], first[0], 'the bytes built for the first response are sent again');
});

test('the Date is patched when the second changes, into a new buffer: the one a socket may still hold stays as it was', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 0, 2, 3, 4, 5, 999) });
  const before = respond(HEAD, BODY)[0]!;
  const kept = Buffer.from(before);
  t.mock.timers.tick(1);
  const after = respond(HEAD, BODY)[0]!;
  assert.notEqual(after, before);
  assert.deepEqual(before, kept, 'the earlier buffer is not changed');
  assert.match(before.toString('latin1'), /\r\nDate: Fri, 02 Jan 2026 03:04:05 GMT\r\n/);
  assert.match(after.toString('latin1'), /\r\nDate: Fri, 02 Jan 2026 03:04:06 GMT\r\n/);
  assert.equal(after.toString('latin1').replace('03:04:06', '03:04:05'), before.toString('latin1'), 'only the Date differs');
  const head = respond(HEAD, undefined, { method: 'HEAD' })[0]!;
  assert.match(head.toString('latin1'), /\r\nDate: Fri, 02 Jan 2026 03:04:06 GMT\r\n/, 'a HEAD answer has the new Date too');
});

test('HEAD, 304 and Connection: close are shapes of their own; a large body goes after the kept head, not copied', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 0, 2, 3, 4, 5, 0) });
  const date = 'Date: Fri, 02 Jan 2026 03:04:05 GMT\r\n';
  const head = respond(HEAD, BODY, { method: 'HEAD' });
  assert.equal(head.length, 1);
  assert.equal(
    head[0]!.toString('latin1'),
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nETag: "1-2"\r\n${date}Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`,
  );
  const validators = Object.freeze(['ETag', '"1-2"']);
  const notModified = respond(validators, undefined, { status: 304 });
  assert.equal(
    notModified[0]!.toString('latin1'),
    `HTTP/1.1 304 Not Modified\r\nETag: "1-2"\r\n${date}Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`,
  );
  const closing = respond(HEAD, BODY, { keepAlive: false });
  assert.match(closing[0]!.toString('latin1'), /\r\nConnection: close\r\n\r\nhello/);
  assert.match(respond(HEAD, BODY)[0]!.toString('latin1'), /\r\nConnection: keep-alive\r\n/, 'the keep-alive shape is still kept beside it');
  const large = Buffer.alloc(JOINED_MAX + 1, 'x');
  const list = Object.freeze(['Content-Length', String(large.length)]);
  const writes = respond(list, large);
  assert.equal(writes.length, 2);
  assert.equal(writes[1], large);
});

test('a frozen list is validated when it is first rendered', () => {
  assert.throws(() => respond(Object.freeze(['X-Bad', 'a\nb']), BODY), { code: 'ERR_INVALID_CHAR' });
  assert.throws(() => respond(Object.freeze(['Bad Name', 'x']), BODY), { code: 'ERR_INVALID_HTTP_TOKEN' });
});

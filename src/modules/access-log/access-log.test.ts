/**
 * AccessLog contract: every recorded line reaches the file, in order, whole, across flushes,
 * slabs, days and size rotations, and nothing buffered is lost at close.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { HostLog } from '../../host-log.js';
import type { RequestContext } from '../../http/request-context.js';
import { monotonicMs } from '../../http/monotonic-ms.js';
import { AccessLog, fileName, formatAccessLine, W3C_FIELDS } from './access-log.js';

const quiet = new HostLog({ write: () => true } as unknown as NodeJS.WritableStream, false);

function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-access-log-'));
  return body(dir).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

/** linesOf returns the log lines of a file without its directives. */
function linesOf(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
}

test('lines of many flushes and slabs, a long one and non-ASCII ones, are written in order and whole by close', () =>
  withDir(async (dir) => {
    const log = new AccessLog({ dir, log: quiet });
    const expected: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const line = `2026-12-07 01:02:03 127.0.0.1 GET /p${i} ${i % 97 === 0 ? 'é€😀' : '-'} 80`;
      expected.push(line);
      log.record(line);
      if (i === 5000) {
        const long = `2026-12-07 01:02:03 ${'x'.repeat(100_000)}`;
        expected.push(long);
        log.record(long);
      }
      if (i % 4096 === 0) await log.flush();
    }
    await log.close();
    const file = path.join(dir, fileName('2026-12-07', 0));
    assert.deepEqual(linesOf(file), expected);
    const head = fs.readFileSync(file, 'utf8').split('\n', 4);
    assert.deepEqual([head[0], head[1], head[3]], ['#Software: nodehost', '#Version: 1.0', `#Fields: ${W3C_FIELDS}`]);
    assert.match(head[2]!, /^#Date: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(log.dropped, 0);
    log.record('2026-12-07 after close');
    await log.close();
    assert.equal(linesOf(file).length, expected.length, 'a line recorded after close is ignored');
  }));

test('a new UTC day goes to a new file; a file full at the end of a write continues in the next one, each opened with the directives', () =>
  withDir(async (dir) => {
    const log = new AccessLog({ dir, log: quiet, maxFileBytes: 4096 });
    const day1 = Array.from({ length: 200 }, (_, i) => `2026-12-07 23:59:59 line ${i}`);
    const day2 = Array.from({ length: 3 }, (_, i) => `2026-12-08 00:00:00 line ${i}`);
    // A file is continued between writes, so the writer gets batches of 50 lines here.
    for (const [i, line] of [...day1, ...day2].entries()) {
      log.record(line);
      if (i % 50 === 49) await log.flush();
    }
    await log.close();
    const names = fs.readdirSync(dir).sort();
    assert.ok(names.includes('u_ex261207_1.log'), names.join(' '));
    const first = names.filter((name) => name.startsWith('u_ex261207')).sort((a, b) => a.length - b.length || a.localeCompare(b));
    assert.deepEqual(
      first.flatMap((name) => linesOf(path.join(dir, name))),
      day1,
    );
    for (const name of first) assert.match(fs.readFileSync(path.join(dir, name), 'utf8'), /^#Software/);
    assert.deepEqual(linesOf(path.join(dir, 'u_ex261208.log')), day2);
  }));

test('formatAccessLine: empty fields are -, spaces become +, control characters %XX, each request its own header values', () => {
  const ctx = (agent: string): RequestContext =>
    ({
      req: { method: 'GET', headers: { 'user-agent': agent }, socket: { bytesWritten: 10 } },
      res: { headersSent: true, statusCode: 200 },
      rawUrl: '/a b?q=1',
      status: 200,
      substatus: 0,
      startTime: monotonicMs(),
      localAddress: '127.0.0.1',
      localPort: 80,
      remoteAddress: '127.0.0.1',
      authUser: '',
    }) as unknown as RequestContext;
  const fields = (agent: string): string[] => formatAccessLine(ctx(agent), new Date('2026-12-07T01:02:03Z')).split(' ');
  const first = fields('Mozilla/5.0 (X11; Linux)');
  assert.deepEqual(first.slice(0, 9), ['2026-12-07', '01:02:03', '127.0.0.1', 'GET', '/a+b', 'q=1', '80', '-', '127.0.0.1']);
  assert.equal(first[9], 'Mozilla/5.0+(X11;+Linux)');
  assert.equal(first[10], '-');
  assert.equal(fields('bad\tagent')[9], 'bad%09agent');
  assert.equal(fields('')[9], '-');
  assert.equal(fields('Mozilla/5.0 (X11; Linux)')[9], 'Mozilla/5.0+(X11;+Linux)');
});

/** referenceLine is the line as nodehost formatted it before the line was built in fewer pieces: every other implementation must give its bytes. */
function referenceLine(ctx: RequestContext, now: number, end: number, sent: number): string {
  const field = (value: string): string => {
    if (value === '') return '-';
    if (!/[\x00-\x20\x7f]/.test(value)) return value;
    if (!/[\x00-\x1f\x7f]/.test(value)) return value.replaceAll(' ', '+');
    return value.replace(/[\x00-\x20\x7f]/g, (c) => (c === ' ' ? '+' : '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')));
  };
  const header = (value: string | string[] | undefined): string => (Array.isArray(value) ? value.join(',') : (value ?? ''));
  const req = ctx.req;
  const res = ctx.res;
  const raw = ctx.rawUrl;
  const q = raw.indexOf('?');
  const status = res.headersSent ? res.statusCode : ctx.status || res.statusCode;
  const substatus = ctx.status === status ? ctx.substatus : 0;
  const iso = new Date(Math.floor(now / 1000) * 1000).toISOString();
  return (
    iso.slice(0, 10) +
    ' ' +
    iso.slice(11, 19) +
    ' ' +
    field(ctx.localAddress) +
    ' ' +
    field(req.method ?? '') +
    ' ' +
    field(q === -1 ? raw : raw.slice(0, q)) +
    ' ' +
    field(q === -1 ? '' : raw.slice(q + 1)) +
    ' ' +
    ctx.localPort +
    ' ' +
    field(ctx.authUser) +
    ' ' +
    field(ctx.remoteAddress) +
    ' ' +
    field(header(req.headers['user-agent'])) +
    ' ' +
    field(header(req.headers.referer)) +
    ' ' +
    status +
    ' ' +
    substatus +
    ' ' +
    Math.max(0, sent) +
    ' ' +
    Math.floor(end - ctx.startTime)
  );
}

const AGENTS = [
  'Mozilla/5.0 (X11; Linux)',
  'h2load nghttp2/1.59.0',
  'bad\tagent',
  '',
  undefined,
  ['a b', 'c'],
  'é€😀 x',
  '\ud800x',
  'x\x7fy',
  'Ã©',
  'x'.repeat(100_000),
];
const URLS = ['/app.css', '/a b?q=1', '/p?', '?x', '?', '', '/é?ü', '/x?a b\r', '/ok?q=%20&r=1', '/users/42?name=world'];
const METHODS = ['GET', 'HEAD', 'PO ST', '', 'GÉT'];
const USERS = ['', 'DOMAIN\\user name', 'ü', 'alice'];
const ADDRESSES = ['127.0.0.1', '::1', '', '10.0.0.2', 'fe80::1%eth 0'];
const REFERERS = [undefined, 'http://127.0.0.1:8080/', 'http://x/ y', ''];

/** variedContexts yields `count` requests that mix every kind of field value, on a few connections (each to be logged before the next is taken). */
function* variedContexts(count: number): Generator<{ ctx: RequestContext; now: number; end: number; sent: number }> {
  const sockets = [{ bytesWritten: 0 }, { bytesWritten: 0 }, { bytesWritten: 0 }];
  const previous = new Map<object, number>();
  for (let i = 0; i < count; i++) {
    const socket = sockets[i % 3]!;
    socket.bytesWritten += i % 11 === 0 ? 5_000_000_000 : 151 + i;
    const sent = socket.bytesWritten - (previous.get(socket) ?? 0);
    previous.set(socket, socket.bytesWritten);
    const isSent = i % 7 !== 3;
    const ctx = {
      req: { method: METHODS[i % METHODS.length], headers: { 'user-agent': AGENTS[i % AGENTS.length], referer: REFERERS[i % REFERERS.length] }, socket },
      res: { headersSent: isSent, statusCode: isSent ? [200, 304, 404, 500][i % 4] : 200 },
      rawUrl: URLS[i % URLS.length],
      status: i % 5 === 0 ? 404 : 0,
      substatus: i % 5 === 0 ? 2 : 0,
      startTime: 1000 + (i % 13) * 0.37,
      localAddress: ADDRESSES[i % ADDRESSES.length],
      localPort: i % 6 === 0 ? 443 : 8080,
      remoteAddress: ADDRESSES[(i * 3) % ADDRESSES.length],
      authUser: USERS[i % USERS.length],
    } as unknown as RequestContext;
    // Mostly the same second, as under load; a few seconds apart within the day.
    yield { ctx, now: Date.UTC(2026, 11, 7, 1, 2, 3 + Math.floor(i / 40)) + (i % 1000), end: 1000 + (i % 17) * 1.5, sent };
  }
}

test('formatAccessLine gives the reference bytes for every kind of field value', () => {
  for (const { ctx, now, end, sent } of variedContexts(600)) {
    assert.equal(formatAccessLine(ctx, new Date(now), end), referenceLine(ctx, now, end, sent));
  }
});

test("recordRequest writes the reference line's UTF-8 bytes for every kind of field value, across pending runs, slabs and a long line", () =>
  withDir(async (dir) => {
    const log = new AccessLog({ dir, log: quiet });
    const expected: string[] = [];
    let i = 0;
    for (const { ctx, now, end, sent } of variedContexts(3000)) {
      i++;
      expected.push(referenceLine(ctx, now, end, sent));
      log.recordRequest(ctx, now, end);
      if (i % 1000 === 0) await log.flush();
    }
    await log.close();
    const text = fs.readFileSync(path.join(dir, fileName('2026-12-07', 0)));
    const body = text.subarray(text.indexOf(`#Fields: ${W3C_FIELDS}\n`) + `#Fields: ${W3C_FIELDS}\n`.length);
    assert.ok(body.equals(Buffer.from(`${expected.join('\n')}\n`)), 'the file holds the reference lines, byte for byte');
    assert.equal(log.dropped, 0);
  }));

test('lines recorded while a write runs reach the file without another request or close (at most FLUSH_MS later)', () =>
  withDir(async (dir) => {
    const log = new AccessLog({ dir, log: quiet });
    log.record('2026-12-07 01:02:03 first');
    const writing = log.flush();
    log.record('2026-12-07 01:02:03 second');
    await writing;
    const file = path.join(dir, fileName('2026-12-07', 0));
    const deadline = Date.now() + 10_000;
    while (!(fs.existsSync(file) && linesOf(file).length === 2)) {
      assert.ok(Date.now() < deadline, 'the second line was written within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(linesOf(file), ['2026-12-07 01:02:03 first', '2026-12-07 01:02:03 second']);
    await log.close();
  }));

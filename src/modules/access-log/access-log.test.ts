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

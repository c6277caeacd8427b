// The host event log: pino JSON lines on stderr, --log-level, the terminal format.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PassThrough } from 'node:stream';
import { formatPretty, HostLog } from '../src/host-log.js';
import { fetchRaw, SITES, startNodehost } from './helpers/nodehost.js';

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('host log', () => {
  test('serve writes host events as JSON lines: host started, worker spawned, host stopped', async () => {
    const host = await startNodehost(SITES + 'main');
    assert.equal((await fetchRaw(host.url, '/hello.js')).status, 200);
    assert.equal(await host.stop(), 0);
    const lines = jsonLines(host.stderr());
    const started = lines.find((line) => line.msg === 'host started');
    assert.ok(started, host.stderr());
    assert.equal(started.level, 'info');
    assert.equal(started.pid, host.child.pid);
    assert.match(String(started.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(lines.some((line) => line.msg === 'worker spawned'));
    assert.ok(lines.some((line) => line.msg === 'host stopped' && line.signal === 'SIGTERM'));
  });

  test('--log-level warn leaves out info lines', async () => {
    const host = await startNodehost(SITES + 'main', { args: ['--log-level', 'warn'] });
    assert.equal((await fetchRaw(host.url, '/hello.js')).status, 200);
    assert.equal(await host.stop(), 0);
    const lines = jsonLines(host.stderr());
    assert.deepEqual(
      lines.filter((line) => line.level === 'info' || line.level === 'debug'),
      [],
    );
  });

  test('a bad --log-level is a usage error', async () => {
    const err = await startNodehost(SITES + 'main', { args: ['--log-level', 'loud'] }).catch((e: Error) => e);
    assert.ok(err instanceof Error);
    assert.match(err.message, /must be one of debug, info, warn, error/);
    assert.match(err.message, /exited with 2/);
  });

  test('HostLog keeps its interface: msg first among the fields, errors as name/message/code, debug gated', () => {
    const out = new PassThrough();
    const log = new HostLog(out, false);
    log.debug('hidden');
    log.info('worker exited', { pid: 7, code: 1, signal: null });
    log.warn('failed', { err: Object.assign(new Error('boom'), { code: 'EBOOM' }) });
    const text = String(out.read());
    assert.match(text, /"msg":"worker exited","pid":7,"code":1,"signal":null/);
    const lines = jsonLines(text);
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[1]!.err, { name: 'Error', message: 'boom', code: 'EBOOM' });
    assert.equal(log.isDebug, false);
    assert.equal(new HostLog(out, { level: 'debug' }).isDebug, true);
    const quiet = new PassThrough();
    new HostLog(quiet, { level: 'error' }).warn('not written');
    assert.equal(quiet.read(), null);
  });

  test('on a terminal the lines are for people', () => {
    const out = new PassThrough();
    new HostLog(out, { isPretty: true }).info('worker exited', { pid: 7, script: '/a b.js' });
    assert.match(String(out.read()), /^\d\d:\d\d:\d\d\.\d{3} INFO {2}worker exited pid=7 script="\/a b\.js"\n$/);
    assert.equal(formatPretty('not json\n'), 'not json\n');
  });
});

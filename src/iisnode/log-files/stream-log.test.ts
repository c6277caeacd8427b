import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LogFolder } from './log-folder.js';
import { StreamLog } from './stream-log.js';

const temps: string[] = [];
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function makeLog(maxFileBytes: number, pipe = { pause() {}, resume() {} }): { log: StreamLog; dir: string } {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nh-stream-log-')), 'iisnode');
  temps.push(path.dirname(dir));
  const folder = new LogFolder(dir, { maxFileBytes, maxTotalBytes: 1 << 30, maxFiles: 1000 }, (what, _dir, err) => assert.fail(`${what}: ${err}`));
  const log = new StreamLog({ folder, pid: 42, stream: 'stdout', pipe, hostname: 'box', onError: (err) => assert.fail(String(err)) });
  return { log, dir };
}

function files(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .sort((a, b) => Number(/-(\d+)\.txt$/.exec(a)![1]) - Number(/-(\d+)\.txt$/.exec(b)![1]));
}

test('lines cut across chunks never straddle two files, and files stay within the limit', async () => {
  const { log, dir } = makeLog(100);
  let input = '';
  for (let i = 0; i < 30; i++) input += `line ${String(i).padStart(2, '0')} ${'z'.repeat(30)}\n`;
  const bytes = Buffer.from(input);
  for (let i = 0; i < bytes.length; i += 7) log.write(bytes.subarray(i, i + 7));
  log.end();
  await log.closed;
  const names = files(dir);
  assert.ok(names.length >= 12, `${names.length} files`);
  let joined = '';
  for (const name of names) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    assert.ok(text.length <= 100, `${name} has ${text.length} bytes`);
    assert.match(text, /^(line \d\d z{30}\n)+$/, 'whole lines only');
    joined += text;
  }
  assert.equal(joined, input, 'nothing lost or reordered');
  assert.match(names[0]!, /^box-42-stdout-\d+\.txt$/);
  assert.ok(fs.existsSync(path.join(dir, 'index.html')));
});

test('a writer that outpaces the disk pauses the pipe, which is resumed once the queue drains', async () => {
  const calls: string[] = [];
  const { log, dir } = makeLog(1 << 30, { pause: () => calls.push('pause'), resume: () => calls.push('resume') });
  const line = Buffer.from('x'.repeat(1023) + '\n');
  const block = Buffer.concat(Array.from({ length: 256 }, () => line));
  for (let i = 0; i < 8; i++) log.write(block);
  assert.deepEqual(calls, ['pause'], 'paused while 2 MiB wait');
  log.end();
  await log.closed;
  assert.deepEqual(calls, ['pause', 'resume']);
  const [name] = files(dir);
  assert.equal(fs.statSync(path.join(dir, name!)).size, 8 * block.length);
});

test('tail includes bytes not yet on disk and a partial last line', async () => {
  const { log } = makeLog(1 << 20);
  log.write(Buffer.from('first\nsecond\npartial'));
  assert.equal(log.tail(64 * 1024), 'first\nsecond\npartial');
  assert.equal(log.tail(8), '\npartial');
  log.end();
  await log.closed;
  assert.equal(log.tail(64 * 1024), 'first\nsecond\npartial');
});

test('a write error is reported once, the lost bytes are counted, and the log resumes in a new file when writing works again', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-stream-log-'));
  temps.push(root);
  const dir = path.join(root, 'iisnode');
  // A file where the folder must be made: creating the log file fails until it is gone.
  fs.writeFileSync(dir, 'in the way');
  const folder = new LogFolder(dir, { maxFileBytes: 1 << 20, maxTotalBytes: 1 << 30, maxFiles: 1000 }, () => {});
  const errors: string[] = [];
  let failed!: () => void;
  const hasFailed = new Promise<void>((resolve) => (failed = resolve));
  let resumed!: (dropped: number) => void;
  const hasResumed = new Promise<number>((resolve) => (resumed = resolve));
  const log = new StreamLog({
    folder,
    pid: 42,
    stream: 'stdout',
    pipe: { pause() {}, resume() {} },
    hostname: 'box',
    retryMs: 0,
    onError: (_err, file) => {
      errors.push(file);
      failed();
    },
    onResume: (dropped) => resumed(dropped),
  });
  log.write(Buffer.from('lost line\n'));
  await hasFailed;
  fs.rmSync(dir);
  log.write(Buffer.from('kept line\n'));
  assert.equal(await hasResumed, 'lost line\n'.length);
  log.end();
  await log.closed;
  assert.equal(errors.length, 1);
  assert.equal(log.droppedBytes, 'lost line\n'.length);
  assert.deepEqual(
    files(dir).map((name) => fs.readFileSync(path.join(dir, name), 'utf8')),
    ['kept line\n'],
  );
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileCache } from './file-cache.js';
import { StaticFile } from './static-file.js';

const dir = mkdtempSync(join(tmpdir(), 'nodehost-file-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MIME = new Map([['.txt', 'text/plain']]);

function fileAt(name: string, body: string): StaticFile {
  const path = join(dir, name);
  writeFileSync(path, body);
  const stats = statSync(path);
  return new StaticFile(path, stats.size, stats.mtimeMs, 'text/plain');
}

function cache(overrides: Partial<ConstructorParameters<typeof FileCache>[0]> = {}): FileCache {
  return new FileCache({ maxEntries: 10, maxBytes: 1024, maxFileBytes: 256, revalidateMs: 5000, unwatchedRevalidateMs: 1000, ...overrides });
}

test('a loaded file is served from memory with a precomputed head until its revalidation time', async () => {
  const c = cache();
  const file = fileAt('a.txt', 'hello');
  const entry = await c.load(file, MIME);
  assert.ok(entry);
  assert.equal(entry.body.toString(), 'hello');
  assert.deepEqual(entry.headers200.slice(0, 4), ['Content-Type', 'text/plain', 'Content-Length', '5']);
  const now = Date.now();
  assert.equal(c.lookup(file.path, MIME, now), entry);
  assert.equal(c.lookup(file.path, new Map(MIME), now), undefined, 'another mimeMap is a miss');
  assert.equal(c.lookup(file.path, MIME, now + 60_000), undefined, 'too old: the caller stats again');
  assert.equal(c.revalidated(file, MIME, now + 60_000), entry, 'unchanged after the stat: reused');
  c.clear();
  assert.equal(c.size, 0);
});

test('a changed file is dropped by revalidation when its size or mtime differ', async () => {
  const c = cache();
  const file = fileAt('b.txt', 'one');
  assert.ok(await c.load(file, MIME));
  const newer = fileAt('b.txt', 'three');
  assert.equal(c.revalidated(newer, MIME, Date.now()), undefined);
  assert.equal(c.has(file.path), false);
  c.clear();
});

test('a changed file is dropped by its watcher', async () => {
  const c = cache();
  const file = fileAt('w.txt', 'one');
  const entry = await c.load(file, MIME);
  assert.ok(entry);
  const watcher = entry.watcher;
  if (watcher === undefined) return; // no inotify here: revalidation covers it (test above)
  // The watcher does not keep the process alive; the bounded timer does, until the event.
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('no change event within 10 s')), 10_000);
    watcher.once('change', () => {
      clearTimeout(guard);
      resolve();
    });
    writeFileSync(file.path, 'changed');
  });
  assert.equal(c.has(file.path), false);
  assert.equal(entry.isValid, false);
  c.clear();
});

test('bounds: files over maxFileBytes are not cacheable; count and bytes evict the oldest', async () => {
  const c = cache({ maxEntries: 2, maxBytes: 10 });
  assert.equal(c.isCacheable(257), false);
  const f1 = fileAt('c1.txt', '1234');
  const f2 = fileAt('c2.txt', '5678');
  const f3 = fileAt('c3.txt', '90ab');
  await c.load(f1, MIME);
  await c.load(f2, MIME);
  await c.load(f3, MIME);
  assert.equal(c.size, 2);
  assert.equal(c.has(f1.path), false, 'the oldest went first');
  assert.ok(c.bytes <= 10);
  c.clear();
  assert.equal(c.bytes, 0);
});

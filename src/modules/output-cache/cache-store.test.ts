import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CacheStore, ENTRY_OVERHEAD, entrySize, type CachedResponse } from './cache-store.js';

function entry(bytes: number, dependsOn: string[] = []): CachedResponse {
  return {
    headers: ['content-type', 'text/plain'],
    body: Buffer.alloc(bytes, 'x'),
    storedAt: 0,
    expiresAt: Infinity,
    staleUntil: Infinity,
    dependsOn,
    isPass: false,
  };
}

test('entrySize counts the body, the head, the key and a fixed overhead', () => {
  assert.equal(entrySize('k', entry(100)), ENTRY_OVERHEAD + 1 + 100 + 'content-type'.length + 'text/plain'.length);
});

test('the store keeps within its byte budget, dropping the least recently used first', () => {
  const one = entrySize('a', entry(1000));
  const store = new CacheStore(one * 3);
  assert.ok(store.set('a', entry(1000)));
  assert.ok(store.set('b', entry(1000)));
  assert.ok(store.set('c', entry(1000)));
  assert.equal(store.bytes, one * 3);
  store.get('a');
  assert.ok(store.set('d', entry(1000)));
  assert.equal(store.get('b'), undefined, 'b was the least recently used');
  assert.ok(store.get('a') !== undefined && store.get('c') !== undefined && store.get('d') !== undefined);
  assert.ok(store.bytes <= store.maxBytes);
  store.close();
});

test('an entry larger than the whole budget is never kept and evicts nothing', () => {
  const store = new CacheStore(10_000);
  assert.ok(store.set('small', entry(100)));
  assert.equal(store.set('huge', entry(20_000)), false);
  assert.equal(store.get('huge'), undefined);
  assert.ok(store.get('small') !== undefined);
  store.close();
});

test('entries that depend on a file are dropped when it changes; invalidate counts changes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-cache-store-'));
  const file = path.join(dir, 'page.txt');
  fs.writeFileSync(file, 'one');
  const store = new CacheStore(1_000_000);
  try {
    assert.ok(store.set('page', entry(10, [file])));
    assert.ok(store.set('other', entry(10)));
    const changes = store.changes;
    fs.writeFileSync(file, 'two');
    for (let i = 0; i < 200 && store.get('page') !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(store.get('page'), undefined);
    assert.ok(store.get('other') !== undefined);
    assert.ok(store.changes > changes);
    // A missing file cannot be watched: its entry is not kept.
    assert.equal(store.set('gone', entry(10, [path.join(dir, 'missing.txt')])), false);
    store.invalidate('/not/watched');
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

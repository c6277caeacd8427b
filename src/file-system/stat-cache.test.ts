/**
 * StatCache contract: the same answers as stat (file, directory, none; nothing below a file or
 * a missing folder), within its budgets and after close; changes are seen once their inotify
 * event has been handled.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { StatCache } from './stat-cache.js';

function withDir(body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-stat-cache-'));
  return Promise.resolve(body(dir)).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

/** eventually resolves once `check()` holds, letting inotify events in between (at most 5 s). */
async function eventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    assert.ok(Date.now() < deadline, 'the change was not seen within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('answers like stat, also past its budgets and after close', () =>
  withDir((dir) => {
    fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a', 'f.txt'), 'x');
    const expected: [string, string][] = [
      [path.join(dir, 'a'), 'directory'],
      [path.join(dir, 'a', 'b'), 'directory'],
      [path.join(dir, 'a', 'f.txt'), 'file'],
      [path.join(dir, 'a', 'f.txt', 'x'), 'none'],
      [path.join(dir, 'a', 'missing'), 'none'],
      [path.join(dir, 'missing', 'deeper', 'x'), 'none'],
      [path.join(dir, 'a', 'b', ''), 'directory'],
    ];
    for (const limits of [undefined, { maxNames: 2, maxFolders: 1 }]) {
      const cache = new StatCache(limits);
      for (let round = 0; round < 2; round++) for (const [file, kind] of expected) assert.equal(cache.kind(file), kind, file);
      cache.close();
      for (const [file, kind] of expected) assert.equal(cache.kind(file), kind, `${file} after close`);
    }
  }));

test('a file made, a folder made, a file removed and a folder renamed are seen once their events are handled', () =>
  withDir(async (dir) => {
    const cache = new StatCache();
    const file = path.join(dir, 'new', 'deep', 'a.txt');
    assert.equal(cache.kind(file), 'none');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'x');
    await eventually(() => cache.kind(file) === 'file');
    fs.rmSync(file);
    await eventually(() => cache.kind(file) === 'none');
    fs.writeFileSync(file, 'x');
    await eventually(() => cache.kind(file) === 'file');
    fs.renameSync(path.join(dir, 'new'), path.join(dir, 'old'));
    await eventually(() => cache.kind(file) === 'none');
    assert.equal(cache.kind(path.join(dir, 'old', 'deep', 'a.txt')), 'file');
    cache.close();
  }));

test('answers from watched folders are kept until the generation changes, which every event does', () =>
  withDir(async (dir) => {
    const cache = new StatCache();
    const file = path.join(dir, 'a.txt');
    assert.equal(cache.kind(file), 'none');
    assert.equal(cache.isKept(file), true);
    const generation = cache.generation;
    assert.equal(cache.kind(file), 'none');
    assert.equal(cache.generation, generation, 'a lookup alone changes nothing');
    fs.writeFileSync(file, 'x');
    await eventually(() => cache.generation !== generation);
    // The first lookup after the event sees the file: no answer outlives its generation.
    assert.equal(cache.kind(file), 'file');
    assert.equal(cache.kind(`${file}/`), 'none');
    assert.equal(cache.isKept(`${file}/`), false, 'a path ending in / is stat-ed every time');
    cache.close();
    assert.equal(cache.kind(file), 'file');
    assert.equal(cache.isKept(file), false, 'after close every answer is a stat');
  }));

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FileWatcher } from './file-watcher.js';
import { fileSystemTypeOf, isNetworkFileSystemType, parseMounts } from '../../file-system/network-fs.js';
import { compileNamePattern, parseWatchedFiles } from './watched-files.js';

test('watchedFiles: one entry per folder, wildcards in the file name only, web.config skipped', () => {
  const folders = parseWatchedFiles('*.js; iisnode.yml;node_modules\\foo\\lib\\options.json;app_data/*.config.json;lib/*.js;web.config;x*/a.js;;', '/site/app');
  assert.deepEqual(
    folders.map((f) => f.dir),
    ['/site/app', '/site/app/node_modules/foo/lib', '/site/app/app_data', '/site/app/lib'],
  );
  assert.equal(folders[0]!.patterns.length, 2);
  assert.ok(compileNamePattern('*.js').test('server.js'));
  assert.ok(!compileNamePattern('*.js').test('server.json'));
  assert.ok(compileNamePattern('a?c.txt').test('abc.txt'));
  assert.ok(!compileNamePattern('a?c.txt').test('abbc.txt'));
  assert.ok(compileNamePattern('a+b(1).js').test('a+b(1).js'));
});

test('network file systems are recognised from /proc/mounts', () => {
  const mounts = '/dev/sda1 / ext4 rw 0 0\nserver:/export /mnt/nfs nfs4 rw 0 0\n//host/share /mnt/my\\040share cifs rw 0 0\nu@h: /mnt/ssh fuse.sshfs rw 0 0\n';
  assert.deepEqual(parseMounts(mounts)[2], { point: '/mnt/my share', type: 'cifs' });
  assert.equal(fileSystemTypeOf('/mnt/nfs/site/app', mounts), 'nfs4');
  assert.equal(fileSystemTypeOf('/mnt/my share/x', mounts), 'cifs');
  assert.equal(fileSystemTypeOf('/home/site', mounts), 'ext4');
  for (const type of ['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'fuse.sshfs']) assert.ok(isNetworkFileSystemType(type), type);
  for (const type of ['ext4', 'xfs', 'btrfs', 'tmpfs', 'overlay', 'fuse.lxcfs']) assert.ok(!isNetworkFileSystemType(type), type);
});

/** watchOnce starts a watcher on `dir` and resolves with the files of its first onChange. */
function startWatcher(dir: string, options: { watchedFiles: string; forcePolling?: boolean; urgent?: string[] }) {
  const changes: string[][] = [];
  const urgent: string[] = [];
  let notify: (() => void) | undefined;
  const watcher = new FileWatcher({
    scriptDir: dir,
    watchedFiles: options.watchedFiles,
    urgentFiles: options.urgent ?? [],
    pollingIntervalMs: 100,
    forcePolling: options.forcePolling ?? false,
    onChange: (files) => {
      changes.push(files);
      notify?.();
    },
    onUrgent: (file) => urgent.push(file),
  });
  watcher.start();
  // The watcher's timers do not keep a process alive (the server does); this test must.
  const next = (): Promise<string[]> =>
    new Promise((resolve) => {
      const count = changes.length;
      const keepAlive = setInterval(() => {}, 1000);
      notify = () => {
        if (changes.length > count) {
          clearInterval(keepAlive);
          resolve(changes[count]!);
        }
      };
    });
  return { watcher, changes, urgent, next };
}

test('a burst of changes gives one onChange listing every changed file; a missing folder is ignored', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-watch-'));
  try {
    fs.writeFileSync(path.join(dir, 'app.js'), '1');
    const w = startWatcher(dir, { watchedFiles: '*.js;missing/*;iisnode.yml', urgent: [path.join(dir, 'iisnode.yml')] });
    assert.deepEqual(w.watcher.stats().polled, [path.join(dir, 'missing')]);
    const next = w.next();
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(dir, `f${i}.js`), String(i));
    fs.writeFileSync(path.join(dir, 'notwatched.txt'), 'x');
    fs.rmSync(path.join(dir, 'app.js'));
    fs.writeFileSync(path.join(dir, 'iisnode.yml'), 'a: 1');
    const files = await next;
    assert.equal(files.length, 102);
    assert.ok(files.includes(path.join(dir, 'app.js')), 'a removal counts');
    assert.ok(!files.some((f) => f.endsWith('.txt')));
    assert.ok(w.urgent.includes(path.join(dir, 'iisnode.yml')));
    assert.equal(w.changes.length, 1);
    w.watcher.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('forced polling notices a changed file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-watch-'));
  try {
    fs.writeFileSync(path.join(dir, 'app.js'), '1');
    const w = startWatcher(dir, { watchedFiles: '*.js', forcePolling: true });
    assert.deepEqual(w.watcher.stats(), { watched: [], polled: [dir] });
    const next = w.next();
    fs.renameSync(path.join(dir, 'app.js'), path.join(dir, 'server.js'));
    const files = await next;
    assert.deepEqual(files.sort(), [path.join(dir, 'app.js'), path.join(dir, 'server.js')]);
    w.watcher.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

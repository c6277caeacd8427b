/**
 * URL Rewrite's IsFile answers come from a cache kept exact by inotify: with the Kudu rules
 * (a file under public/ is static, anything else goes to node), a file that appears, in an
 * existing folder or a new one, is served by the very next request, and one that goes is not.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startNodehost, type RunningHost } from './helpers/nodehost.js';
import { copySite } from './helpers/recycle.js';
import { fetchStrict } from './helpers/strict-http.js';

let dir: string;
let host: RunningHost;

before(async () => {
  dir = copySite('rewrite-stat');
  host = await startNodehost(dir);
});

after(async () => {
  await host?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function body(target: string): Promise<string> {
  const reply = await fetchStrict(host.url, target);
  assert.equal(reply.status, 200, `${target}: ${reply.text.slice(0, 200)}`);
  return reply.text;
}

test('a file that appears is served by the next request, and one removed goes to node at once', async () => {
  assert.equal(await body('/present.txt'), 'present\n');
  // Asked twice, so the answer "no such file" is cached before the file appears.
  assert.equal(await body('/new.txt'), 'node /new.txt');
  assert.equal(await body('/new.txt'), 'node /new.txt');
  fs.writeFileSync(path.join(dir, 'public', 'new.txt'), 'new\n');
  assert.equal(await body('/new.txt'), 'new\n');
  fs.rmSync(path.join(dir, 'public', 'new.txt'));
  assert.equal(await body('/new.txt'), 'node /new.txt');
  fs.rmSync(path.join(dir, 'public', 'present.txt'));
  assert.equal(await body('/present.txt'), 'node /present.txt');
});

test('a file in a folder that did not exist is served by the next request; removing the folder sends its URLs to node', async () => {
  assert.equal(await body('/fresh/deep/a.txt'), 'node /fresh/deep/a.txt');
  assert.equal(await body('/fresh/deep/a.txt'), 'node /fresh/deep/a.txt');
  fs.mkdirSync(path.join(dir, 'public', 'fresh', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'public', 'fresh', 'deep', 'a.txt'), 'deep\n');
  assert.equal(await body('/fresh/deep/a.txt'), 'deep\n');
  fs.renameSync(path.join(dir, 'public', 'fresh'), path.join(dir, 'public', 'moved'));
  assert.equal(await body('/fresh/deep/a.txt'), 'node /fresh/deep/a.txt');
  assert.equal(await body('/moved/deep/a.txt'), 'deep\n');
});

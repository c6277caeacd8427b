// Zero configuration for people coming from pm2: `nodehost serve app.js -i N` runs a folder
// without a web.config, and `nodehost init` writes the web.config (and nodehost.yml) for one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, SITES, startNodehost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const run = promisify(execFile);
const APP = join(SITES, 'script-app');

function pidOf(text: string): number {
  return Number(/pid (\d+)/.exec(text)?.[1]);
}

describe('nodehost serve app.js', () => {
  test('serves public/ as files and every other URL from the script, on -i 2 processes in turn', async () => {
    const host = await startNodehost(join(APP, 'server.js'), { args: ['-i', '2'] });
    try {
      const file = await fetchStrict(host.url, '/hello.txt');
      assert.equal(file.status, 200);
      assert.equal(file.text, 'a static file\n');
      const first = await fetchStrict(host.url, '/orders/7?view=full');
      const second = await fetchStrict(host.url, '/');
      assert.match(first.text, /^server\.js pid \d+ url \/orders\/7\?view=full$/);
      assert.match(second.text, /^server\.js pid \d+ url \/$/);
      assert.notEqual(pidOf(first.text), pidOf(second.text), 'two worker processes take requests round robin');
      // Files outside public/ are the application's business, not static content.
      const pkg = await fetchStrict(host.url, '/package.json');
      assert.match(pkg.text, /^server\.js pid \d+ url \/package\.json$/);
      assert.equal(existsSync(join(APP, 'web.config')), false, 'nothing is written to the folder');
      // The other commands take the script too, and find the same server.
      const status = await run(process.execPath, [BIN, 'status', join(APP, 'server.js'), '--json']);
      const apps = (JSON.parse(status.stdout) as { apps: { url: string; workers: number }[] }).apps;
      assert.deepEqual(
        apps.map((app) => [app.url, app.workers]),
        [['/server.js', 2]],
      );
    } finally {
      assert.equal(await host.stop(), 0);
    }
  });

  test('a script whose folder has a web.config, and -i with a folder, are usage errors', async () => {
    const kudu = await run(process.execPath, [BIN, 'serve', join(SITES, 'rewrite-kudu', 'server.js'), '--port', '0']).catch((err) => err);
    assert.equal(kudu.code, 2);
    assert.match(kudu.stderr, /rewrite-kudu\/web\.config already says how the folder is served: run 'nodehost serve .*rewrite-kudu'/);
    const folder = await run(process.execPath, [BIN, 'serve', APP, '-i', '2', '--port', '0']).catch((err) => err);
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /--processes needs a script/);
  });
});

describe('nodehost init', () => {
  const work = mkdtempSync(join(tmpdir(), 'nodehost-init-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  test('writes a web.config for package.json main that serves the folder as serve app.js does', async () => {
    const folder = join(work, 'main');
    cpSync(APP, folder, { recursive: true, filter: (source) => !source.includes('iisnode') });
    const init = await run(process.execPath, [BIN, 'init', folder, '-i', '2']);
    assert.match(init.stdout, /entry script: server\.js \(from package\.json main\)/);
    const text = readFileSync(join(folder, 'web.config'), 'utf8');
    assert.match(text, /<!--/);
    assert.match(text, /nodeProcessCountPerApplication="2"/);
    const check = await run(process.execPath, [BIN, 'check', folder]);
    assert.match(check.stdout, /node applications: 1\n {2}\/server\.js/);
    const host = await startNodehost(folder);
    try {
      assert.equal((await fetchStrict(host.url, '/hello.txt')).text, 'a static file\n');
      assert.match((await fetchStrict(host.url, '/api/items')).text, /^server\.js pid \d+ url \/api\/items$/);
    } finally {
      assert.equal(await host.stop(), 0);
    }
    // A second run does not overwrite what may have been edited since.
    const again = await run(process.execPath, [BIN, 'init', folder]).catch((err) => err);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /web\.config already exists; --force replaces it/);
  });

  test('finds the script npm start runs, and --host-config writes a nodehost.yml that serve accepts', async () => {
    const folder = join(work, 'start');
    cpSync(APP, folder, { recursive: true, filter: (source) => !source.includes('iisnode') });
    writeFileSync(join(folder, 'package.json'), '{ "name": "start-app", "scripts": { "start": "node --enable-source-maps server.js" } }\n');
    const init = await run(process.execPath, [BIN, 'init', folder, '--host-config']);
    assert.match(init.stdout, /entry script: server\.js \(from package\.json scripts\.start\)/);
    assert.match(readFileSync(join(folder, 'nodehost.yml'), 'utf8'), /^root: \.$/m);
    const host = await startNodehost('', { args: ['--config', join(folder, 'nodehost.yml')] });
    try {
      assert.match((await fetchStrict(host.url, '/')).text, /^server\.js pid \d+ url \/$/);
    } finally {
      assert.equal(await host.stop(), 0);
    }
  });

  test('a folder with no entry script, or a --script that is not there, is an error that says what to pass', async () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    const result = await run(process.execPath, [BIN, 'init', empty]).catch((err) => err);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no entry script found .*: name it with --script/);
    const missing = await run(process.execPath, [BIN, 'init', empty, '--script', 'main.js']).catch((err) => err);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--script main\.js is not a file in /);
  });
});

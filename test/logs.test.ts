// Worker output in log files: creation on first byte, rollover, quotas, index.html, the
// uncaught exception text, the developer page from the stderr file, loggingEnabled=false.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { waitFor } from './helpers/logs.js';
import { fetchRaw, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';

const LOG_NAME = /^(.+)-(\d+)-(stdout|stderr)-(\d+)\.txt$/;
const temps: string[] = [];
const hosts: RunningHost[] = [];

after(async () => {
  for (const host of hosts) await host.stop();
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

/** copySite copies a test site into a fresh temp folder, with an optional iisnode.yml beside the app. */
function copySite(name: string, yml = '', ymlFolder = 'app'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-logs-'));
  temps.push(dir);
  const site = path.join(dir, 'site');
  fs.cpSync(SITES + name, site, { recursive: true });
  if (yml !== '') fs.writeFileSync(path.join(site, ymlFolder, 'iisnode.yml'), yml);
  return site;
}

async function start(site: string, args: string[] = []): Promise<RunningHost> {
  // The access log goes beside the temp site, never into the repository.
  const host = await startNodehost(site, { args });
  hosts.push(host);
  return host;
}

function logFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => LOG_NAME.test(name))
      .sort();
  } catch {
    return [];
  }
}

function read(dir: string, name: string): string {
  return fs.readFileSync(path.join(dir, name), 'utf8');
}

describe('worker log files', () => {
  test('five requests that log one line each give index.html and one stdout file with five lines', async () => {
    const site = copySite('logs-app');
    const host = await start(site);
    for (let i = 1; i <= 5; i++) assert.equal((await fetchRaw(host.url, `/app/server.js/log?text=Request${i}`)).text, 'ok');
    const dir = path.join(site, 'app', 'iisnode');
    const name = await waitFor(
      dir,
      () => {
        const files = logFiles(dir);
        return files.length === 1 && read(dir, files[0]!).split('\n').length === 6 ? files[0] : undefined;
      },
      'five lines in the stdout file',
    );
    assert.deepEqual(fs.readdirSync(dir).sort(), ['index.html', name].sort());
    const [, hostname, , stream, created] = LOG_NAME.exec(name)!;
    assert.equal(hostname, os.hostname());
    assert.equal(stream, 'stdout');
    assert.ok(Math.abs(Number(created) - Date.now()) < 10 * 60_000, 'created is a time in ms');
    assert.equal(read(dir, name), 'Request1\nRequest2\nRequest3\nRequest4\nRequest5\n');

    // index.html parses and lists the file; it and the file are served to loopback clients.
    const index = await fetchRaw(host.url, '/app/iisnode/');
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type'] as string, /text\/html/);
    const data = JSON.parse(/<script type="application\/json" id="log-data">(.*?)<\/script>/s.exec(index.text)![1]!) as {
      files: { name: string; stream: string; pid: number }[];
    };
    assert.deepEqual(
      data.files.map((file) => file.name),
      [name],
    );
    assert.match(index.text, new RegExp(`<tr class="stdout"><td class="type">stdout</td><td>${os.hostname()}</td>`));
    assert.match(index.text, new RegExp(`href="${name}"`));
    assert.equal(index.text, fs.readFileSync(path.join(dir, 'index.html'), 'utf8'));
    const file = await fetchRaw(host.url, `/app/iisnode/${name}`);
    assert.equal(file.status, 200);
    assert.match(file.headers['content-type'] as string, /^text\/plain/);
    assert.equal(file.text, 'Request1\nRequest2\nRequest3\nRequest4\nRequest5\n');
    const redirect = await fetchRaw(host.url, '/app/iisnode');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/app/iisnode/');

    // A stderr file appears only once the app writes to stderr.
    assert.equal(logFiles(dir).filter((n) => n.includes('-stderr-')).length, 0);
    await fetchRaw(host.url, '/app/server.js/err?text=to-stderr');
    const stderrName = await waitFor(dir, () => logFiles(dir).find((n) => n.includes('-stderr-') && read(dir, n) === 'to-stderr\n'), 'the stderr file');
    await waitFor(dir, () => (read(dir, 'index.html').includes(stderrName) ? true : undefined), 'index.html listing the stderr file');
    assert.match(read(dir, 'index.html'), /<tr class="stderr"><td class="type">stderr<\/td>/);
  });

  test('a 1 KB file limit and two 1 KB lines give two log files', async () => {
    const site = copySite('logs-app', 'maxLogFileSizeInKB: 1\n');
    const host = await start(site);
    // 1024 characters plus the newline, twice.
    await fetchRaw(host.url, '/app/server.js/lines?n=1&len=1024');
    await fetchRaw(host.url, '/app/server.js/lines?n=1&len=1024');
    const dir = path.join(site, 'app', 'iisnode');
    await waitFor(
      dir,
      () => (logFiles(dir).length === 2 && logFiles(dir).every((n) => read(dir, n).length === 1025) ? true : undefined),
      'two files of one line each',
    );
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => !LOG_NAME.test(n)),
      ['index.html'],
    );
  });

  test('quotas hold after 10 000 lines from two processes, and no line is split or lost at the end', async () => {
    const yml = 'nodeProcessCountPerApplication: 2\nmaxLogFileSizeInKB: 4\nmaxTotalLogFileSizeInKB: 40\nmaxLogFiles: 6\n';
    const site = copySite('logs-app', yml);
    const host = await start(site);
    // At least 20 requests of 500 numbered 100-byte lines: round robin over the ready processes
    // spreads them over both (more requests, bounded, if the second process is slow to start).
    // Numbers run on across requests, so each process's very last line is unique.
    const lastLine = new Map<string, number>();
    for (let i = 0; i < 100 && (i < 20 || lastLine.size < 2); i++) {
      const pid = (await fetchRaw(host.url, `/app/server.js/lines?n=500&len=100&from=${i * 500}`)).text;
      lastLine.set(pid, i * 500 + 499);
    }
    assert.equal(lastLine.size, 2, 'both processes wrote');
    const dir = path.join(site, 'app', 'iisnode');
    // Every line written has reached the files: each process's newest file ends with that
    // process's last line. Quota deletion may remove a file while it is being read, which only
    // means "look again".
    await waitFor(
      dir,
      () => {
        try {
          for (const [pid, last] of lastLine) {
            const newest = logFiles(dir)
              .filter((n) => n.includes(`-${pid}-stdout-`))
              .sort((a, b) => Number(LOG_NAME.exec(a)![4]) - Number(LOG_NAME.exec(b)![4]))
              .pop();
            if (newest === undefined || !read(dir, newest).endsWith(`${pid} ${last} ${'x'.repeat(100 - `${pid} ${last} `.length)}\n`)) return undefined;
          }
          return true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw err;
        }
      },
      'the last line of both processes',
    );
    const files = logFiles(dir);
    const total = files.reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0);
    assert.ok(files.length <= 6, `at most maxLogFiles files (${files.length})`);
    assert.ok(total <= 40 * 1024, `at most maxTotalLogFileSizeInKB (${total} bytes)`);
    for (const name of files) {
      const text = read(dir, name);
      assert.ok(fs.statSync(path.join(dir, name)).size <= 4 * 1024, `${name} is within maxLogFileSizeInKB`);
      assert.ok(text.endsWith('\n'), `${name} ends with a whole line`);
      const lines = text.slice(0, -1).split('\n');
      const pid = LOG_NAME.exec(name)![2];
      let previous = -1;
      for (const line of lines) {
        const match = /^(\d+) (\d+) (x+)$/.exec(line);
        assert.ok(match !== null && line.length === 100 && match[1] === pid, `whole line of its own process in ${name}: ${line.slice(0, 40)}`);
        const number = Number(match[2]);
        // Within a file, a process's lines follow each other (a request's numbers start at a multiple of 500).
        assert.ok(previous === -1 || number === previous + 1 || number % 500 === 0, `no line lost inside ${name}`);
        previous = number;
      }
    }
  });

  test("an uncaught exception ends stderr with iisnode's message; a failed start shows the stderr file", async () => {
    const site = copySite('logs-fail');
    const host = await start(site);
    const reply = await fetchRaw(host.url, '/server.js');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /HTTP subStatus: 1002/);
    assert.match(reply.text, /starting the failing app &lt;&amp;&gt;/);
    assert.match(reply.text, /Application has thrown an uncaught exception and is terminated:\nError: cannot start: &quot;quoted&quot; &amp; &lt;tagged&gt;/);
    const dir = path.join(site, 'iisnode');
    const stderr = await waitFor(dir, () => logFiles(dir).find((n) => n.includes('-stderr-') && read(dir, n).includes('is terminated')), 'the stderr file');
    assert.match(read(dir, stderr), /^starting the failing app <&>\nApplication has thrown an uncaught exception and is terminated:\nError: cannot start/);
  });

  test('an app with its own uncaughtException listener keeps its behaviour', async () => {
    const site = copySite('logs-app');
    fs.writeFileSync(
      path.join(site, 'app', 'server.js'),
      "process.on('uncaughtException', (err) => { console.error('handled: ' + err.message); });\n" +
        "require('http').createServer((req, res) => { setImmediate(() => { throw new Error('again'); }); res.end('alive ' + process.pid); }).listen(process.env.PORT);\n",
    );
    const host = await start(site);
    const first = (await fetchRaw(host.url, '/app/server.js')).text;
    const dir = path.join(site, 'app', 'iisnode');
    await waitFor(dir, () => logFiles(dir).find((n) => n.includes('-stderr-') && read(dir, n) === 'handled: again\n'), "the app's own handler output");
    assert.equal((await fetchRaw(host.url, '/app/server.js')).text, first, 'the same process still serves');
  });

  test('loggingEnabled=false discards the output and makes no folder', async () => {
    const site = copySite('logs-app', 'loggingEnabled: false\n');
    const host = await start(site);
    await fetchRaw(host.url, '/app/server.js/log?text=discarded');
    await fetchRaw(host.url, '/app/server.js/err?text=discarded');
    assert.equal((await fetchRaw(host.url, '/app/server.js/pid')).status, 200);
    assert.equal(fs.existsSync(path.join(site, 'app', 'iisnode')), false);
  });
});

// The log folder over HTTP (loopback only: a real remote client in a network namespace gets
// 403), the live tail, the access log, memory under a 100 MB burst, and `nodehost logs`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { request } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { waitFor } from './helpers/logs.js';
import { inRemoteNamespace } from './helpers/remote-client.js';
import { BIN, fetchRaw, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';

const run = promisify(execFile);
const LOG_NAME = /^(.+)-(\d+)-(stdout|stderr)-(\d+)\.txt$/;
/** WAIT_MS bounds every waitFor in this file. */
const WAIT_MS = 30_000;

let temp: string;
let site: string;
let dir: string;
let host: RunningHost;

before(async () => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-logs-http-'));
  site = path.join(temp, 'site');
  fs.cpSync(SITES + 'logs-app', site, { recursive: true });
  dir = path.join(site, 'app', 'iisnode');
  // Bound to every address so that the client in the network namespace reaches it through the veth pair.
  host = await startNodehost(site, { args: ['--host', '0.0.0.0'] });
});

after(async () => {
  await host?.stop();
  fs.rmSync(temp, { recursive: true, force: true });
});

function stdoutFiles(): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => LOG_NAME.exec(name)?.[3] === 'stdout')
      .sort((a, b) => Number(LOG_NAME.exec(a)![4]) - Number(LOG_NAME.exec(b)![4]));
  } catch {
    return [];
  }
}

/** logLine makes the app write one stdout line and waits until it is in a file; returns that file's name. */
async function logLine(text: string): Promise<string> {
  assert.equal((await fetchRaw(host.url, `/app/server.js/log?text=${encodeURIComponent(text)}`)).text, 'ok');
  return waitFor(dir, () => stdoutFiles().find((name) => readIfPresent(path.join(dir, name)).includes(text + '\n')), `"${text}" in a log file`, WAIT_MS);
}

/** readIfPresent reads a log file, or '' when quota clean-up deleted it after it was listed. */
function readIfPresent(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

describe('log folder over HTTP', () => {
  test('the live tail streams a line written after connecting', async () => {
    const file = await logLine('before-the-tail');
    const url = new URL(host.url);
    const received = await new Promise<string>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: `/app/iisnode/tail?file=${encodeURIComponent(file)}` }, (res) => {
        assert.equal(res.statusCode, 200);
        assert.match(res.headers['content-type'] as string, /^text\/plain/);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('after-connecting\n')) {
            req.destroy();
            resolve(text);
          }
        });
        res.on('error', () => undefined);
        // Connected (the head arrived): now the app writes the line.
        void fetchRaw(host.url, '/app/server.js/log?text=after-connecting').catch(reject);
      });
      req.on('error', (err) => (err.message.includes('aborted') ? undefined : reject(err)));
      req.end();
    });
    assert.equal(received, 'after-connecting\n', 'only lines written after connecting');
    const missing = await fetchRaw(host.url, '/app/iisnode/tail?file=nope-1-stdout-1.txt');
    assert.equal(missing.status, 404);
    assert.equal((await fetchRaw(host.url, '/app/iisnode/tail?file=../web.config')).status, 400);
  });

  test('the live index sends the file list as server-sent events', async () => {
    await logLine('for-the-events');
    const url = new URL(host.url);
    const event = await new Promise<string>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/app/iisnode/events' }, (res) => {
        assert.match(res.headers['content-type'] as string, /^text\/event-stream/);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          const match = /event: files\ndata: (.*)\n\n/.exec(text);
          if (match) {
            req.destroy();
            resolve(match[1]!);
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', (err) => (err.message.includes('aborted') ? undefined : reject(err)));
      req.end();
    });
    const data = JSON.parse(event) as { files: { name: string; size: number }[] };
    assert.deepEqual(
      data.files.map((file) => file.name).sort(),
      fs
        .readdirSync(dir)
        .filter((name) => LOG_NAME.test(name))
        .sort(),
    );
  });

  test('a remote client (network namespace over a veth pair) gets 403 for the logs, and the app itself', async () => {
    const file = await logLine('seen-only-locally');
    await inRemoteNamespace('logs', async ({ hostIp, node }) => {
      const client =
        "const http=require('http');const get=(p)=>new Promise((ok)=>{http.get({host:process.argv[1],port:process.argv[2],path:p,agent:false},(r)=>{let b='';r.on('data',(c)=>b+=c);r.on('end',()=>ok(r.statusCode+' '+b.length));}).on('error',(e)=>ok('ERR '+e.message));});" +
        '(async()=>{const out=[];for(const p of process.argv.slice(3))out.push(await get(p));console.log(JSON.stringify(out));})();';
      const paths = [
        '/app/server.js/pid',
        '/app/iisnode/',
        '/app/iisnode/index.html',
        `/app/iisnode/${file}`,
        `/app/iisnode/tail?file=${file}`,
        '/app/iisnode/events',
        '/app/iisnode',
      ];
      const stdout = await node(['-e', client, hostIp, String(host.port), ...paths]);
      const statuses = (JSON.parse(stdout) as string[]).map((reply) => reply.split(' ')[0]);
      assert.deepEqual(statuses, ['200', '403', '403', '403', '403', '403', '403'], `remote replies: ${stdout}`);
      // The same URLs from loopback are served.
      assert.equal((await fetchRaw(host.url, '/app/iisnode/')).status, 200);
      assert.equal((await fetchRaw(host.url, `/app/iisnode/${file}`)).status, 200);
    });
  });

  test('access log lines parse and hold the status and the bytes the client received', async () => {
    const url = new URL(host.url);
    // Raw requests on fresh connections: the client counts every byte of the response.
    const rawGet = (target: string) =>
      new Promise<{ status: number; bytes: number }>((resolve, reject) => {
        const socket = net.connect(Number(url.port), '127.0.0.1');
        const parts: Buffer[] = [];
        socket.on('data', (chunk) => parts.push(chunk));
        socket.on('error', reject);
        socket.on('end', () => {
          const all = Buffer.concat(parts);
          resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(all.toString('latin1'))![1]), bytes: all.length });
        });
        socket.write(`GET ${target} HTTP/1.1\r\nHost: test\r\nUser-Agent: log test/1.0\r\nReferer: http://ref.example/a b\r\nConnection: close\r\n\r\n`);
      });
    const ok = await rawGet('/app/server.js/pid?probe=access-ok');
    const missing = await rawGet('/no-such-file.txt?probe=access-404');
    assert.equal(ok.status, 200);
    assert.equal(missing.status, 404);
    const logDir = path.join(temp, 'logs', 'site');
    const lines = await waitFor(
      logDir,
      () => {
        // The folder is made with the first line, once the response has closed.
        if (!fs.existsSync(logDir)) return undefined;
        const text = fs
          .readdirSync(logDir, { withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => fs.readFileSync(path.join(logDir, e.name), 'utf8'))
          .join('');
        const found = text.split('\n').filter((line) => line.includes('probe=access-'));
        return found.length === 2 ? { text, found } : undefined;
      },
      'two access log lines',
      WAIT_MS,
    );
    const fields = /^#Fields: (.*)$/m.exec(lines.text)![1]!.split(' ');
    assert.deepEqual(fields, [
      'date',
      'time',
      's-ip',
      'cs-method',
      'cs-uri-stem',
      'cs-uri-query',
      's-port',
      'cs-username',
      'c-ip',
      'cs(User-Agent)',
      'cs(Referer)',
      'sc-status',
      'sc-substatus',
      'sc-bytes',
      'time-taken',
    ]);
    assert.match(lines.text, /^#Software: nodehost/m);
    assert.match(lines.text, /^#Version: 1\.0$/m);
    const parse = (line: string) => Object.fromEntries(line.split(' ').map((value, i) => [fields[i]!, value]));
    const [first, second] = lines.found.map(parse);
    assert.equal(first!['cs-uri-stem'], '/app/server.js/pid');
    assert.equal(first!['cs-uri-query'], 'probe=access-ok');
    assert.equal(first!['cs-method'], 'GET');
    assert.equal(first!['sc-status'], '200');
    assert.equal(first!['sc-bytes'], String(ok.bytes));
    assert.equal(first!['c-ip'], '127.0.0.1');
    assert.equal(first!['s-port'], String(host.port));
    assert.equal(first!['cs(User-Agent)'], 'log+test/1.0');
    assert.equal(first!['cs(Referer)'], 'http://ref.example/a+b');
    assert.equal(first!['cs-username'], '-');
    assert.match(first!.date!, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(first!.time!, /^\d{2}:\d{2}:\d{2}$/);
    assert.match(first!['time-taken']!, /^\d+$/);
    assert.equal(second!['sc-status'], '404');
    assert.equal(second!['sc-bytes'], String(missing.bytes));
  });

  test('a 100 MB burst of output is written without growing the host memory with it', async () => {
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${host.child.pid}/status`, 'utf8'))![1]) * 1024;
    await fetchRaw(host.url, '/app/server.js/pid');
    const baseline = rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss());
    }, 20);
    try {
      const reply = await fetchRaw(host.url, '/app/server.js/burst?mb=100');
      assert.equal(reply.text, 'done');
      // The last 1 KiB line of the burst reaches a file (quotas keep only the newest ones).
      await waitFor(
        dir,
        () => {
          const newest = stdoutFiles().pop();
          return newest !== undefined && readIfPresent(path.join(dir, newest)).endsWith('y'.repeat(1023) + '\n') ? true : undefined;
        },
        'the end of the burst on disk',
        WAIT_MS,
      );
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rss());
    const growth = peak - baseline;
    console.log(
      `# 100 MB burst: host RSS baseline ${(baseline / 1048576).toFixed(1)} MiB, peak ${(peak / 1048576).toFixed(1)} MiB, growth ${(growth / 1048576).toFixed(1)} MiB`,
    );
    // Generous: buffering the burst would need 100 MiB; the writer holds at most ~1 MiB per stream.
    assert.ok(growth < 64 * 1048576, `host RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);
    const files = fs.readdirSync(dir).filter((name) => LOG_NAME.test(name));
    assert.ok(files.length <= 20, 'default maxLogFiles holds');
  });

  test('nodehost logs prints the output, and --follow keeps printing', async () => {
    await logLine('printed-by-the-cli');
    const { stdout } = await run(process.execPath, [BIN, 'logs', site, '--app', 'app/server.js'], { maxBuffer: 64 * 1024 * 1024 });
    assert.match(stdout, /printed-by-the-cli\n/);
    const follower = spawn(process.execPath, [BIN, 'logs', site, '--app', 'app', '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      follower.stdout.setEncoding('utf8');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`follow did not print the new line:\n${out.slice(-500)}`)), 30_000);
        let isAsked = false;
        follower.stdout.on('data', (chunk: string) => {
          out += chunk;
          if (!isAsked && out.includes('printed-by-the-cli\n')) {
            isAsked = true;
            void fetchRaw(host.url, '/app/server.js/log?text=followed-line').catch(reject);
          }
          if (out.includes('followed-line\n')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
    } finally {
      follower.kill('SIGTERM');
    }
  });
});

describe('log tails and shutdown', () => {
  test('a tail whose client left unnoticed (a FIN, no write to fail) ends when the host stops, which then exits', async () => {
    // A long gracefulShutdownTimeout: a tail that held the shutdown open would outlast the test's timeout.
    const own = path.join(temp, 'tail-site');
    fs.cpSync(SITES + 'logs-app', own, { recursive: true });
    fs.writeFileSync(
      path.join(own, 'web.config'),
      fs.readFileSync(path.join(own, 'web.config'), 'utf8').replace('</handlers>', '</handlers><iisnode gracefulShutdownTimeout="600000" />'),
    );
    const tailHost = await startNodehost(own);
    try {
      assert.equal((await fetchRaw(tailHost.url, '/app/server.js/log?text=tail-me')).text, 'ok');
      const ownDir = path.join(own, 'app', 'iisnode');
      const file = await waitFor(ownDir, () => fs.readdirSync(ownDir).find((name) => LOG_NAME.exec(name)?.[3] === 'stdout'), 'a stdout log file', WAIT_MS);
      const socket = net.connect(tailHost.port, '127.0.0.1');
      await once(socket, 'connect');
      let received = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      socket.write(`GET /app/iisnode/tail?file=${encodeURIComponent(file)}&from=start HTTP/1.1\r\nHost: x\r\n\r\n`);
      await waitFor(ownDir, () => (received.includes('tail-me\n') ? true : undefined), 'the tail to stream the line', WAIT_MS);
      // The client goes away (its FIN reaches the host, which cannot tell it from a half-close).
      socket.destroy();
      assert.equal(await tailHost.stop(), 0);
      assert.match(received, /^HTTP\/1\.1 200 /);
    } finally {
      await tailHost.stop();
    }
  });
});

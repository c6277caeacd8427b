// The admin API (docs/admin.md): JSON on the control socket and on the TCP admin listener,
// the sites of a long-form nodehost.yml with their bindings, nodehost status (table and --json)
// and recycle as its clients, /metrics, /ready and /live, preload="true", and the --help of
// every command.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { program } from '../src/cli/main.js';
import { controlPaths } from '../src/control/paths.js';
import { BIN, fetchRaw, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { parsePrometheus, sum } from './helpers/prometheus.js';

const run = promisify(execFile);
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const APP = `
const fs = require('node:fs');
const http = require('node:http');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.endsWith('/crash')) process.exit(3);
  if (url.pathname.endsWith('/hold')) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write(process.pid + '\\n');
    const timer = setInterval(() => {
      if (!fs.existsSync(url.searchParams.get('release'))) return;
      clearInterval(timer);
      res.end('released');
    }, 20);
    return;
  }
  res.end(String(process.pid));
}).listen(process.env.PORT);
`;

/** makeSite writes a site with app.js (its iisnode attributes from `iisnode`) and returns its folder. */
function makeSite(iisnode = '', files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-admin-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs", "private": true }\n');
  fs.writeFileSync(path.join(dir, 'app.js'), APP);
  fs.writeFileSync(
    path.join(dir, 'web.config'),
    `<configuration><system.webServer><handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode"/></handlers><iisnode loggingEnabled="false" ${iisnode}/></system.webServer></configuration>`,
  );
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the API answers
  json: any;
}

/** call sends one request to the admin API on the site's control socket, or to a TCP base URL. */
function call(target: { socketPath: string } | { base: string }, method: string, urlPath: string, headers: Record<string, string> = {}): Promise<Answer> {
  const where = 'socketPath' in target ? { socketPath: target.socketPath } : { host: new URL(target.base).hostname, port: Number(new URL(target.base).port) };
  return new Promise((resolve, reject) => {
    const req = request({ ...where, method, path: urlPath, headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const isJson = (res.headers['content-type'] ?? '').startsWith('application/json');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: isJson ? JSON.parse(text) : undefined });
      });
    });
    req.end();
  });
}

function socketOf(site: string): { socketPath: string } {
  return { socketPath: controlPaths(site).socketPath };
}

/** until calls `probe` until it returns a value (each call waits for the answers it asks for); fails after 20 s. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function serve(site: string, args: string[] = [], waitFor = /control socket /): Promise<RunningHost> {
  return startNodehost(site, { args, waitFor });
}

describe('admin API on the control socket', () => {
  test('server, apps after start, crash and recycle; status as a table and --json; recycle through API and CLI; errors as JSON', async () => {
    const site = makeSite();
    const host = await serve(site);
    const socket = socketOf(site);
    try {
      const server = await call(socket, 'GET', '/v1/server');
      assert.equal(server.status, 200);
      assert.equal(server.json.pid, host.child.pid);
      assert.match(server.json.version, /^\d+\.\d+\.\d+/);
      assert.equal(server.json.hostProcesses.length, 1);
      assert.deepEqual((await call(socket, 'GET', '/v1/apps')).json.apps, [], 'no application before its first request');
      const sites = await call(socket, 'GET', '/v1/sites');
      assert.equal(sites.json.sites[0].root, fs.realpathSync(site));

      const pid = Number((await fetchRaw(host.url, '/app.js')).text);
      let apps = (await call(socket, 'GET', '/v1/apps')).json.apps;
      assert.equal(apps.length, 1);
      assert.equal(apps[0].url, '/app.js');
      assert.equal(apps[0].generation, 1);
      assert.equal(apps[0].processes[0].pid, pid);
      assert.equal(apps[0].processes[0].state, 'ready');
      assert.equal(apps[0].processes[0].total, 1);
      assert.ok(apps[0].processes[0].rssBytes > 0, 'RSS is read from /proc');
      assert.equal(typeof apps[0].processes[0].cpuSeconds, 'number');

      // A crash: the worker exits with 3, is replaced, and the restart is counted with its reason.
      await fetchRaw(host.url, '/app.js/crash').catch(() => undefined);
      apps = await until('the replacement worker', async () => {
        const list = (await call(socket, 'GET', '/v1/apps')).json.apps;
        return list[0].restarts >= 1 && list[0].processes[0].state === 'ready' ? list : undefined;
      });
      assert.equal(apps[0].restartsByReason.exit, 1);
      assert.equal(apps[0].lastExitCode, 3);
      assert.notEqual(apps[0].processes[0].pid, pid);

      const table = await run(process.execPath, [BIN, 'status', site]);
      const lines = table.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^nodehost \S+, pid \d+/);
      assert.match(lines[1]!, /^SITE +APP +GEN +PID +STATE +UPTIME +RSS +CPU +REQS +RST$/);
      assert.match(lines[2]!, new RegExp(`/app\\.js +1 +${apps[0].processes[0].pid} +ready .* 1/3$`));
      assert.equal(lines.at(-1), '/app.js restarts: exit 1');
      for (const line of lines) assert.ok(line.length <= 80, `fits 80 columns: ${JSON.stringify(line)}`);
      assert.doesNotMatch(table.stdout, /\u001b\[/, 'no colours when stdout is not a TTY');
      const json = JSON.parse((await run(process.execPath, [BIN, 'status', site, '--json'])).stdout);
      assert.equal(json.pid, host.child.pid);
      assert.equal(json.apps[0].restarts, 1);
      assert.equal(json.apps[0].lastExitCode, 3);

      const recycled = await call(socket, 'POST', '/v1/apps/recycle?app=/app.js');
      assert.equal(recycled.status, 200);
      assert.deepEqual(
        recycled.json.recycled.map((r: { generation: number; isServing: boolean }) => [r.generation, r.isServing]),
        [[2, true]],
      );
      const cli = await run(process.execPath, [BIN, 'recycle', site, '--app', '/app.js']);
      assert.match(cli.stdout, /generation 3 is serving/);
      assert.equal((await call(socket, 'GET', '/v1/apps')).json.apps[0].generation, 3);

      const noApp = await call(socket, 'POST', '/v1/apps/recycle?app=/nope.js');
      assert.equal(noApp.status, 404);
      assert.equal(noApp.json.error.code, 'NH_ERR_ADMIN_NO_APP');
      const wrongMethod = await call(socket, 'GET', '/v1/apps/recycle');
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.allow, 'POST');
      assert.equal(wrongMethod.json.error.code, 'NH_ERR_ADMIN_METHOD');
      const unknown = await call(socket, 'GET', '/v2/whatever');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.error.code, 'NH_ERR_ADMIN_NOT_FOUND');

      // Stop forgets the application (its workers are gone); start brings it back without a request.
      const workerPid = (await call(socket, 'GET', '/v1/apps')).json.apps[0].processes[0].pid;
      const stopped = await call(socket, 'POST', '/v1/apps/stop?app=/app.js');
      assert.deepEqual(stopped.json.stopped, [path.join(fs.realpathSync(site), 'app.js')]);
      assert.throws(() => process.kill(workerPid, 0), /ESRCH/);
      assert.deepEqual((await call(socket, 'GET', '/v1/apps')).json.apps, []);
      assert.equal((await call(socket, 'POST', '/v1/apps/start?app=/app.js')).status, 200);
      assert.equal((await call(socket, 'GET', '/v1/apps')).json.apps.length, 1);
      assert.equal((await call(socket, 'POST', '/v1/apps/start')).json.error.code, 'NH_ERR_ADMIN_BAD_REQUEST');

      // The same through the CLI.
      const cliStop = await run(process.execPath, [BIN, 'stop', site, '--app', '/app.js']);
      assert.equal(cliStop.stdout, `stopped ${path.join(fs.realpathSync(site), 'app.js')}\n`);
      assert.deepEqual((await call(socket, 'GET', '/v1/apps')).json.apps, []);
      const cliStart = await run(process.execPath, [BIN, 'start', site, '--app', '/app.js']);
      assert.match(cliStart.stdout, /^started .*app\.js\n$/);
      await until('the started worker', async () => ((await call(socket, 'GET', '/v1/apps')).json.apps[0]?.processes[0]?.state === 'ready' ? true : undefined));
      const noSuch = await run(process.execPath, [BIN, 'stop', site, '--app', '/nope.js']).catch((err) => err);
      assert.equal(noSuch.code, 1);
      assert.match(noSuch.stderr, /NH_ERR_ADMIN_NO_APP/);

      // The effective configuration, each value with where it comes from (what nodehost check prints).
      const config = (await call(socket, 'GET', '/v1/apps/config?app=/app.js')).json;
      assert.equal(config.url, '/app.js');
      const logging = config.settings.find((s: { name: string }) => s.name === 'loggingEnabled');
      assert.deepEqual(logging, { name: 'loggingEnabled', value: false, from: `${path.join(fs.realpathSync(site), 'web.config')}:1` });
      assert.equal(config.settings.find((s: { name: string }) => s.name === 'maxHeapMB').from, 'default');
      assert.equal((await call(socket, 'GET', '/v1/apps/config?app=/none.js')).json.error.code, 'NH_ERR_ADMIN_NO_APP');

      assert.deepEqual((await call(socket, 'POST', '/v1/reload')).json, { reloaded: true });
      assert.deepEqual((await call(socket, 'GET', '/live')).json, { live: true });
      assert.deepEqual((await call(socket, 'GET', '/ready')).json, { ready: true });
      assert.equal(await host.stop(), 0);
    } finally {
      await host.stop();
    }
  });

  test('GET /v1/sites lists each site of a long-form nodehost.yml with its bindings as configured and the address each listens on', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-admin-sites-'));
    dirs.push(dir);
    for (const name of ['blog', 'shop']) {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, 'who.txt'), `${name}\n`);
    }
    const shared = await freePort();
    const own = await freePort();
    const yml = path.join(dir, 'nodehost.yml');
    fs.writeFileSync(
      yml,
      [
        'sites:',
        '  - name: blog',
        '    root: blog',
        `    bindings: ["http://blog.test:${shared}", "http://*:${own}"]`,
        '  - name: shop',
        '    root: shop',
        `    bindings: ["http://shop.test:${shared}"]`,
        '',
      ].join('\n'),
    );
    const host = await startNodehost('', { port: false, args: ['--config', yml], waitFor: /control socket / });
    try {
      // The control socket belongs to the first site's root.
      const sites = (await call(socketOf(path.join(dir, 'blog')), 'GET', '/v1/sites')).json.sites;
      assert.deepEqual(
        sites.map((site: { name: string; root: string; bindings: unknown }) => [site.name, site.root, site.bindings]),
        [
          [
            'blog',
            fs.realpathSync(path.join(dir, 'blog')),
            [
              { binding: `http://blog.test:${shared}`, listening: `http://127.0.0.1:${shared}/` },
              { binding: `http://*:${own}`, listening: `http://127.0.0.1:${own}/` },
            ],
          ],
          ['shop', fs.realpathSync(path.join(dir, 'shop')), [{ binding: `http://shop.test:${shared}`, listening: `http://127.0.0.1:${shared}/` }]],
        ],
      );
      // Each listening address serves its binding's site.
      for (const site of sites as { name: string; bindings: { binding: string; listening: string }[] }[]) {
        for (const { binding, listening } of site.bindings) {
          const name = /^http:\/\/([^:]+):/.exec(binding)![1]!.replace('*', 'any.test');
          const reply = await fetchRaw(listening, '/who.txt', { headers: { Host: `${name}:${new URL(listening).port}` } });
          assert.equal(reply.text, `${site.name}\n`, `${binding} answers for ${site.name}`);
        }
      }
    } finally {
      await host.stop();
    }
  });

  test('/metrics is valid Prometheus text and its counters move with traffic', async () => {
    const site = makeSite();
    const host = await serve(site);
    const socket = socketOf(site);
    try {
      await fetchRaw(host.url, '/app.js');
      const before = parsePrometheus((await call(socket, 'GET', '/metrics')).text);
      assert.equal(before.types.get('nodehost_requests_total'), 'counter');
      assert.equal(before.types.get('nodehost_request_duration_seconds'), 'histogram');
      for (let i = 0; i < 5; i++) await fetchRaw(host.url, '/app.js');
      await fetchRaw(host.url, '/missing.txt');
      const scrape = await call(socket, 'GET', '/metrics');
      assert.match(scrape.headers['content-type']!, /^text\/plain; version=0\.0\.4/);
      const now = parsePrometheus(scrape.text);
      const ok = { app: '/app.js', status_class: '2xx' };
      assert.equal(sum(now.samples, 'nodehost_requests_total', ok) - sum(before.samples, 'nodehost_requests_total', ok), 5);
      assert.equal(sum(now.samples, 'nodehost_requests_total', { app: '', status_class: '4xx' }), 1, 'a static 404 counts without an application');
      assert.equal(sum(now.samples, 'nodehost_request_duration_seconds_count', { app: '/app.js' }), 6);
      assert.equal(sum(now.samples, 'nodehost_request_duration_seconds_bucket', { app: '/app.js', le: '+Inf' }), 6);
      assert.equal(sum(now.samples, 'nodehost_worker_processes', { app: '/app.js', state: 'ready' }), 1);
      assert.ok(sum(now.samples, 'nodehost_worker_resident_memory_bytes', { app: '/app.js' }) > 0);
      assert.ok(now.samples.some((s) => s.name === 'nodehost_host_event_loop_delay_seconds'));
      // --watch is bounded: two refreshes, then exit 0 (no screen clearing when stdout is not a TTY).
      const watched = await run(process.execPath, [BIN, 'status', site, '--watch', '--count', '2', '--interval', '10']);
      assert.equal(watched.stdout.match(/^SITE +APP/gm)?.length, 2);
      assert.doesNotMatch(watched.stdout, /\u001b\[/);
      assert.equal((await call(socket, 'POST', '/v1/apps/recycle')).status, 200);
      const recycled = parsePrometheus((await call(socket, 'GET', '/metrics')).text);
      assert.equal(sum(recycled.samples, 'nodehost_app_recycles_total', { app: '/app.js' }), 1);
      assert.equal(sum(recycled.samples, 'nodehost_app_generation', { app: '/app.js' }), 2);
    } finally {
      await host.stop();
    }
  });

  test('with hostProcesses 2 /metrics merges both front doors', async () => {
    const site = makeSite('nodeProcessCountPerApplication="2"');
    const yml = path.join(site, 'nodehost.yml');
    fs.writeFileSync(yml, `root: .\nhostProcesses: 2\n`);
    const host = await serve('', ['--config', yml]);
    const socket = socketOf(site);
    try {
      const pids = new Set<string>();
      // Fresh connections are spread by the kernel; both front doors start their share once asked.
      for (let i = 0; i < 40 && pids.size < 2; i++) pids.add((await fetchRaw(host.url, '/app.js')).text);
      const served = Number((await call(socket, 'GET', '/v1/apps')).json.apps.reduce((total: number, a: { total: number }) => total + a.total, 0));
      const { samples } = parsePrometheus((await call(socket, 'GET', '/metrics')).text);
      assert.equal(sum(samples, 'nodehost_requests_total', { app: '/app.js', status_class: '2xx' }), served, 'every front door counted');
      const loops = new Set(samples.filter((s) => s.name === 'nodehost_host_event_loop_delay_seconds').map((s) => s.labels.host_process));
      assert.deepEqual(loops, new Set(['0', '1']), 'each host process reports its event loop');
      if (pids.size === 2) assert.equal(sum(samples, 'nodehost_worker_processes', { app: '/app.js', state: 'ready' }), 2);
    } finally {
      await host.stop();
    }
  });

  test('/ready answers 503 while SIGTERM drains an in-flight request, then the host exits 0', async () => {
    const site = makeSite();
    const host = await serve(site);
    const socket = socketOf(site);
    const release = path.join(site, 'release');
    try {
      assert.equal((await call(socket, 'GET', '/ready')).status, 200);
      const held = request({ host: '127.0.0.1', port: host.port, path: `/app.js/hold?release=${encodeURIComponent(release)}`, agent: false });
      held.end();
      const [res] = (await once(held, 'response')) as [IncomingMessage];
      await once(res, 'data');
      const exit = host.stop('SIGTERM');
      await until('the shutting down line', async () => (/"msg":"shutting down"/.test(host.stderr()) ? true : undefined));
      const ready = await call(socket, 'GET', '/ready');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.json, { ready: false, reason: 'shutting down' });
      assert.equal((await call(socket, 'GET', '/live')).status, 200);
      fs.writeFileSync(release, '');
      let body = '';
      for await (const chunk of res) body += chunk;
      assert.match(body, /released$/);
      assert.equal(await exit, 0);
    } finally {
      await host.stop();
    }
  });

  test('preload="true" starts the workers before the first request; /ready waits for them', async () => {
    const site = makeSite('preload="true"');
    const host = await serve(site);
    const socket = socketOf(site);
    try {
      const apps = (await call(socket, 'GET', '/v1/apps')).json.apps;
      assert.equal(apps.length, 1, 'the application runs before any request');
      assert.equal(apps[0].total, 0);
      const pid = apps[0].processes[0].pid;
      assert.ok(pid > 0);
      await until('/ready', async () => ((await call(socket, 'GET', '/ready')).status === 200 ? true : undefined));
      assert.equal(Number((await fetchRaw(host.url, '/app.js')).text), pid, 'the first request goes to the preloaded worker');
    } finally {
      await host.stop();
    }
  });
});

/** leafCommands lists the commands that run something (those without subcommands of their own), each as the words that name it. */
function leafCommands(command: Command, prefix: readonly string[] = []): string[][] {
  return command.commands.flatMap((sub) => (sub.commands.length === 0 ? [[...prefix, sub.name()]] : leafCommands(sub, [...prefix, sub.name()])));
}

test('every command has --help with an example and its exit codes', async () => {
  // Listed from the program itself, so a command added without them fails here.
  const commands = leafCommands(program);
  for (const known of ['serve', 'status', 'config set', 'rewrite test', 'user add', 'service install', 'init'])
    assert.ok(
      commands.some((words) => words.join(' ') === known),
      `${known} is listed`,
    );
  const helps = await Promise.all(commands.map((words) => run(process.execPath, [BIN, ...words, '--help']).then(({ stdout }) => [words.join(' '), stdout])));
  for (const [command, help] of helps) {
    assert.match(help!, /Examples?:\n {2}(sudo )?nodehost /, `${command} has an example`);
    assert.match(help!, /Exit codes: 0 .*, 1 .*, 2 usage error/, `${command} has its exit codes`);
  }
  // init exits 2 when it finds no entry script (a usage error: --script names it), and says so.
  assert.match(helps.find(([command]) => command === 'init')![1]!, /2 usage error, no entry script found included/);
  const usage = await run(process.execPath, [BIN, 'status', '--count', 'x']).catch((err) => err);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /NH_ERR_CLI_USAGE/);
});

describe('admin listener (TCP)', () => {
  test('requires its token; /ready and /live answer without one', async () => {
    const site = makeSite();
    const yml = path.join(site, 'nodehost.yml');
    fs.writeFileSync(yml, `root: .\nadmin:\n  listen: 127.0.0.1:0\n  token: s3cret\n`);
    const host = await serve('', ['--config', yml], /admin listener /);
    try {
      const base = /admin listener (http:\/\/\S+)/.exec(host.stdout())![1]!;
      const denied = await call({ base }, 'GET', '/v1/server');
      assert.equal(denied.status, 401);
      assert.equal(denied.json.error.code, 'NH_ERR_ADMIN_UNAUTHORIZED');
      assert.equal(denied.headers['www-authenticate'], 'Bearer');
      assert.equal((await call({ base }, 'GET', '/v1/server', { Authorization: 'Bearer wrong' })).status, 401);
      const allowed = await call({ base }, 'GET', '/v1/server', { Authorization: 'Bearer s3cret' });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.json.pid, host.child.pid);
      const metrics = await call({ base }, 'GET', '/metrics', { Authorization: 'Bearer s3cret' });
      parsePrometheus(metrics.text);
      assert.equal((await call({ base }, 'GET', '/ready')).status, 200);
      assert.equal((await call({ base }, 'GET', '/live')).status, 200);
      // The dashboard's files carry no data: served without the token, under a strict CSP.
      const dashboard = await call({ base }, 'GET', '/');
      assert.equal(dashboard.status, 200);
      assert.match(dashboard.headers['content-type']!, /^text\/html/);
      assert.match(dashboard.headers['content-security-policy']!, /default-src 'none'; script-src 'self'/);
      assert.match(dashboard.text, /<script src="dashboard\.js"/);
      assert.equal((await call({ base }, 'GET', '/dashboard.js')).status, 200);
      const events = await call({ base }, 'GET', '/v1/events', { Authorization: 'Bearer s3cret' });
      assert.ok(events.json.events.some((e: { msg: string; level: string }) => e.msg === 'host started' && e.level === 'info'));
    } finally {
      await host.stop();
    }
  });

  test('without a token: a POST needs X-Nodehost-Admin (no cross-site requests), and the Host must be loopback (no DNS rebinding)', async () => {
    const site = makeSite();
    const yml = path.join(site, 'nodehost.yml');
    fs.writeFileSync(yml, `root: .\nadmin:\n  listen: 127.0.0.1:0\n`);
    const host = await serve('', ['--config', yml], /admin listener /);
    try {
      const base = /admin listener (http:\/\/\S+)/.exec(host.stdout())![1]!;
      await fetchRaw(host.url, '/app.js');
      const forged = await call({ base }, 'POST', '/v1/apps/recycle');
      assert.equal(forged.status, 403);
      assert.equal(forged.json.error.code, 'NH_ERR_ADMIN_CROSS_SITE');
      assert.equal((await call({ base }, 'GET', '/v1/apps')).json.apps[0].generation, 1, 'nothing was recycled');
      assert.equal((await call({ base }, 'POST', '/v1/apps/recycle', { 'X-Nodehost-Admin': '1' })).status, 200);
      const rebound = await call({ base }, 'GET', '/v1/apps', { Host: `attacker.example:${new URL(base).port}` });
      assert.equal(rebound.status, 403);
      assert.equal(rebound.json.error.code, 'NH_ERR_ADMIN_HOST');
      assert.equal((await call({ base }, 'GET', '/v1/server', { Host: `localhost:${new URL(base).port}` })).status, 200);
    } finally {
      await host.stop();
    }
  });

  test('off loopback without a token it refuses to start (exit 1, NH_ERR_ADMIN_LISTEN); a bad admin key names file:line', async () => {
    const site = makeSite();
    const yml = path.join(site, 'nodehost.yml');
    fs.writeFileSync(yml, `root: .\nport: 0\nadmin:\n  listen: 0.0.0.0:0\n`);
    const refused = await run(process.execPath, [BIN, 'serve', '--config', yml]).catch((err) => err);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /NH_ERR_ADMIN_LISTEN/);
    assert.match(refused.stderr, /admin\.token/);
    assert.doesNotMatch(refused.stdout, /listening on/, 'nothing was started');
    fs.writeFileSync(yml, `root: .\nadmin:\n  listne: 127.0.0.1:9180\n`);
    const bad = await run(process.execPath, [BIN, 'serve', '--config', yml]).catch((err) => err);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /nodehost\.yml:3: unknown setting 'admin\.listne'/);
  });
});

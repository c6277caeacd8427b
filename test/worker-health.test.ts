// Worker health (maxEventLoopBlockMs, maxHeapMB): the host's heartbeat over the worker's IPC
// channel replaces a worker whose event loop is blocked or whose heap is over budget, gracefully,
// with the reason in status, metrics and the host log. And workers of a host killed with SIGKILL
// do not linger; a new host on the same site and port starts cleanly.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { controlPaths } from '../src/control/paths.js';
import { fetchRaw, startNodehost } from './helpers/nodehost.js';
import { parsePrometheus, sum } from './helpers/prometheus.js';
import { waitForLog } from './helpers/recycle.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const APP = `
const http = require('node:http');
const hoard = [];
http.createServer((req, res) => {
  if (req.url.endsWith('/block')) {
    // Blocks this worker's event loop for 10 s: no timer, no I/O, no heartbeat answer.
    const until = Date.now() + 10000;
    while (Date.now() < until);
  }
  if (req.url.endsWith('/grow')) for (let i = 0; i < 40; i++) hoard.push(new Array(1024 * 256).fill(i));
  res.end(String(process.pid));
}).listen(process.env.PORT);
`;

function makeSite(iisnode: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-health-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs", "private": true }\n');
  fs.writeFileSync(path.join(dir, 'app.js'), APP);
  fs.writeFileSync(
    path.join(dir, 'web.config'),
    `<configuration><system.webServer><handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode"/></handlers><iisnode loggingEnabled="false" gracefulShutdownTimeout="1000" ${iisnode}/></system.webServer></configuration>`,
  );
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the API answers
function admin(site: string, urlPath: string): Promise<{ status: number; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlPaths(site).socketPath, path: urlPath, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text, json: text.startsWith('{') ? JSON.parse(text) : undefined }));
    });
    req.end();
  });
}

/** isAlive tells whether a process exists (signal 0 checks without sending anything). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('worker health', () => {
  test('a worker that blocks its event loop for 10 s is replaced: reason in the host log, status and metrics', async () => {
    const site = makeSite('maxEventLoopBlockMs="500"');
    const host = await startNodehost(site, { waitFor: /control socket / });
    try {
      const blocked = Number((await fetchRaw(host.url, '/app.js')).text);
      const pending = fetchRaw(host.url, '/app.js/block').catch((err: Error) => err);
      await waitForLog(host.child.stderr!, host.stderr, /"msg":"worker retired".*"reason":"event loop blocked over \d+ ms/, 15_000);
      assert.match(host.stderr(), new RegExp(`"msg":"worker unhealthy".*"pid":${blocked}.*"problem":"event-loop"`));
      // The successor serves while the blocked worker is still stuck in its loop.
      const successor = Number((await fetchRaw(host.url, '/app.js')).text);
      assert.notEqual(successor, blocked);
      const apps = (await admin(site, '/v1/apps')).json.apps;
      assert.equal(apps[0].restartsByReason['event-loop'], 1);
      assert.match((await admin(site, '/metrics')).text, /nodehost_worker_restarts_total\{[^}]*reason="event-loop"[^}]*\} 1\n/);
      await pending;
      await waitForLog(host.child.stderr!, host.stderr, new RegExp(`"msg":"worker exited".*"pid":${blocked}`), 15_000);
      assert.equal(isAlive(blocked), false);
      assert.equal(await host.stop(), 0);
    } finally {
      await host.stop();
    }
  });

  test('a worker whose heap grows over maxHeapMB is replaced with the reason heap, in status and metrics', async () => {
    const site = makeSite('maxHeapMB="40"');
    const host = await startNodehost(site, { waitFor: /control socket / });
    try {
      const grown = Number((await fetchRaw(host.url, '/app.js/grow')).text);
      await waitForLog(host.child.stderr!, host.stderr, /"msg":"worker retired".*"reason":"heap \d+ MB over maxHeapMB 40"/, 15_000);
      assert.notEqual(Number((await fetchRaw(host.url, '/app.js')).text), grown);
      assert.equal((await admin(site, '/v1/apps')).json.apps[0].restartsByReason.heap, 1);
      const { samples } = parsePrometheus((await admin(site, '/metrics')).text);
      assert.equal(sum(samples, 'nodehost_worker_restarts_total', { app: '/app.js', reason: 'heap' }), 1);
      assert.equal(sum(samples, 'nodehost_worker_restarts_total', { app: '/app.js', reason: 'memory' }), 0, 'not counted as an RSS recycle');
    } finally {
      await host.stop();
    }
  });
});

describe('a host killed with SIGKILL', () => {
  test('an application that closes the IPC channel itself keeps running: only a lost parent ends a worker', async () => {
    const site = makeSite('');
    // It listens only after living through two of the preload's parent checks (200 ms apart).
    fs.writeFileSync(
      path.join(site, 'app.js'),
      "process.disconnect();\nsetTimeout(() => require('node:http').createServer((req, res) => res.end(String(process.pid))).listen(process.env.PORT), 500);\n",
    );
    const host = await startNodehost(site, { waitFor: /control socket / });
    try {
      const pid = Number((await fetchRaw(host.url, '/app.js')).text);
      assert.equal(Number((await fetchRaw(host.url, '/app.js')).text), pid);
      assert.ok(isAlive(pid));
      assert.doesNotMatch(host.stderr(), /"msg":"worker exited"/);
    } finally {
      await host.stop();
    }
  });

  test('its workers exit on their own, and a new host on the same site and port starts cleanly', async () => {
    const site = makeSite('nodeProcessCountPerApplication="2"');
    const first = await startNodehost(site, { waitFor: /control socket / });
    await fetchRaw(first.url, '/app.js');
    const pids = (await admin(site, '/v1/apps')).json.apps[0].pids as number[];
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.ok(isAlive(pid));
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    assert.ok(fs.existsSync(controlPaths(site).socketPath), 'the killed host left its control socket behind');
    // Each worker notices the closed IPC channel and ends; poll /proc until they are gone (bounded).
    const deadline = Date.now() + 15_000;
    while (pids.some(isAlive)) {
      assert.ok(Date.now() < deadline, `workers ${pids.filter(isAlive).join(', ')} outlived their host`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // On the port the killed host listened on: the kernel freed it with the process.
    const second = await startNodehost(site, { port: false, args: ['--port', String(first.port)], waitFor: /control socket / });
    try {
      assert.equal(second.port, first.port);
      const pid = Number((await fetchRaw(first.url, '/app.js')).text);
      assert.ok(!pids.includes(pid));
      const stale = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(`nh-${first.child.pid}-`));
      assert.deepEqual(stale, [], "the killed host's worker socket folder was swept");
      assert.equal((await admin(site, '/v1/server')).json.pid, second.child.pid);
      assert.equal(await second.stop(), 0);
    } finally {
      await second.stop();
    }
  });
});

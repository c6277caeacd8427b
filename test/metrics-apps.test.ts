/**
 * /metrics of applications (docs/admin.md): the 503s of an application that cannot take a
 * request, by substatus (1002 full, 1001 shutting down); requests in flight; the workers' CPU
 * time; and the output cache's hits, misses and collapsed requests. One host serves three
 * applications; each scrape parses with the strict exposition reader, and each family is checked
 * against what the responses themselves said.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { controlPaths } from '../src/control/paths.js';
import { fetchRaw, startNodehost, type Reply, type RunningHost } from './helpers/nodehost.js';
import { parsePrometheus, sum, type Sample } from './helpers/prometheus.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-metrics-apps-'));
const SITE = join(DIR, 'site');

after(() => rmSync(DIR, { recursive: true, force: true }));

// /app.js: one process taking one request at a time. `/hold?<file>` answers its head at once and
// ends once that file exists; `/burn` spins until it has used 200 ms more CPU and answers its pid
// and its CPU seconds.
const APP = `
const fs = require('node:fs');
require('node:http').createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.endsWith('/hold')) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('held\\n');
    const timer = setInterval(() => {
      if (!fs.existsSync(url.search.slice(1))) return;
      clearInterval(timer);
      res.end('released');
    }, 20);
    return;
  }
  if (url.pathname.endsWith('/burn')) {
    const start = process.cpuUsage();
    while (process.cpuUsage(start).user + process.cpuUsage(start).system < 200000);
    const used = process.cpuUsage();
    res.end(JSON.stringify({ pid: process.pid, cpuSeconds: (used.user + used.system) / 1e6 }));
    return;
  }
  res.end(String(process.pid));
}).listen(process.env.PORT);
`;

// /slow.js never listens: requests wait for it until it is stopped.
const SLOW = 'setInterval(() => {}, 1000);\n';

// /cache/app.js: cached for a minute by its folder's profile; `GET ?key=K` is held until
// `POST ?release=K` (a POST is never cached, so the release reaches the application).
const CACHED = `
const held = new Map();
require('node:http').createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const release = url.searchParams.get('release');
  if (release !== null) {
    for (const end of held.get(release) ?? []) end();
    held.delete(release);
    res.end('released');
    return;
  }
  const key = url.searchParams.get('key');
  const answer = () => res.end('page ' + key);
  if (key === null) return answer();
  held.set(key, [...(held.get(key) ?? []), answer]);
}).listen(process.env.PORT);
`;

/** scrape reads /metrics on the site's control socket. */
function scrape(): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlPaths(SITE).socketPath, path: '/metrics', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(parsePrometheus(text).samples));
    });
    req.on('error', reject);
    req.end();
  });
}

/** admin sends one request to the admin API on the control socket and parses its JSON. */
// biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the API answers
function admin(method: string, urlPath: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlPaths(SITE).socketPath, method, path: urlPath, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** until calls `probe` until it returns true (each call waits for the answers it asks for); fails after 20 s. */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** untilMetric scrapes until `probe` accepts the samples; resolves with them. */
async function untilMetric(what: string, probe: (samples: Sample[]) => boolean): Promise<Sample[]> {
  let samples: Sample[] = [];
  await until(what, async () => {
    samples = await scrape();
    return probe(samples);
  });
  return samples;
}

/** send starts a GET on its own connection: `sent` resolves once the whole request is handed to the system, `reply` with the response. */
function send(base: string, target: string): { sent: Promise<void>; reply: Promise<Reply> } {
  const url = new URL(base);
  const req: ClientRequest = request({ host: url.hostname, port: url.port, path: target, agent: false });
  const reply = new Promise<Reply>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
      });
    });
  });
  const sent = once(req, 'finish').then(() => undefined);
  req.end();
  return { sent, reply };
}

describe('/metrics of applications', () => {
  let host: RunningHost;

  before(async () => {
    mkdirSync(join(SITE, 'cache'), { recursive: true });
    writeFileSync(join(SITE, 'package.json'), '{ "type": "commonjs", "private": true }\n');
    writeFileSync(join(SITE, 'app.js'), APP);
    writeFileSync(join(SITE, 'slow.js'), SLOW);
    writeFileSync(join(SITE, 'cache', 'app.js'), CACHED);
    writeFileSync(
      join(SITE, 'web.config'),
      '<configuration><system.webServer><handlers>' +
        '<add name="app" path="app.js" verb="*" modules="iisnode"/><add name="slow" path="slow.js" verb="*" modules="iisnode"/>' +
        '</handlers><iisnode loggingEnabled="false" maxConcurrentRequestsPerProcess="1" gracefulShutdownTimeout="1000" maxNamedPipeConnectionRetry="400"/>' +
        '</system.webServer></configuration>',
    );
    writeFileSync(
      join(SITE, 'cache', 'web.config'),
      '<configuration><system.webServer><iisnode maxConcurrentRequestsPerProcess="1024" debugHeaderEnabled="true"/><caching enabled="true"><profiles>' +
        '<add extension=".js" policy="CacheForTimePeriod" duration="00:01:00" varyByQueryString="*"/>' +
        '</profiles></caching></system.webServer></configuration>',
    );
    host = await startNodehost(SITE, { waitFor: /control socket / });
  });
  after(() => host?.stop());

  test('a full application answers 503.1002, counted with its substatus; the held request is active meanwhile', async () => {
    const app = { app: '/app.js' };
    const release = join(DIR, 'release-full');
    const held = request({ host: '127.0.0.1', port: host.port, path: `/app.js/hold?${release}`, agent: false });
    held.end();
    const [res] = (await once(held, 'response')) as [IncomingMessage];
    await once(res, 'data');
    const active = await untilMetric('the held request in flight', (samples) => sum(samples, 'nodehost_active_requests', app) === 1);
    assert.equal(sum(active, 'nodehost_app_full_responses_total', { ...app, substatus: '1002' }), 0);

    const refused = await fetchRaw(host.url, '/app.js');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['x-nodehost-substatus'], '1002');
    const full = await untilMetric('the 503 counted', (samples) => sum(samples, 'nodehost_app_full_responses_total', { ...app, substatus: '1002' }) === 1);
    assert.equal(sum(full, 'nodehost_app_full_responses_total', { ...app, substatus: '1001' }), 0);
    assert.equal(sum(full, 'nodehost_requests_total', { ...app, status_class: '5xx' }), 1);

    writeFileSync(release, '');
    res.resume();
    await once(res, 'end');
    await untilMetric('nothing in flight', (samples) => sum(samples, 'nodehost_active_requests', app) === 0);
  });

  test('a request waiting for an application that is stopped gets 503.1001, counted with its substatus', async () => {
    const slow = { app: '/slow.js' };
    const waiting = fetchRaw(host.url, '/slow.js');
    await until('the request waiting for /slow.js', async () =>
      (await admin('GET', '/v1/apps')).apps.some((a: { url: string; waiting: number }) => a.url === '/slow.js' && a.waiting === 1),
    );
    assert.equal((await admin('POST', '/v1/apps/stop?app=/slow.js')).stopped.length, 1);
    const reply = await waiting;
    assert.equal(reply.status, 503);
    assert.equal(reply.headers['x-nodehost-substatus'], '1001');
    const samples = await untilMetric('the 503.1001 counted', (s) => sum(s, 'nodehost_app_full_responses_total', { ...slow, substatus: '1001' }) === 1);
    assert.equal(sum(samples, 'nodehost_app_full_responses_total', { ...slow, substatus: '1002' }), 0);
  });

  test("a worker's CPU time is what the worker itself measured, and moves when it works", async () => {
    const pid = (await fetchRaw(host.url, '/app.js')).text;
    const before = sum(await scrape(), 'nodehost_worker_cpu_seconds_total', { app: '/app.js', pid });
    const burnt = JSON.parse((await fetchRaw(host.url, '/app.js/burn')).text) as { pid: number; cpuSeconds: number };
    assert.equal(String(burnt.pid), pid);
    const after = sum(await scrape(), 'nodehost_worker_cpu_seconds_total', { app: '/app.js', pid });
    // /proc counts user and system time in whole 10 ms ticks, each rounded down.
    assert.ok(after >= burnt.cpuSeconds - 0.02, `the metric (${after} s) is the worker's own count (${burnt.cpuSeconds} s)`);
    assert.ok(after > before, `${before} s before the work, ${after} s after`);
  });

  test('the output cache counts a miss, the requests collapsed onto its fetch, and a hit, as its debug header says', async () => {
    const app = { app: '/cache/app.js' };
    const count = (samples: Sample[], result: string) => sum(samples, 'nodehost_output_cache_requests_total', { ...app, result });
    const first = send(host.url, '/cache/app.js?key=k1');
    // The first request is the fetch, held by the application; the others wait for it.
    await untilMetric('the fetch in flight', (samples) => sum(samples, 'nodehost_active_requests', app) === 1);
    const others = [send(host.url, '/cache/app.js?key=k1'), send(host.url, '/cache/app.js?key=k1')];
    await Promise.all(others.map((other) => other.sent));
    assert.equal((await fetchRaw(host.url, '/cache/app.js?release=k1', { method: 'POST' })).text, 'released');
    const replies = await Promise.all([first, ...others].map((one) => one.reply));
    assert.ok(replies.every((reply) => reply.status === 200 && reply.text === 'page k1'));
    const said = replies.map((reply) => reply.headers['x-nodehost-cache']);
    assert.equal(said[0], 'miss');
    assert.ok(said.includes('collapsed'), `a request met the fetch in flight: ${said.join(', ')}`);
    const hit = await fetchRaw(host.url, '/cache/app.js?key=k1');
    assert.equal(hit.headers['x-nodehost-cache'], 'hit');
    said.push('hit');

    const samples = await untilMetric('every answer counted', (s) => count(s, 'miss') + count(s, 'collapsed') + count(s, 'hit') === said.length);
    for (const result of ['miss', 'collapsed', 'hit']) assert.equal(count(samples, result), said.filter((one) => one === result).length, result);
    assert.equal(count(samples, 'stale'), 0);
  });
});

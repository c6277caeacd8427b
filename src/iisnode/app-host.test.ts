/**
 * Pool-level integration tests: real node workers (tiny apps written to a temp folder), a real
 * HTTP server whose handler builds a RequestContext and calls AppHost.handle, real clients.
 * Every wait is on an event (a response, a handle() promise, a worker state change).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { NodehostError } from '../errors.js';
import type { FolderConfig, IisnodeSettings } from '../config/types.js';
import { HostLog } from '../host-log.js';
import { RequestContext } from '../http/request-context.js';
import { errorStep } from '../pipeline/error-step.js';
import { AppHost } from './app-host.js';
import type { WorkerStateChange } from './worker-state.js';

const DEFAULTS: IisnodeSettings = {
  node_env: '%node_env%',
  asyncCompletionThreadCount: 0,
  nodeProcessCountPerApplication: 1,
  nodeProcessCommandLine: process.execPath,
  interceptor: '',
  maxConcurrentRequestsPerProcess: 1024,
  maxNamedPipeConnectionRetry: 100,
  namedPipeConnectionRetryDelay: 250,
  maxNamedPipeConnectionPoolSize: 512,
  maxNamedPipePooledConnectionAge: 30000,
  initialRequestBufferSize: 4096,
  maxRequestBufferSize: 65536,
  uncFileChangesPollingInterval: 5000,
  gracefulShutdownTimeout: 5000,
  loggingEnabled: true,
  logDirectory: 'iisnode',
  debuggingEnabled: true,
  debuggerExtensionDll: '',
  debugHeaderEnabled: false,
  debuggerVirtualDir: '',
  debuggerPathSegment: 'debug',
  debuggerPortRange: '5058-6058',
  maxLogFileSizeInKB: 128,
  maxTotalLogFileSizeInKB: 1024,
  maxLogFiles: 20,
  devErrorsEnabled: true,
  flushResponse: false,
  watchedFiles: '*.js;iisnode.yml',
  enableXFF: false,
  promoteServerVars: '',
  configOverrides: 'iisnode.yml',
  recycleSignalEnabled: false,
  idlePageOutTimePeriod: 0,
  nodeProcessStickySessions: false,
  watchedFilesPolling: false,
  recycleKeepsOldOnFailure: false,
  maxMemoryPerProcessMB: 0,
  maxRequestsPerProcess: 0,
  maxEventLoopBlockMs: 0,
  maxHeapMB: 0,
  idleTimeout: 0,
};

const APP = String.raw`
const http = require('http');
let count = 0;
let connections = 0;
const server = http.createServer((req, res) => {
  count++;
  const route = req.url.split('?')[0].replace(/^\/[^/]*\.[cm]?js/, '');
  const query = new URLSearchParams(req.url.split('?')[1] || '');
  if (route === '/info' || route.startsWith('/info/')) {
    const body = JSON.stringify({ pid: process.pid, count, connections, url: req.url, method: req.method, rawHeaders: req.rawHeaders, cwd: process.cwd(),
      env: { PORT: process.env.PORT, IISNODE_VERSION: process.env.IISNODE_VERSION, NODE_ENV: process.env.NODE_ENV, A: process.env.A, B: process.env.B, EMPTY: process.env.EMPTY } });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
  } else if (route === '/hold') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('held\n');
    setTimeout(() => res.end('released\n'), Number(query.get('ms') || 10000));
  } else if (route === '/crash') {
    process.stderr.write('crashing now "&<>\'\n');
    process.exit(3);
  } else if (route === '/big') {
    const total = Number(query.get('bytes'));
    const chunk = Buffer.alloc(65536, 97);
    let sent = 0;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return res.once('drain', pump);
      }
      res.end();
    };
    pump();
  } else if (route === '/upload') {
    const hash = require('crypto').createHash('sha256');
    let bytes = 0;
    req.on('data', (d) => { bytes += d.length; hash.update(d); });
    req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] || null, cl: req.headers['content-length'] || null })));
  } else if (route === '/headers') {
    res.setHeader('Foo', ['Val1', 'Val2']);
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.setHeader('X-Empty', '');
    res.setHeader('Keep-Alive', 'timeout=5');
    res.end('headers');
  } else if (route === '/status') {
    res.writeHead(Number(query.get('code')), { ETag: '"x"' });
    res.end();
  } else {
    res.writeHead(404);
    res.end('no route ' + route);
  }
});
server.on('connection', () => connections++);
server.listen(process.env.PORT);
`;

const ESM_APP = `
import http from 'node:http';
http.createServer((req, res) => res.end('esm ' + import.meta.url.endsWith('.mjs'))).listen(process.env.PORT);
`;

const SYNTAX_ERROR_APP = `
const http = require('http');
http.createServer((req, res) => res.end('never')).listen(process.env.PORT);
this is not javascript "&<>'
`;

/**
 * An app whose process never listens when it finds the file `slow-one` and unlinks it: exactly
 * one process does (rmSync would not do: it ignores the ENOENT of the process that lost, and
 * both would be slow). That process exits with code 4 once the file `slow-exit` appears, so a
 * test decides when its verdict comes instead of racing a readiness budget.
 */
const SLOW_ONE_APP = `
const fs = require('fs');
const http = require('http');
const path = require('path');
let isSlow = false;
try {
  fs.unlinkSync(path.join(__dirname, 'slow-one'));
  isSlow = true;
} catch {}
const server = http.createServer((req, res) => {
  if (req.url.endsWith('/crash')) process.exit(3);
  res.end(String(process.pid));
});
if (isSlow) setInterval(() => fs.existsSync(path.join(__dirname, 'slow-exit')) && process.exit(4), 20);
else server.listen(process.env.PORT);
`;

const NOT_LISTENING_APP = `setInterval(() => {}, 1000); process.stderr.write('listening elsewhere\\n');`;

let dir = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-apphost-test-'));
  fs.writeFileSync(path.join(dir, 'app.js'), APP);
  fs.writeFileSync(path.join(dir, 'esm.mjs'), ESM_APP);
  fs.writeFileSync(path.join(dir, 'broken.js'), SYNTAX_ERROR_APP);
  fs.writeFileSync(path.join(dir, 'quiet.js'), NOT_LISTENING_APP);
  fs.writeFileSync(path.join(dir, 'slow.js'), SLOW_ONE_APP);
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface HarnessOptions {
  settings?: Partial<IisnodeSettings>;
  appSettings?: [string, string][];
  resolveErrors?: () => NodehostError[];
}

interface Harness {
  host: AppHost;
  port: number;
  /** handle() promises of every request, in arrival order. */
  handled: Promise<void>[];
  logLines: string[];
  close(): Promise<void>;
}

async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const logLines: string[] = [];
  const out = { write: (line: string) => logLines.push(line) } as unknown as NodeJS.WritableStream;
  const settings: IisnodeSettings = { ...DEFAULTS, ...options.settings };
  const folder = { appSettings: options.appSettings ?? [], errors: [], iisnode: settings } as unknown as FolderConfig;
  const host = new AppHost({
    log: new HostLog(out, false),
    resolveApp: () => ({ settings, errors: options.resolveErrors?.() ?? [] }),
  });
  const handled: Promise<void>[] = [];
  const server = http.createServer((req, res) => {
    const ctx = new RequestContext(req, res, { root: dir, name: 'test' }, false, errorStep);
    const script = /^\/([^/?]+\.[cm]?js)/.exec(req.url ?? '')?.[1] ?? 'app.js';
    ctx.scriptPath = path.join(dir, script);
    ctx.handler = 'iisnode';
    ctx.config = folder;
    handled.push(host.handle(ctx));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    host,
    port,
    handled,
    logLines,
    async close() {
      await host.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

function request(port: number, target: string, options: { method?: string; headers?: string[]; body?: Buffer | Readable } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: target, method: options.method ?? 'GET', headers: options.headers ?? ['Host', 'localhost'], agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString() });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body instanceof Readable) options.body.pipe(req);
    else req.end(options.body);
  });
}

/** startHeld starts a /hold request and resolves `started` once its first body bytes arrived. */
function startHeld(port: number, ms: number): { started: Promise<void>; done: Promise<string>; request: http.ClientRequest } {
  const req = http.get({ host: '127.0.0.1', port, path: `/app.js/hold?ms=${ms}`, agent: false });
  req.on('error', () => {});
  let text = '';
  let resolveStarted!: () => void;
  const started = new Promise<void>((resolve) => (resolveStarted = resolve));
  const done = new Promise<string>((resolve) => {
    req.on('response', (res) => {
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        resolveStarted();
      });
      res.on('end', () => resolve(text));
      res.on('error', () => resolve(text));
    });
  });
  return { started, done, request: req };
}

/** waitForStates resolves once `count` transitions to `to` were published for scripts under the test folder. */
function waitForStates(to: WorkerStateChange['to'], count: number): Promise<WorkerStateChange[]> {
  return new Promise((resolve) => {
    const seen: WorkerStateChange[] = [];
    const onMessage = (message: unknown) => {
      const change = message as WorkerStateChange;
      if (change.to !== to || !change.scriptPath.startsWith(dir)) return;
      seen.push(change);
      if (seen.length === count) {
        diagnosticsChannel.unsubscribe('nodehost:worker:state', onMessage);
        resolve(seen);
      }
    };
    diagnosticsChannel.subscribe('nodehost:worker:state', onMessage);
  });
}

test('a request reaches the app with env, appSettings and cwd set', async () => {
  const h = await startHarness({
    settings: { node_env: 'production' },
    appSettings: [
      ['A', 'first'],
      ['B', 'b'],
      ['A', 'last'],
      ['EMPTY', ''],
      ['PORT', 'shadowed'],
    ],
  });
  try {
    const reply = await request(h.port, '/app.js/info');
    assert.equal(reply.status, 200);
    const info = JSON.parse(reply.text);
    assert.equal(info.cwd, dir);
    assert.equal(info.env.A, 'last', 'the last duplicate appSetting wins');
    assert.equal(info.env.B, 'b');
    assert.equal(info.env.EMPTY, '', 'an empty appSetting is defined');
    assert.equal(info.env.NODE_ENV, 'production');
    assert.match(info.env.IISNODE_VERSION, /^\d+\.\d+\.\d+/);
    assert.match(info.env.PORT, /\/nh-\d+-\d+\/w\d+\.sock$/, 'nodehost PORT wins over appSettings');
    assert.ok(Buffer.byteLength(info.env.PORT) <= 107);
    const stats = h.host.stats();
    assert.equal(stats.apps.length, 1);
    assert.equal(stats.apps[0].script, path.join(dir, 'app.js'));
    assert.equal(stats.apps[0].ready, 1);
    assert.equal(stats.apps[0].total, 1);
    assert.ok(h.logLines.some((line) => line.includes('"msg":"worker spawned"')));
    assert.ok(h.logLines.some((line) => line.includes('"msg":"worker ready"')));
  } finally {
    await h.close();
  }
});

test('node_env %node_env% leaves NODE_ENV alone', async () => {
  const h = await startHarness();
  try {
    const info = JSON.parse((await request(h.port, '/app.js/info')).text);
    assert.equal(info.env.NODE_ENV, process.env.NODE_ENV);
  } finally {
    await h.close();
  }
});

test('an ES module entry script runs', async () => {
  const h = await startHarness();
  try {
    const reply = await request(h.port, '/esm.mjs');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'esm true');
  } finally {
    await h.close();
  }
});

test('requests are spread round robin over ready workers', async () => {
  const ready = waitForStates('ready', 3);
  const h = await startHarness({ settings: { nodeProcessCountPerApplication: 3 } });
  try {
    await request(h.port, '/app.js/info'); // creates the app
    await ready;
    const pids: number[] = [];
    for (let i = 0; i < 6; i++) pids.push(JSON.parse((await request(h.port, '/app.js/info')).text).pid);
    assert.equal(new Set(pids).size, 3);
    assert.deepEqual(pids.slice(3), pids.slice(0, 3), 'the rotation repeats');
  } finally {
    await h.close();
  }
});

test('a cold generation takes requests once all its workers are ready, in strict rotation from the first', async () => {
  const h = await startHarness({ settings: { nodeProcessCountPerApplication: 3 } });
  try {
    const first = JSON.parse((await request(h.port, '/app.js/info')).text);
    assert.equal(h.host.stats().apps[0].ready, 3, 'the first request was dispatched once every worker was ready');
    const pids: number[] = [first.pid];
    for (let i = 0; i < 5; i++) pids.push(JSON.parse((await request(h.port, '/app.js/info')).text).pid);
    assert.equal(new Set(pids.slice(0, 3)).size, 3, pids.join(' '));
    assert.deepEqual(pids.slice(3), pids.slice(0, 3), 'the rotation repeats');
  } finally {
    await h.close();
  }
});

test('a crashed worker of a serving generation is skipped while its successor starts; the generation keeps serving', async () => {
  const h = await startHarness({ settings: { nodeProcessCountPerApplication: 2 } });
  try {
    const survivor = (await request(h.port, '/slow.js')).text;
    // The successor of the crashed worker finds the flag and never listens.
    fs.writeFileSync(path.join(dir, 'slow-one'), '');
    await request(h.port, '/slow.js/crash');
    for (let i = 0; i < 4; i++) {
      const reply = await request(h.port, '/slow.js');
      assert.equal(reply.status, 200);
      assert.equal(reply.text, survivor, 'the survivor takes every request');
    }
    const stats = h.host.stats().apps[0];
    assert.equal(stats.workers, 2);
    assert.equal(stats.ready, 1);
    assert.equal(stats.generation, 1);
  } finally {
    fs.rmSync(path.join(dir, 'slow-one'), { force: true });
    await h.close();
  }
});

test('an overlapped recycle keeps the old generation until every new worker has its verdict', async () => {
  const oldReady = waitForStates('ready', 2);
  const h = await startHarness({ settings: { nodeProcessCountPerApplication: 2, recycleKeepsOldOnFailure: true } });
  try {
    const oldPid = (await request(h.port, '/slow.js')).text;
    await oldReady;
    fs.writeFileSync(path.join(dir, 'slow-one'), '');
    const newReady = waitForStates('ready', 1);
    const recycled = h.host.recycle();
    await newReady;
    let stats = h.host.stats().apps[0];
    assert.equal(stats.generation, 1, 'one new worker ready of two: the old generation still serves');
    assert.equal(stats.isRecycling, true);
    // A request now waits for the new generation; it is served once the slow worker has exited.
    const waiting = request(h.port, '/slow.js');
    fs.writeFileSync(path.join(dir, 'slow-exit'), '');
    const [result] = await recycled;
    assert.equal(result?.result.isServing, true);
    assert.equal(result?.result.generation, 2);
    const reply = await waiting;
    assert.equal(reply.status, 200);
    assert.notEqual(reply.text, oldPid);
    stats = h.host.stats().apps[0];
    assert.equal(stats.generation, 2);
  } finally {
    fs.rmSync(path.join(dir, 'slow-one'), { force: true });
    fs.rmSync(path.join(dir, 'slow-exit'), { force: true });
    await h.close();
  }
});

test('503.1002 at once when every worker is full; a client abort frees the slot', async () => {
  const h = await startHarness({ settings: { maxConcurrentRequestsPerProcess: 1 } });
  try {
    const held = startHeld(h.port, 60000);
    await held.started;
    const full = await request(h.port, '/app.js/info');
    assert.equal(full.status, 503);
    assert.equal(full.headers['x-nodehost-substatus'], '1002');
    assert.equal(h.host.stats().apps[0].busy, 1);
    held.request.destroy();
    await h.handled[0];
    assert.equal(h.host.stats().apps[0].active, 0);
    assert.equal((await request(h.port, '/app.js/info')).status, 200);
  } finally {
    await h.close();
  }
});

test('a crash fails only its own requests; the worker is replaced', async () => {
  const ready = waitForStates('ready', 2);
  const h = await startHarness({ settings: { nodeProcessCountPerApplication: 2 } });
  try {
    await request(h.port, '/app.js/info');
    await ready;
    // Both workers are ready and idle, so the rotation sends the held request and the crash to different workers.
    const holding = request(h.port, '/app.js/hold?ms=400');
    const replacedReady = waitForStates('ready', 1);
    const crashed = await request(h.port, '/app.js/crash');
    assert.equal(crashed.status, 200, 'developer page for a local client');
    assert.equal(crashed.headers['x-nodehost-substatus'], '1013');
    assert.equal(crashed.headers['cache-control'], 'no-cache');
    assert.match(crashed.text, /HTTP subStatus: 1013/);
    assert.ok(crashed.text.includes('crashing now &quot;&amp;&lt;&gt;&#39;'), 'the stderr tail is on the page');
    const held = await holding;
    assert.equal(held.status, 200);
    assert.equal(held.text, 'held\nreleased\n');
    await replacedReady;
    const stats = h.host.stats().apps[0];
    assert.equal(stats.restarts, 1);
    assert.equal((await request(h.port, '/app.js/info')).status, 200);
  } finally {
    await h.close();
  }
});

test('while a crashed worker is replaced, as many requests wait as its slots; the next is refused with 503.1002 at once', async () => {
  const h = await startHarness({ settings: { maxConcurrentRequestsPerProcess: 2, maxNamedPipeConnectionRetry: 10, namedPipeConnectionRetryDelay: 100 } });
  try {
    await request(h.port, '/slow.js');
    // The successor finds the flag and never listens: the requests wait until its readiness budget runs out.
    fs.writeFileSync(path.join(dir, 'slow-one'), '');
    await request(h.port, '/slow.js/crash');
    const replies = [0, 1, 2].map((i) => request(h.port, `/slow.js?${i}`));
    const first = await Promise.race(replies);
    assert.equal(first.status, 503);
    assert.equal(first.headers['x-nodehost-substatus'], '1002');
    // The other two are answered once the slot has a worker again (or its start failed), not refused.
    const statuses = (await Promise.all(replies)).map((reply) => reply.status);
    assert.equal(statuses.filter((status) => status === 503).length, 1, String(statuses));
  } finally {
    fs.rmSync(path.join(dir, 'slow-one'), { force: true });
    await h.close();
  }
});

test('a request waits for the replacement of a crashed single worker', async () => {
  const h = await startHarness();
  try {
    const first = JSON.parse((await request(h.port, '/app.js/info')).text).pid;
    await request(h.port, '/app.js/crash');
    const second = JSON.parse((await request(h.port, '/app.js/info')).text).pid;
    assert.notEqual(second, first);
  } finally {
    await h.close();
  }
});

test('an app that cannot start answers 500.1002 with its stderr, at once on later requests', async () => {
  const h = await startHarness();
  try {
    const reply = await request(h.port, '/broken.js');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-nodehost-substatus'], '1002');
    assert.match(reply.text, /SyntaxError/);
    assert.ok(reply.text.includes('this is not javascript &quot;&amp;&lt;&gt;&#39;'));
    const started = Date.now();
    const again = await request(h.port, '/broken.js');
    assert.equal(again.headers['x-nodehost-substatus'], '1002');
    assert.match(again.text, /SyntaxError/);
    assert.ok(Date.now() - started < 5000, 'no wait through the backoff');
    assert.equal(h.host.stats().apps[0].isFailing, true);
    assert.ok(h.logLines.some((line) => line.includes('"msg":"worker exited"')));
  } finally {
    await h.close();
  }
});

test('without devErrorsEnabled a failure is a plain 500 with no internals', async () => {
  const h = await startHarness({ settings: { devErrorsEnabled: false } });
  try {
    const reply = await request(h.port, '/broken.js');
    assert.equal(reply.status, 500);
    assert.equal(reply.headers['x-nodehost-substatus'], '1002');
    assert.doesNotMatch(reply.text, /SyntaxError|javascript/);
  } finally {
    await h.close();
  }
});

test('an app that never listens gets 500.1001 after the readiness budget', async () => {
  // 2 s: long enough for a loaded machine to start node and let the app write its stderr line.
  const h = await startHarness({ settings: { maxNamedPipeConnectionRetry: 20, namedPipeConnectionRetryDelay: 100 } });
  try {
    const reply = await request(h.port, '/quiet.js');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-nodehost-substatus'], '1001');
    assert.match(reply.text, /listening elsewhere/);
  } finally {
    await h.close();
  }
});

test('a missing node executable answers the 1028 page, or a plain 500', async () => {
  const on = await startHarness({ settings: { nodeProcessCommandLine: '/nonexistent/bin/node' } });
  try {
    const reply = await request(on.port, '/app.js/info');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-nodehost-substatus'], '1028');
    assert.match(reply.text, /unable to start the node\.exe process/);
  } finally {
    await on.close();
  }
  const off = await startHarness({ settings: { nodeProcessCommandLine: '/nonexistent/bin/node', devErrorsEnabled: false } });
  try {
    const reply = await request(off.port, '/app.js/info');
    assert.equal(reply.status, 500);
    assert.doesNotMatch(reply.text, /node\.exe/);
  } finally {
    await off.close();
  }
});

test('a Windows node.exe path runs the host node with a warning', async () => {
  const h = await startHarness({
    settings: { nodeProcessCommandLine: '"%programfiles%\\nodejs\\node.exe"', interceptor: '"%programfiles%\\iisnode\\interceptor.js"' },
  });
  try {
    assert.equal((await request(h.port, '/app.js/info')).status, 200);
    assert.ok(h.logLines.some((line) => line.includes('"level":"warn"') && line.includes('node.exe')));
  } finally {
    await h.close();
  }
});

test('a configuration error answers the friendly page until it is fixed', async () => {
  const { NodehostError } = await import('../errors.js');
  let errors: NodehostError[] = [new NodehostError('NH_ERR_CONFIG_YML', 'bad line', { source: { file: path.join(dir, 'iisnode.yml'), line: 3 } })];
  const h = await startHarness({ resolveErrors: () => errors });
  try {
    const reply = await request(h.port, '/app.js/info');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-nodehost-substatus'], '1032');
    assert.match(reply.text, /unable to read the configuration file iisnode\.yml/);
    assert.match(reply.text, /iisnode\.yml:3: bad line/);
    assert.equal(h.host.stats().apps.length, 0, 'no app was created');
    errors = [];
    assert.equal((await request(h.port, '/app.js/info')).status, 200);
  } finally {
    await h.close();
  }
});

test('a missing script answers 404', async () => {
  const h = await startHarness();
  try {
    const reply = await request(h.port, '/nothere.js');
    assert.equal(reply.status, 404);
    assert.equal(h.host.stats().apps.length, 0);
  } finally {
    await h.close();
  }
});

test('the request reaches node as sent: raw target, repeated and empty headers, XFF, promoted variables', async () => {
  const h = await startHarness({ settings: { enableXFF: true, promoteServerVars: 'REQUEST_METHOD,,HTTPS' } });
  try {
    const reply = await request(h.port, '/app.js/info/a%2Fb?x=%20&y', {
      headers: [
        'Host',
        'example.test',
        'Foo',
        'one',
        'Foo',
        'two',
        'X-Empty',
        '',
        'Connection',
        'keep-alive',
        'Expect',
        '100-continue',
        'X-Forwarded-For',
        '9.9.9.9',
      ],
    });
    const info = JSON.parse(reply.text);
    assert.equal(info.url, '/app.js/info/a%2Fb?x=%20&y');
    const raw: string[] = info.rawHeaders;
    const pairs: string[] = [];
    for (let i = 0; i < raw.length; i += 2) pairs.push(`${raw[i].toLowerCase()}: ${raw[i + 1]}`);
    assert.deepEqual(
      pairs.filter((p) => p.startsWith('foo')),
      ['foo: one', 'foo: two'],
    );
    assert.ok(pairs.includes('x-empty: '));
    assert.ok(!pairs.some((p) => p.startsWith('expect')));
    assert.ok(pairs.includes('x-forwarded-for: 9.9.9.9, 127.0.0.1'));
    assert.ok(pairs.includes('x-forwarded-proto: http'));
    assert.ok(pairs.includes('x-iisnode-https: off'));
    assert.ok(pairs.includes('x-iisnode-request_method: GET'));
    assert.ok(raw.indexOf('X-iisnode-HTTPS') < raw.indexOf('X-iisnode-REQUEST_METHOD'), 'reverse list order');
    assert.ok(pairs.includes('connection: keep-alive'), 'nodehost keeps its own connection to the worker alive');
    const spoofed = JSON.parse((await request(h.port, '/app.js/info', { headers: ['Host', 'h', 'X-Original-URL', '/app.js/info/original?bar=1'] })).text);
    assert.equal(spoofed.url, '/app.js/info', 'a client-sent X-Original-URL does not choose the URL node sees');
  } finally {
    await h.close();
  }
});

test('the response keeps repeated headers, drops hop-by-hop ones, frames HEAD/204/304, and adds iisnode-debug', async () => {
  const h = await startHarness({ settings: { debugHeaderEnabled: true } });
  try {
    const reply = await request(h.port, '/app.js/headers');
    const pairs: string[] = [];
    for (let i = 0; i < reply.rawHeaders.length; i += 2) pairs.push(`${reply.rawHeaders[i].toLowerCase()}: ${reply.rawHeaders[i + 1]}`);
    assert.deepEqual(
      pairs.filter((p) => p.startsWith('foo')),
      ['foo: Val1', 'foo: Val2'],
    );
    assert.deepEqual(
      pairs.filter((p) => p.startsWith('set-cookie')),
      ['set-cookie: a=1', 'set-cookie: b=2'],
    );
    assert.ok(pairs.includes('x-empty: '));
    assert.ok(!pairs.some((p) => p.startsWith('keep-alive')));
    assert.match(String(reply.headers['iisnode-debug']), /^http:\/\/bit\.ly\/NsU2nd#iisnode_ver=/);
    assert.equal(reply.text, 'headers');
    const head = await request(h.port, '/app.js/headers', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const code of [204, 304]) {
      const reply = await request(h.port, `/app.js/status?code=${code}`);
      assert.equal(reply.status, code);
      assert.equal(reply.body.length, 0);
    }
    const off = await startHarness();
    try {
      assert.equal((await request(off.port, '/app.js/headers')).headers['iisnode-debug'], undefined);
    } finally {
      await off.close();
    }
  } finally {
    await h.close();
  }
});

test('30 MB down and a 32 MB chunked upload stream through', async () => {
  const h = await startHarness({ settings: { flushResponse: true } });
  try {
    const down = await request(h.port, `/app.js/big?bytes=${30 * 1024 * 1024}`);
    assert.equal(down.status, 200);
    assert.equal(down.body.length, 30 * 1024 * 1024);
    const chunk = crypto.randomBytes(1024 * 1024);
    const hash = crypto.createHash('sha256');
    for (let i = 0; i < 32; i++) hash.update(chunk);
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 32; i++) yield chunk;
      })(),
    );
    const up = await request(h.port, '/app.js/upload', { method: 'POST', headers: ['Host', 'h', 'Transfer-Encoding', 'chunked'], body });
    const result = JSON.parse(up.text);
    assert.equal(result.bytes, 32 * 1024 * 1024);
    assert.equal(result.sha256, hash.digest('hex'));
    assert.equal(result.te, 'chunked');
    const fixed = await request(h.port, '/app.js/upload', { method: 'POST', headers: ['Host', 'h', 'Content-Length', '5'], body: Buffer.from('hello') });
    assert.deepEqual(JSON.parse(fixed.text), { bytes: 5, sha256: crypto.createHash('sha256').update('hello').digest('hex'), te: null, cl: '5' });
  } finally {
    await h.close();
  }
});

test('keep-alive connections to a worker are reused', async () => {
  const h = await startHarness();
  try {
    let info: { pid: number; connections: number } = { pid: 0, connections: 0 };
    for (let i = 0; i < 6; i++) info = JSON.parse((await request(h.port, '/app.js/info')).text);
    // One connection was the readiness probe; the six requests shared one pooled connection.
    assert.equal(info.connections, 2);
    assert.equal(h.host.stats().apps[0].total, 6);
  } finally {
    await h.close();
  }
});

test('close lets an in-flight request finish, stops the workers and removes the run dir', async () => {
  const h = await startHarness();
  const info = JSON.parse((await request(h.port, '/app.js/info')).text);
  const runDir = path.dirname(info.env.PORT);
  assert.ok(fs.existsSync(runDir));
  const exited = waitForStates('exited', 1);
  const held = startHeld(h.port, 300);
  await held.started;
  const closing = h.host.close();
  const refused = await request(h.port, '/app.js/info');
  assert.equal(refused.status, 503, 'no new requests while closing');
  assert.equal(refused.headers['x-nodehost-substatus'], '1001');
  assert.equal(await held.done, 'held\nreleased\n');
  await closing;
  const [change] = await exited;
  assert.equal(change.pid, info.pid);
  assert.equal(fs.existsSync(runDir), false);
  await h.close();
});

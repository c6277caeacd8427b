/**
 * Upgraded connections handed to the worker (docs/performance.md): the client's socket moves
 * to the worker that answered the upgrade, so the app sees the client's own port as its peer
 * (through the host it would see the host's Unix socket). The host still counts the connection
 * (sticky sessions, maxConcurrentRequestsPerProcess), logs it when it closes, has the worker
 * close it with 1001 at the end of a recycle's grace period, and pipes what cannot move (TLS,
 * a worker without its IPC channel). A worker killed mid-connection closes the client.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { accessLogLine } from './helpers/access-log.js';
import { createTestCa, type TestCa } from './helpers/certificates.js';
import { fetchRaw, freePort, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';

/** Hello is the echo app's first message (test/sites/ws-handoff/echo/echo.js). */
interface Hello {
  pid: number;
  remotePort: number | null;
  url: string;
  xff: string;
  leaked: boolean;
}

interface Opened {
  ws: WebSocket;
  hello: Hello;
  /** The client's own port. */
  localPort: number;
  /** The Set-Cookie lines of the 101. */
  cookies: string[];
}

/** open connects a WebSocket and resolves with the app's hello, or rejects with the HTTP status. */
function open(url: string, options: WebSocket.ClientOptions = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    let cookies: string[] = [];
    ws.once('upgrade', (res) => {
      cookies = res.headers['set-cookie'] ?? [];
    });
    ws.once('message', (data) => {
      const socket = (ws as unknown as { _socket: { localPort: number } })._socket;
      resolve({ ws, hello: JSON.parse(String(data)) as Hello, localPort: socket.localPort, cookies });
    });
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

/** echo sends `count` messages and resolves with the echoes, in order. */
async function echo(ws: WebSocket, count: number): Promise<string[]> {
  const got: string[] = [];
  const done = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      got.push(String(data));
      if (got.length === count) resolve();
    }),
  );
  for (let i = 0; i < count; i++) ws.send(`message ${i}`);
  await done;
  return got;
}

async function closeClient(ws: WebSocket): Promise<number> {
  const closed = once(ws, 'close');
  ws.close(1000);
  const [code] = await closed;
  return code as number;
}

describe('WebSockets handed to the worker', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-ws-handoff-'));
  const logs = path.join(dir, 'logs');
  let ca: TestCa;
  let host: RunningHost;
  let ws: string;
  let wss: string;

  before(async () => {
    ca = createTestCa(dir);
    const cert = ca.issue('localhost', ['localhost']);
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    fs.writeFileSync(
      path.join(dir, 'nodehost.yml'),
      [
        `logs: ${logs}`,
        'sites:',
        '  - name: handoff',
        `    root: ${path.join(SITES, 'ws-handoff')}`,
        `    bindings: ["http://*:${httpPort}", "https://*:${httpsPort}"]`,
        `    tls: { certificate: ${cert.certificate}, key: ${cert.key} }`,
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', path.join(dir, 'nodehost.yml')], waitFor: /listening on https/ });
    ws = `ws://127.0.0.1:${httpPort}`;
    wss = `wss://localhost:${httpsPort}`;
  });
  after(async () => {
    await host?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('echoes with the client socket in the worker: the app sees the client port, not the host, and no hand-off header', async () => {
    const { ws: client, hello, localPort } = await open(`${ws}/echo/echo.js/chat?room=1`);
    assert.equal(hello.remotePort, localPort);
    assert.equal(hello.url, '/echo/echo.js/chat?room=1');
    assert.equal(hello.leaked, false);
    assert.deepEqual(
      await echo(client, 20),
      Array.from({ length: 20 }, (_, i) => `message ${i}`),
    );
    assert.equal(await closeClient(client), 1000);
  });

  it('writes the access log line when the connection closes, with status 101', async () => {
    const { ws: client } = await open(`${ws}/echo/echo.js?probe=closed`);
    await echo(client, 3);
    await closeClient(client);
    const line = await accessLogLine(path.join(logs, 'handoff'), '/echo/echo.js', 'closed');
    assert.equal(line['sc-status'], '101');
  });

  it('ignores a hand-off header sent by the client', async () => {
    const { ws: client, hello, localPort } = await open(`${ws}/echo/echo.js`, { headers: { 'X-Nodehost-Handoff': 'forged.1' } });
    assert.equal(hello.remotePort, localPort);
    assert.equal(hello.leaked, false);
    await closeClient(client);
  });

  it('pipes over https (a TLS socket cannot move) and for a worker that closed its IPC channel', async () => {
    const tls = await open(`${wss}/echo/echo.js`, { ca: ca.ca });
    assert.equal(tls.hello.remotePort, null);
    assert.deepEqual(
      await echo(tls.ws, 5),
      [0, 1, 2, 3, 4].map((i) => `message ${i}`),
    );
    await closeClient(tls.ws);
    const piped = await open(`${ws}/nochannel/echo.js?probe=piped`);
    assert.equal(piped.hello.remotePort, null);
    assert.deepEqual(
      await echo(piped.ws, 5),
      [0, 1, 2, 3, 4].map((i) => `message ${i}`),
    );
    await closeClient(piped.ws);
    const line = await accessLogLine(path.join(logs, 'handoff'), '/nochannel/echo.js', 'piped');
    assert.equal(line['sc-status'], '101');
  });

  it('keeps sticky sessions: the 101 carries the cookie, and a client holding it lands on the same process every time', async () => {
    const first = await open(`${ws}/sticky/echo.js`);
    assert.equal(first.hello.remotePort, first.localPort);
    const cookie = first.cookies.find((c) => c.startsWith('iisnode.session.cookie='));
    assert.ok(cookie, `Set-Cookie on the 101: ${first.cookies.join(', ')}`);
    await closeClient(first.ws);
    for (let i = 0; i < 6; i++) {
      const again = await open(`${ws}/sticky/echo.js`, { headers: { cookie: cookie! } });
      assert.equal(again.hello.pid, first.hello.pid);
      assert.equal(again.hello.remotePort, again.localPort);
      assert.deepEqual(again.cookies, []);
      await closeClient(again.ws);
    }
  });

  it('counts handed-off connections against maxConcurrentRequestsPerProcess: 2 fit, the third gets 503 until one closes', async () => {
    const held = [await open(`${ws}/limit/echo.js`), await open(`${ws}/limit/echo.js`)];
    try {
      for (const { hello, localPort } of held) assert.equal(hello.remotePort, localPort);
      await assert.rejects(open(`${ws}/limit/echo.js`), (err: { status?: number }) => err.status === 503);
      await closeClient(held.pop()!.ws);
      // The worker reports the close over IPC a moment after the client sees it: bounded retries.
      let extra: Opened | undefined;
      for (let attempt = 0; attempt < 200 && extra === undefined; attempt++) {
        extra = await open(`${ws}/limit/echo.js`).catch(() => undefined);
        if (extra === undefined) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(extra, 'a slot was free again after a close');
      held.push(extra);
    } finally {
      for (const { ws: client } of held) client.terminate();
    }
  });

  it('closes a handed-off WebSocket with 1001 when a recycle’s gracefulShutdownTimeout ends', async () => {
    const { ws: client, hello, localPort } = await open(`${ws}/recycle/echo.js`);
    assert.equal(hello.remotePort, localPort);
    const closed = once(client, 'close');
    await fetchRaw(`http://127.0.0.1:${new URL(ws).port}`, '/recycle/echo.js?recycle');
    // The old worker keeps the connection while the new generation serves (bounded by requests).
    let pid = String(hello.pid);
    for (let attempt = 0; attempt < 5000 && pid === String(hello.pid); attempt++) {
      pid = (await fetchRaw(`http://127.0.0.1:${new URL(ws).port}`, '/recycle/echo.js')).text.split(' ')[1]!;
    }
    assert.notEqual(pid, String(hello.pid));
    assert.equal(client.readyState, WebSocket.OPEN);
    assert.deepEqual(await echo(client, 2), ['message 0', 'message 1']);
    const [code, reason] = await closed;
    assert.equal(code, 1001);
    assert.equal(String(reason), 'going away');
  });

  it('closes the client when its worker is killed mid-connection, and the next connection works', async () => {
    const { ws: client, hello, localPort } = await open(`${ws}/echo/echo.js?probe=killed`);
    assert.equal(hello.remotePort, localPort);
    const closed = once(client, 'close');
    process.kill(hello.pid, 'SIGKILL');
    const [code] = await closed;
    assert.equal(code, 1006);
    const line = await accessLogLine(path.join(logs, 'handoff'), '/echo/echo.js', 'killed');
    assert.equal(line['sc-status'], '101');
    let next: Opened | undefined;
    for (let attempt = 0; attempt < 200 && next === undefined; attempt++) next = await open(`${ws}/echo/echo.js`).catch(() => undefined);
    assert.ok(next);
    assert.notEqual(next.hello.pid, hello.pid);
    assert.equal(next.hello.remotePort, next.localPort);
    await closeClient(next.ws);
  });
});

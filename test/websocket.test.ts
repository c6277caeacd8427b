/**
 * WebSockets end to end through the real binary (spec 2.5, 2.6): ws echo and push apps,
 * socket.io over two processes with sticky sessions, the per-process limit counting open
 * WebSockets, and a WebSocket held across a recycle until gracefulShutdownTimeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { io as ioClient } from 'socket.io-client';
import { fetchRaw, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';

/** open connects a WebSocket and resolves with it and its first message, or rejects with the HTTP status. */
function open(url: string): Promise<{ ws: WebSocket; first: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('message', (data) => resolve({ ws, first: String(data) }));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

describe('WebSockets', () => {
  let host: RunningHost;
  let wsBase: string;
  before(async () => {
    host = await startNodehost(`${SITES}ws`);
    wsBase = host.url.replace('http://', 'ws://');
  });
  after(async () => {
    await host.stop();
  });

  it('echoes 5 messages in order through the ws library, with the target and X-Forwarded-For as sent', async () => {
    const { ws, first } = await open(`${wsBase}/echo/echo.js/chat?room=1`);
    const hello = JSON.parse(first) as { url: string; xff: string };
    assert.equal(hello.url, '/echo/echo.js/chat?room=1');
    const got: string[] = [];
    const done = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        got.push(String(data));
        if (got.length === 5) resolve();
      }),
    );
    for (let i = 0; i < 5; i++) ws.send(`message ${i}`);
    await done;
    assert.deepEqual(
      got,
      [0, 1, 2, 3, 4].map((i) => `message ${i}`),
    );
    ws.close(1000);
    const [code] = await once(ws, 'close');
    assert.equal(code, 1000);
  });

  it('delivers server pushes (one, two, three) and the close', async () => {
    const ws = new WebSocket(`${wsBase}/echo/push.js`);
    const got: string[] = [];
    ws.on('message', (data) => got.push(String(data)));
    const [code, reason] = await once(ws, 'close');
    assert.deepEqual(got, ['one', 'two', 'three']);
    assert.equal(code, 1000);
    assert.equal(String(reason), 'done');
  });

  it('answers an upgrade for a URL nobody serves like any request (404), and plain requests still work', async () => {
    await assert.rejects(open(`${wsBase}/nothing-here.js`), (err: { status?: number }) => err.status === 404);
    const reply = await fetchRaw(host.url, '/echo/echo.js/plain');
    assert.match(reply.text, /^echo \d+ \/echo\/echo.js\/plain$/);
  });

  it('keeps socket.io on one of 2 processes with sticky sessions (polling, then upgrade) for 20 messages', async () => {
    // withCredentials makes the node client keep cookies (a browser does so by default); transports stay the defaults.
    const socket = ioClient(host.url, { path: '/sticky/sio.js/socket.io', reconnection: false, withCredentials: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const pids = new Set<number>();
      const transports = new Set<string>();
      for (let n = 0; n < 20; n++) {
        const reply = new Promise<{ n: number; pid: number; transport: string }>((resolve) => socket.once('reply', resolve));
        socket.emit('msg', n);
        const got = await reply;
        assert.equal(got.n, n);
        pids.add(got.pid);
        transports.add(got.transport);
        if (n === 9 && socket.io.engine.transport.name !== 'websocket') await new Promise<void>((resolve) => socket.io.engine.once('upgrade', () => resolve()));
      }
      assert.equal(pids.size, 1, 'every message reached the same process');
      assert.equal(socket.io.engine.transport.name, 'websocket');
    } finally {
      socket.close();
    }
  });

  it('sets the sticky cookie on the first response and honours it afterwards', async () => {
    const first = await fetchRaw(host.url, '/sticky/sio.js/x');
    const cookie = first.headers['set-cookie']?.[0] ?? '';
    assert.match(cookie, /^iisnode\.session\.cookie=\d$/);
    const pid = first.text.split(' ')[1];
    for (let i = 0; i < 4; i++) {
      const again = await fetchRaw(host.url, '/sticky/sio.js/x', { headers: { cookie } });
      assert.equal(again.text.split(' ')[1], pid);
      assert.equal(again.headers['set-cookie'], undefined);
    }
  });

  it('counts open WebSockets against maxConcurrentRequestsPerProcess: 200 fit on 2 x 100, the next gets 503', async () => {
    const sockets: WebSocket[] = [];
    try {
      const pids = new Map<string, number>();
      for (let batch = 0; batch < 4; batch++) {
        const opened = await Promise.all(Array.from({ length: 50 }, () => open(`${wsBase}/limit/hold.js`)));
        for (const { ws, first } of opened) {
          sockets.push(ws);
          pids.set(first, (pids.get(first) ?? 0) + 1);
        }
      }
      assert.equal(sockets.length, 200);
      assert.deepEqual([...pids.values()].sort(), [100, 100]);
      await assert.rejects(open(`${wsBase}/limit/hold.js`), (err: { status?: number }) => err.status === 503);
      // Closing one frees its slot.
      const closing = sockets.pop()!;
      const closed = once(closing, 'close');
      closing.close();
      await closed;
      let extra: WebSocket | undefined;
      // The host notices the close a moment after the client does; retry a bounded number of times.
      for (let attempt = 0; attempt < 50 && extra === undefined; attempt++) {
        extra = await open(`${wsBase}/limit/hold.js`).then(
          (r) => r.ws,
          () => undefined,
        );
        if (extra === undefined) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(extra, 'a slot was free again after a close');
      sockets.push(extra);
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });

  it('keeps a WebSocket open across a recycle, then closes it with 1001 when gracefulShutdownTimeout ends', async () => {
    const { ws, first: oldPid } = await open(`${wsBase}/recycle/app.js`);
    const closed = once(ws, 'close');
    await fetchRaw(host.url, '/recycle/app.js?recycle');
    // The new generation serves new requests while the old WebSocket still works (the old
    // generation serves until the new one is up: bounded by requests, not by time; the 5 s
    // gracefulShutdownTimeout leaves a loaded machine room to see the switch before the close).
    let newPid = oldPid;
    for (let attempt = 0; attempt < 5000 && newPid === oldPid; attempt++) newPid = (await fetchRaw(host.url, '/recycle/app.js')).text;
    assert.notEqual(newPid, oldPid);
    assert.equal(ws.readyState, WebSocket.OPEN);
    const [code, reason] = await closed;
    assert.equal(code, 1001);
    assert.equal(String(reason), 'going away');
  });
});

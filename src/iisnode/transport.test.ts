/**
 * Transport tests against scripted upstream servers on Unix sockets: exact bytes on the wire
 * decide the cases a real node app cannot produce on demand (a pooled connection that dies,
 * a malformed or oversized response head).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { NodehostError } from '../errors.js';
import { RequestContext } from '../http/request-context.js';
import { errorStep } from '../pipeline/error-step.js';
import { buildRequestHead } from './forward-headers.js';
import { Exchange, Transport, type ExchangeListener } from './transport.js';

let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-transport-test-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** upstream starts a raw server; `onRequest(socket, index, requestOnConnection)` answers each request head. */
async function upstream(
  name: string,
  onRequest: (socket: net.Socket, requestOnConnection: number) => void,
): Promise<{ socketPath: string; connections: () => number; close: () => Promise<void> }> {
  const socketPath = path.join(dir, name);
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    let served = 0;
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        served++;
        onRequest(socket, served);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface Front {
  port: number;
  errors: (NodehostError | undefined)[];
  close: () => Promise<void>;
}

/** front is a client-facing server that forwards every request through `transport` to `socketPath`. */
async function front(transport: Transport, socketPath: string): Promise<Front> {
  const errors: (NodehostError | undefined)[] = [];
  const listener: ExchangeListener = {
    onExchangeEnd(exchange, error) {
      errors.push(error);
      if (error !== undefined && !exchange.isHeadSent) {
        exchange.ctx.res.statusCode = error.status;
        exchange.ctx.res.setHeader('X-Substatus', String(error.substatus));
        exchange.ctx.res.end(error.code);
      }
    },
    debugHeader: () => undefined,
  };
  const target = { socketPath };
  const server = http.createServer((req, res) => {
    const ctx = new RequestContext(req, res, { root: dir, name: 't' }, false, errorStep);
    transport.forward(new Exchange(ctx, target, buildRequestHead(ctx, { enableXFF: false, promoted: [] }), listener));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    errors,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function get(port: number, target = '/'): Promise<{ status: number; substatus: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: target, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, substatus: res.headers['x-substatus'] as string | undefined, body }));
        res.on('close', () => {
          if (!res.complete) reject(new Error(`response cut short after ${body.length} bytes`));
        });
      })
      .on('error', reject);
  });
}

const SETTINGS = { poolSize: 512, maxIdleMs: 30000, maxHeadBytes: 65536, flushResponse: false };
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

test('a pooled connection that dies before the request is retried once on a fresh connection', async () => {
  // The upstream answers the first request of each connection and kills the connection at the second.
  const up = await upstream('retry.sock', (socket, n) => (n === 1 ? socket.write(OK) : socket.destroy()));
  const transport = new Transport(SETTINGS);
  const f = await front(transport, up.socketPath);
  try {
    assert.equal((await get(f.port)).body, 'ok');
    const second = await get(f.port);
    assert.equal(second.status, 200);
    assert.equal(second.body, 'ok');
    assert.equal(up.connections(), 2);
    assert.deepEqual(f.errors, [undefined, undefined]);
  } finally {
    transport.close();
    await f.close();
    await up.close();
  }
});

test('a fresh connection closed before the response head is 500.1013, without retry', async () => {
  const up = await upstream('lost.sock', (socket) => socket.destroy());
  const transport = new Transport(SETTINGS);
  const f = await front(transport, up.socketPath);
  try {
    const reply = await get(f.port);
    assert.equal(reply.status, 500);
    assert.equal(reply.substatus, '1013');
    assert.equal(up.connections(), 1);
  } finally {
    transport.close();
    await f.close();
    await up.close();
  }
});

test('a malformed response head is 500.1014, an oversized one 500.1012', async () => {
  const bad = await upstream('bad.sock', (socket) => socket.end('NOT HTTP AT ALL\r\n\r\n'));
  const big = await upstream('big.sock', (socket) => socket.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(2000)}\r\nContent-Length: 0\r\n\r\n`));
  const transport = new Transport({ ...SETTINGS, maxHeadBytes: 1024 });
  const f1 = await front(transport, bad.socketPath);
  const f2 = await front(transport, big.socketPath);
  try {
    assert.equal((await get(f1.port)).substatus, '1014');
    assert.equal((await get(f2.port)).substatus, '1012');
  } finally {
    transport.close();
    await f1.close();
    await f2.close();
    await bad.close();
    await big.close();
  }
});

test('a response cut short after its head destroys the client response', async () => {
  const up = await upstream('cut.sock', (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
    setImmediate(() => socket.destroy());
  });
  const transport = new Transport(SETTINGS);
  const f = await front(transport, up.socketPath);
  try {
    await assert.rejects(get(f.port), /cut short after 7 bytes/);
    assert.equal(f.errors.length, 1);
    assert.equal(f.errors[0]?.code, 'NH_ERR_WORKER_RESPONSE_BODY');
  } finally {
    transport.close();
    await f.close();
    await up.close();
  }
});

test('a request head over maxRequestBufferSize is 500.1005 and never sent', async () => {
  const up = await upstream('head.sock', (socket) => socket.write(OK));
  const transport = new Transport({ ...SETTINGS, maxHeadBytes: 200 });
  const f = await front(transport, up.socketPath);
  try {
    const reply = await get(f.port, '/' + 'x'.repeat(300));
    assert.equal(reply.substatus, '1005');
    assert.equal(up.connections(), 0);
  } finally {
    transport.close();
    await f.close();
    await up.close();
  }
});

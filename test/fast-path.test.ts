/**
 * The fast path (src/server/fast-path/): nodehost reads plain requests itself and hands every
 * other connection to node's http server. Clients must not be able to tell which one answered:
 * these tests send the same requests both ways (an empty chunked body makes a request node's)
 * and compare the bytes, and they cross from one to the other on one connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest } from '../src/control/control-client.js';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { RawConnection, headerOf, type RawResponse } from './helpers/raw-http.js';

/** A private copy of the main test site: the control socket (used below) is found by site folder. */
const COPY = mkdtempSync(join(tmpdir(), 'nodehost-fast-path-'));
const SITE = join(COPY, 'main');

/** request renders a request head; `node: true` adds the header that sends it to node's server. */
function request(method: string, target: string, headers: string[] = [], options: { node?: boolean } = {}): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers];
  if (options.node === true) lines.push('Transfer-Encoding: chunked');
  return lines.join('\r\n') + '\r\n\r\n' + (options.node === true ? '0\r\n\r\n' : '');
}

/** comparable drops what differs between any two responses: the Date headers (the app's and nodehost's). */
function comparable(response: RawResponse): { status: number; headers: string[]; body: string } {
  return {
    status: response.status,
    headers: response.headers.filter(([name]) => name.toLowerCase() !== 'date').map(([name, value]) => `${name}: ${value}`),
    body: response.body.toString('latin1'),
  };
}

async function exchange(host: RunningHost, head: string, isHead = false): Promise<RawResponse> {
  const connection = await RawConnection.open(host.port);
  try {
    await connection.write(head);
    return await connection.read(isHead);
  } finally {
    connection.close();
  }
}

describe('fast path', () => {
  let host: RunningHost;

  before(async () => {
    cpSync(join(SITES, 'main'), SITE, { recursive: true });
    cpSync(join(SITES, '_lib'), join(COPY, '_lib'), { recursive: true });
    host = await startNodehost(SITE);
  });

  after(async () => {
    assert.equal(await host.stop(), 0);
    rmSync(COPY, { recursive: true, force: true });
  });

  test('answers exactly as node does: app, static file, error pages, redirects, HEAD, 304, ranges, repeated and chunked headers', async () => {
    const etag = headerOf(await exchange(host, request('GET', '/style.css')), 'etag')!;
    assert.ok(etag);
    const cases: [string, string, string[]][] = [
      ['GET', '/hello.js', []],
      ['GET', '/hello.js/headers', []],
      ['GET', '/hello.js/chunked', []],
      ['GET', '/hello.js/big?mb=1&length', []],
      ['HEAD', '/hello.js', []],
      ['GET', '/style.css', []],
      ['HEAD', '/style.css', []],
      ['GET', '/style.css', [`If-None-Match: ${etag}`]],
      ['GET', '/style.css', ['Range: bytes=2-5']],
      ['GET', '/style.css', ['Range: bytes=999999-']],
      ['GET', '/no-such-file.txt', []],
      ['GET', '/secret/x.txt', []],
      ['GET', '/app', []],
      ['GET', '/hello.js', ['Connection: close']],
      ['DELETE', '/style.css', []],
    ];
    for (const [method, target, headers] of cases) {
      const fast = await exchange(host, request(method, target, headers), method === 'HEAD');
      const node = await exchange(host, request(method, target, headers, { node: true }), method === 'HEAD');
      assert.deepEqual(comparable(fast), comparable(node), `${method} ${target} ${headers.join(' ')}`);
    }
  });

  test('a keep-alive connection goes on with node once a request with a body comes, and stays correct', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      await connection.write(request('GET', '/hello.js/count'));
      const first = await connection.read();
      assert.equal(first.status, 200);
      const [pid, count] = first.body.toString().split(' ').map(Number);
      await connection.write('POST /hello.js/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
      const echoed = await connection.read();
      assert.equal(echoed.status, 200);
      assert.equal(echoed.body.toString(), 'hello');
      await connection.write(request('GET', '/hello.js/count'));
      const third = await connection.read();
      assert.equal(third.status, 200);
      const [pid3, count3] = third.body.toString().split(' ').map(Number);
      // One worker by default: the same process counts on.
      assert.equal(pid3, pid);
      assert.ok(count3! > count!);
      await connection.write(request('GET', '/style.css'));
      assert.equal((await connection.read()).status, 200);
    } finally {
      connection.close();
    }
  });

  test('pipelined requests are answered in order, in one write or back to back', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      await connection.write(request('GET', '/hello.js') + request('GET', '/style.css') + request('HEAD', '/hello.js'));
      assert.equal((await connection.read()).body.toString(), 'Hello, world! [main]');
      assert.equal(headerOf(await connection.read(), 'content-type'), 'text/css');
      assert.equal((await connection.read(true)).status, 200);
      await connection.write(request('GET', '/hello.js/chunked'));
      await connection.write(request('GET', '/hello.js'));
      assert.equal(headerOf(await connection.read(), 'transfer-encoding'), 'chunked');
      assert.equal((await connection.read()).body.toString(), 'Hello, world! [main]');
    } finally {
      connection.close();
    }
  });

  test('a head that arrives in pieces is read whole', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      const head = request('GET', '/hello.js', ['User-Agent: pieces', 'Accept: */*']);
      for (let at = 0; at < head.length; at += 7) await connection.write(head.slice(at, at + 7));
      const response = await connection.read();
      assert.equal(response.status, 200);
      assert.equal(response.body.toString(), 'Hello, world! [main]');
    } finally {
      connection.close();
    }
  });

  test('an idle keep-alive connection is closed by the server after the timeout its Keep-Alive header names', { timeout: 30_000 }, async () => {
    const connection = await RawConnection.open(host.port);
    try {
      await connection.write(request('GET', '/hello.js'));
      const response = await connection.read();
      assert.equal(response.status, 200);
      assert.equal(headerOf(response, 'keep-alive'), 'timeout=5');
      await connection.write(request('GET', '/hello.js'));
      assert.equal((await connection.read()).status, 200);
      // The fast path's sweep, not a timer per socket, closes it: wait for that close.
      await connection.closed();
    } finally {
      connection.close();
    }
  });

  test('Connection: close is honoured: the response says so and the server closes', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      await connection.write(request('GET', '/hello.js', ['Connection: close']));
      const response = await connection.read();
      assert.equal(response.status, 200);
      assert.equal(headerOf(response, 'connection'), 'close');
      await connection.closed();
    } finally {
      connection.close();
    }
  });

  test("what the fast path does not read gets node's answers: HTTP/1.0, no Host, a bad header line, an unknown method", async () => {
    const http10 = await RawConnection.open(host.port);
    try {
      await http10.write('GET /hello.js HTTP/1.0\r\n\r\n');
      const response = await http10.read();
      assert.equal(response.status, 200);
      assert.equal(response.body.toString(), 'Hello, world! [main]');
      await http10.closed();
    } finally {
      http10.close();
    }
    assert.equal((await exchange(host, 'GET /hello.js HTTP/1.1\r\n\r\n')).status, 400);
    assert.equal((await exchange(host, 'GET /hello.js HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n')).status, 400);
    assert.equal((await exchange(host, 'GET /hello.js HTTP/1.1\r\nHost: 127.0.0.1\r\n folded\r\n\r\n')).status, 400);
    const webdav = await exchange(host, request('PROPFIND', '/style.css'));
    assert.equal(webdav.status, 405);
  });

  test('a client that half-closes after its request has it aborted (as node and nginx do), and the connection ends', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      // /hold answers only when the request body ends, which a half-closed client's never does.
      await connection.write(request('POST', '/hello.js/hold', ['Content-Length: 10']));
      connection.socket.end();
      await connection.closed();
    } finally {
      connection.close();
    }
  });

  test('Content-Length bodies: with the head, in pieces, large, and answered before they were read', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      const post = (target: string, length: number) =>
        `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n`;
      await connection.write(post('/hello.js/echo', 5) + 'hello');
      assert.equal((await connection.read()).body.toString(), 'hello');
      await connection.write(post('/hello.js/echo', 9));
      for (const piece of ['one', 'two', 'six']) await connection.write(piece);
      assert.equal((await connection.read()).body.toString(), 'onetwosix');
      const big = Buffer.alloc(8 * 1024 * 1024, 'nodehost');
      await connection.write(post('/hello.js/upload', big.length));
      await connection.write(big);
      const upload = JSON.parse((await connection.read()).body.toString()) as { bytes: number; sha256: string };
      assert.equal(upload.bytes, big.length);
      assert.equal(upload.sha256, createHash('sha256').update(big).digest('hex'));
      // The default route answers at once without reading: the rest of the body is dropped
      // and the connection goes on with the request after it.
      await connection.write(post('/hello.js', 100_000) + 'x'.repeat(1000));
      assert.equal((await connection.read()).body.toString(), 'Hello, world! [main]');
      await connection.write('y'.repeat(99_000) + request('GET', '/hello.js/count'));
      assert.equal((await connection.read()).status, 200);
    } finally {
      connection.close();
    }
  });

  test('a client that leaves in the middle of its request body does not disturb the next request', async () => {
    const connection = await RawConnection.open(host.port);
    await connection.write('POST /hello.js/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\npartial');
    connection.close();
    const next = await exchange(host, request('GET', '/hello.js'));
    assert.equal(next.status, 200);
    assert.equal(next.body.toString(), 'Hello, world! [main]');
    // The abandoned upload must end on the host too (else it would hold shutdown and a slot):
    // the application's active count comes back to 0.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const reply = await adminRequest(SITE, 'GET', '/v1/apps');
      const app = (reply.body as { apps: { script: string; active: number }[] }).apps.find((a) => a.script.endsWith('hello.js'))!;
      if (app.active === 0) break;
      assert.ok(Date.now() < deadline, `the abandoned upload is still active: ${JSON.stringify(app)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  test('a client that leaves in the middle of a response does not disturb the next one', async () => {
    const connection = await RawConnection.open(host.port);
    await connection.write(request('GET', '/hello.js/big?mb=32'));
    await new Promise<void>((resolve) => connection.socket.once('data', () => resolve()));
    connection.close();
    const next = await exchange(host, request('GET', '/hello.js'));
    assert.equal(next.status, 200);
    assert.equal(next.body.toString(), 'Hello, world! [main]');
  });
});

describe('fast path, precomputed heads', () => {
  const copy = mkdtempSync(join(tmpdir(), 'nodehost-fast-path-heads-'));
  let host: RunningHost;

  before(async () => {
    cpSync(join(SITES, 'custom-headers'), copy, { recursive: true });
    host = await startNodehost(copy);
  });

  after(async () => {
    assert.equal(await host.stop(), 0);
    rmSync(copy, { recursive: true, force: true });
  });

  test('a file from memory answers as node does: 200, HEAD, 304, Connection: close, clientCache and a folder adding custom headers', async () => {
    const targets = ['/file.txt', '/max/a.txt', '/expires/a.txt', '/sub/a.txt', '/sub/noxpb/a.txt'];
    for (const target of targets) {
      // The first request reads the file into memory; the rest are answered from there.
      const first = await exchange(host, request('GET', target));
      assert.equal(first.status, 200, target);
      const etag = headerOf(first, 'etag')!;
      const cases: [string, string[]][] = [
        ['GET', []],
        ['HEAD', []],
        ['GET', [`If-None-Match: ${etag}`]],
        ['HEAD', [`If-None-Match: ${etag}`]],
        ['GET', [`If-Modified-Since: ${headerOf(first, 'last-modified')}`]],
        ['GET', ['If-None-Match: "other"']],
        ['GET', ['Connection: close']],
      ];
      for (const [method, headers] of cases) {
        const fast = await exchange(host, request(method, target, headers), method === 'HEAD');
        const node = await exchange(host, request(method, target, headers, { node: true }), method === 'HEAD');
        assert.deepEqual(comparable(fast), comparable(node), `${method} ${target} ${headers.join(' ')}`);
        // The same answer again comes from the bytes kept for it.
        assert.deepEqual(comparable(await exchange(host, request(method, target, headers), method === 'HEAD')), comparable(fast));
      }
    }
  });
});

describe('fast path, output-cache hits', () => {
  const copy = mkdtempSync(join(tmpdir(), 'nodehost-fast-path-cache-'));
  let host: RunningHost;

  before(async () => {
    cpSync(join(SITES, 'output-cache'), copy, { recursive: true });
    host = await startNodehost(copy);
  });

  after(async () => {
    assert.equal(await host.stop(), 0);
    rmSync(copy, { recursive: true, force: true });
  });

  /** withoutAge drops Age too: the two answers may straddle a second. */
  function withoutAge(response: RawResponse): ReturnType<typeof comparable> {
    const out = comparable(response);
    return { ...out, headers: out.headers.filter((line) => !line.toLowerCase().startsWith('age:')) };
  }

  /** viaNode sends a request on a connection handed to node's server first (a request with a body bypasses the cache). */
  async function viaNode(method: string, target: string, headers: string[]): Promise<RawResponse> {
    const connection = await RawConnection.open(host.port);
    try {
      await connection.write(request('POST', '/collapse/app.js?count', [], { node: true }));
      assert.equal((await connection.read()).status, 200);
      await connection.write(request(method, target, headers));
      return await connection.read(method === 'HEAD');
    } finally {
      connection.close();
    }
  }

  test('a hit answers as node does: 200, HEAD, 304 and Connection: close', async () => {
    for (const target of ['/collapse/app.js?fast-node=1', '/collapse/app.js?fast-node=2&mode=validators']) {
      const first = await exchange(host, request('GET', target));
      assert.equal(headerOf(first, 'x-nodehost-cache'), 'miss', target);
      const cases: [string, string[]][] = [
        ['GET', []],
        ['HEAD', []],
        ['GET', ['If-None-Match: "v1"']],
        ['GET', ['Connection: close']],
      ];
      for (const [method, headers] of cases) {
        const what = `${method} ${target} ${headers.join(' ')}`;
        const fast = await exchange(host, request(method, target, headers), method === 'HEAD');
        const node = await viaNode(method, target, headers);
        assert.equal(headerOf(fast, 'x-nodehost-cache'), 'hit', what);
        assert.match(headerOf(fast, 'age')!, /^\d+$/, what);
        assert.deepEqual(withoutAge(fast), withoutAge(node), what);
      }
    }
  });
});

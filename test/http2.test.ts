/**
 * HTTP/2 on https bindings: ALPN h2 with HTTP/1.1 fallback, the same pipeline either way
 * (static files, a node application that still receives HTTP/1.1 with Host from :authority),
 * connection headers HTTP/2 forbids dropped, and a large download that follows flow control
 * (the worker itself waits while the client reads nothing).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createTestCa, type TestCa } from './helpers/certificates.js';
import { SITES, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-h2-'));
const run = promisify(execFile);

/** rssOf is a process's resident memory in bytes (Linux). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

after(() => rmSync(DIR, { recursive: true, force: true }));

describe('HTTP/2', () => {
  let host: RunningHost;
  let ca: TestCa;
  let port: number;
  let session: ClientHttp2Session;

  function h2(path: string, options: { method?: string; body?: string } = {}): Promise<{ headers: IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':path': path, ':method': options.method ?? 'GET' }, { endStream: options.body === undefined });
      let headers: IncomingHttpHeaders = {};
      const parts: Buffer[] = [];
      stream.on('response', (h) => (headers = h));
      stream.on('data', (chunk: Buffer) => parts.push(chunk));
      stream.on('end', () => resolve({ headers, text: Buffer.concat(parts).toString() }));
      stream.on('error', reject);
      if (options.body !== undefined) stream.end(options.body);
    });
  }

  before(async () => {
    ca = createTestCa(DIR);
    const cert = ca.issue('site', ['site.example.test']);
    mkdirSync(join(DIR, 'sites'));
    cpSync(join(SITES, '_lib'), join(DIR, 'sites', '_lib'), { recursive: true });
    cpSync(join(SITES, 'main', 'xff'), join(DIR, 'sites', 'site', 'xff'), { recursive: true });
    writeFileSync(join(DIR, 'sites', 'site', 'style.css'), 'body { color: red }\n');
    port = await freePort();
    writeFileSync(
      join(DIR, 'nodehost.yml'),
      [
        'sites:',
        '  - name: site',
        '    root: sites/site',
        `    bindings: ["https://*:${port}"]`,
        `    tls: { certificate: ${cert.certificate}, key: ${cert.key} }`,
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
    session = connect(`https://site.example.test:${port}`, {
      ca: ca.ca,
      host: '127.0.0.1',
      servername: 'site.example.test',
      lookup: (_h, _o, cb) => cb(null, '127.0.0.1', 4),
    } as never);
    session.on('error', () => undefined);
  });
  after(async () => {
    session?.close();
    await host?.stop();
  });

  test('a static file over h2', async () => {
    const reply = await h2('/style.css');
    assert.equal(reply.headers[':status'], 200);
    assert.equal(reply.text, 'body { color: red }\n');
    assert.match(String(reply.headers['content-type']), /text\/css/);
    assert.equal(session.alpnProtocol, 'h2');
  });

  test('a node application over h2 gets HTTP/1.1 with Host from :authority; connection headers are dropped', async () => {
    const reply = await h2('/xff/server.js/request');
    assert.equal(reply.headers[':status'], 200);
    assert.equal(reply.headers.connection, undefined);
    assert.equal(reply.headers['keep-alive'], undefined);
    assert.equal(reply.headers['transfer-encoding'], undefined);
    const seen = JSON.parse(reply.text) as { httpVersion: string; rawHeaders: string[]; url: string };
    assert.equal(seen.httpVersion, '1.1');
    assert.equal(seen.url, '/xff/server.js/request');
    assert.deepEqual(seen.rawHeaders.slice(0, 2), ['Host', `site.example.test:${port}`]);
    assert.ok(!seen.rawHeaders.some((name) => name.startsWith(':')));
    const proto = seen.rawHeaders[seen.rawHeaders.indexOf('X-Forwarded-Proto') + 1];
    assert.equal(proto, 'https');
  });

  test('a request body without content-length reaches the application', async () => {
    const reply = await h2('/xff/server.js/upload', { method: 'POST', body: 'hello body' });
    const seen = JSON.parse(reply.text) as { bytes: number; te: string };
    assert.equal(seen.bytes, 10);
    // A chunked response (the app's JSON has a Content-Length, this one does not) comes back whole too.
    const chunked = await h2('/xff/server.js/big?mb=1');
    assert.equal(chunked.text.length, 1024 * 1024);
  });

  test('curl --http2 and the HTTP/1.1 fallback', async () => {
    const curl = async (flag: string) =>
      (
        await run('curl', [
          '-sS',
          flag,
          '--cacert',
          join(DIR, 'root.pem'),
          '--resolve',
          `site.example.test:${port}:127.0.0.1`,
          '-o',
          '/dev/null',
          '-w',
          '%{http_version} %{http_code}',
          `https://site.example.test:${port}/xff/server.js`,
        ])
      ).stdout;
    assert.equal(await curl('--http2'), '2 200');
    assert.equal(await curl('--http1.1'), '1.1 200');
    const fallback = await new Promise<{ status: number; text: string; alpn: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, servername: 'site.example.test', ca: ca.ca, path: '/style.css', agent: false }, (res) => {
        const parts: Buffer[] = [];
        const alpn = String((res.socket as import('node:tls').TLSSocket).alpnProtocol);
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(parts).toString(), alpn }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(fallback.status, 200);
    assert.equal(fallback.text, 'body { color: red }\n');
    assert.equal(fallback.alpn, 'false');
  });

  test("HTTP/1.1 over TLS that the fast path hands to node (a chunked body) is served through node's 'request' event", async () => {
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, servername: 'site.example.test', ca: ca.ca, path: '/xff/server.js/upload', method: 'POST', agent: false },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (chunk: Buffer) => parts.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(parts).toString() }));
        },
      );
      req.on('error', reject);
      // Two writes without a length: node's client frames the body chunked.
      req.write('chunked ');
      req.end('body');
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.text).bytes, 12);
    assert.equal(JSON.parse(reply.text).te, 'chunked');
  });

  test('a 30 MB download follows flow control: while the client does not read, the worker waits and the host holds no more than a window', async () => {
    // A second connection asks the app how far it got: the paused download holds the first one's window.
    const probe = connect(`https://site.example.test:${port}`, {
      ca: ca.ca,
      host: '127.0.0.1',
      servername: 'site.example.test',
      lookup: (_h, _o, cb) => cb(null, '127.0.0.1', 4),
    } as never);
    const state = () =>
      new Promise<{ sent: number; isWaiting: boolean }>((resolve, reject) => {
        const stream = probe.request({ ':path': '/xff/server.js/bigstate' });
        let text = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve(JSON.parse(text) as { sent: number; isWaiting: boolean }));
        stream.on('error', reject);
      });
    const rssBefore = rssOf(host.child.pid!);
    const stream = session.request({ ':path': '/xff/server.js/big?mb=30&length' });
    const status = await new Promise<number>((resolve) => stream.once('response', (headers) => resolve(Number(headers[':status']))));
    assert.equal(status, 200);
    stream.pause();
    // The app fills the host's window and the socket buffers, then waits for 'drain'.
    let seen = await state();
    for (let i = 0; i < 500 && !seen.isWaiting; i++) seen = await state();
    assert.ok(seen.isWaiting, 'the app never had to wait for the host');
    // And it stays blocked: ten more looks, no further megabyte handed over.
    for (let i = 0; i < 10; i++) assert.deepEqual(await state(), seen);
    assert.ok(seen.sent <= 4, `the app wrote ${seen.sent} MB while the client read nothing`);
    const grown = rssOf(host.child.pid!) - rssBefore;
    assert.ok(grown < 20 * 1024 * 1024, `the host grew by ${grown} bytes while the client read nothing`);
    let total = 0;
    stream.on('data', (chunk: Buffer) => (total += chunk.length));
    stream.resume();
    await new Promise((resolve) => stream.on('end', resolve));
    assert.equal(total, 30 * 1024 * 1024);
    probe.close();
  });
});

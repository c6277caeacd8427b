/**
 * HTTP/2 requests as nodehost's own stream adapters serve them (src/server/http2/): request
 * bodies with and without content-length reach the worker whole, HEAD, 204 and 304 carry no
 * body, a client that resets its stream or drops its connection mid-response aborts the
 * worker's request without hurting the host or the session's other streams (and a body cut by
 * a reset never reaches the worker as a whole one), `Expect` and
 * CONNECT get node's answers, and a download to a client with a tiny flow-control window
 * arrives whole.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCa, type TestCa } from './helpers/certificates.js';
import { waitFor } from './helpers/logs.js';
import { SITES, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-h2-streams-'));
const NAME = 'site.example.test';
/** BIG is a static file larger than any flow-control window the tests allow. */
const BIG = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => 97 + (i % 26)));

after(() => rmSync(DIR, { recursive: true, force: true }));

interface H2Reply {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** DATA frames' payload count: 0 for a response whose HEADERS ended the stream. */
  readonly dataEvents: number;
}

/** send makes one request and resolves with the whole response. */
function send(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    stream.on('response', (h) => (head = h));
    stream.on('data', (chunk: Buffer) => parts.push(chunk));
    stream.on('end', () => resolve({ headers: head, body: Buffer.concat(parts), dataEvents: parts.length }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

describe('HTTP/2 streams', () => {
  let host: RunningHost;
  let ca: TestCa;
  let port: number;
  let session: ClientHttp2Session;

  function open(options: { settings?: { initialWindowSize?: number } } = {}): ClientHttp2Session {
    const opened = connect(`https://${NAME}:${port}`, { ca: ca.ca, host: '127.0.0.1', servername: NAME, ...options } as never);
    opened.on('error', () => undefined);
    return opened;
  }

  /** dripState is how the app's latest `drip` response went, asked on a fresh connection. */
  async function dripState(): Promise<{ pieces: number; isClosed: boolean; isFinished: boolean } | null> {
    const probe = open();
    try {
      return JSON.parse((await send(probe, { ':path': '/app.js/dripstate' })).body.toString()) as {
        pieces: number;
        isClosed: boolean;
        isFinished: boolean;
      } | null;
    } finally {
      probe.close();
    }
  }

  /** startDrip opens a `drip` response on `on` and resolves with its stream once its first piece arrived. */
  async function startDrip(on: ClientHttp2Session): Promise<ClientHttp2Stream> {
    const stream = on.request({ ':path': '/app.js/drip' });
    stream.on('error', () => undefined);
    await new Promise((resolve) => stream.once('data', resolve));
    return stream;
  }

  /** untilClosed waits for the app to see its `drip` response closed. */
  async function untilClosed(): Promise<{ pieces: number; isClosed: boolean; isFinished: boolean }> {
    for (let i = 0; i < 200; i++) {
      const state = await dripState();
      if (state?.isClosed === true) return state;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("the app's response was never closed");
  }

  before(async () => {
    ca = createTestCa(DIR);
    const cert = ca.issue('site', [NAME]);
    mkdirSync(join(DIR, 'sites'));
    cpSync(join(SITES, 'h2-pipeline'), join(DIR, 'sites', 'site'), { recursive: true });
    cpSync(join(SITES, '_lib'), join(DIR, 'sites', '_lib'), { recursive: true });
    cpSync(join(SITES, 'main', 'xff'), join(DIR, 'sites', 'site', 'xff'), { recursive: true });
    writeFileSync(join(DIR, 'sites', 'site', 'style.css'), 'body { color: red }\n');
    writeFileSync(join(DIR, 'sites', 'site', 'big.txt'), BIG);
    port = await freePort();
    writeFileSync(
      join(DIR, 'nodehost.yml'),
      [
        'sites:',
        '  - name: site',
        '    root: sites/site',
        `    bindings: ["https://*:${port}"]`,
        `    tls: { certificate: ${cert.certificate}, key: ${cert.key} }`,
        `logs: ${join(DIR, 'logs')}`,
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
    session = open();
  });
  after(async () => {
    session?.close();
    await host?.stop();
  });

  test('a POST body reaches the worker whole: with its content-length as sent, without one in chunked framing', async () => {
    const body = Buffer.from('x'.repeat(100_000));
    const sized = await send(
      session,
      { ':path': '/xff/server.js/echo', ':method': 'POST', 'content-length': String(body.length), 'content-type': 'text/plain' },
      body,
    );
    assert.equal(sized.headers[':status'], 200);
    assert.equal(sized.headers['x-request-cl'], String(body.length));
    assert.equal(sized.headers['x-request-te'], '');
    assert.deepEqual(sized.body, body);
    const unsized = await send(session, { ':path': '/xff/server.js/echo', ':method': 'POST' }, body);
    assert.equal(unsized.headers['x-request-cl'], '');
    assert.equal(unsized.headers['x-request-te'], 'chunked');
    assert.deepEqual(unsized.body, body);
    // A larger upload with a length: every byte, in order.
    const upload = Buffer.from(Array.from({ length: 5 * 1024 * 1024 }, (_, i) => i % 251));
    const hashed = await send(session, { ':path': '/xff/server.js/upload', ':method': 'POST', 'content-length': String(upload.length) }, upload);
    const seen = JSON.parse(hashed.body.toString()) as { bytes: number; sha256: string; te: string };
    assert.deepEqual(seen, { bytes: upload.length, sha256: createHash('sha256').update(upload).digest('hex'), te: '' });
  });

  test('HEAD gets the head a GET would, and no body', async () => {
    const get = await send(session, { ':path': '/xff/server.js/request' });
    const head = await send(session, { ':path': '/xff/server.js/request', ':method': 'HEAD' });
    assert.equal(head.headers[':status'], 200);
    assert.equal(head.headers['content-type'], 'application/json');
    assert.equal(head.body.length, 0);
    assert.ok(get.body.length > 0);
    const file = await send(session, { ':path': '/style.css', ':method': 'HEAD' });
    assert.equal(file.headers[':status'], 200);
    assert.equal(file.headers['content-length'], '20');
    assert.equal(file.dataEvents, 0);
  });

  test('304 and 204 carry no body; the 204 keeps its headers', async () => {
    const first = await send(session, { ':path': '/style.css' });
    const etag = String(first.headers.etag);
    assert.ok(etag.length > 0);
    const again = await send(session, { ':path': '/style.css', 'if-none-match': etag });
    assert.equal(again.headers[':status'], 304);
    assert.equal(again.dataEvents, 0);
    const empty = await send(session, { ':path': '/xff/server.js/nocontent' });
    assert.equal(empty.headers[':status'], 204);
    assert.equal(empty.headers['x-kind'], 'no-content');
    assert.equal(empty.dataEvents, 0);
  });

  for (const [what, code] of [
    ['CANCEL', constants.NGHTTP2_CANCEL],
    ['INTERNAL_ERROR', constants.NGHTTP2_INTERNAL_ERROR],
  ] as const) {
    test(`a stream reset (${what}) mid-response aborts the worker's request; the session's other streams go on`, async () => {
      const stream = await startDrip(session);
      stream.close(code);
      const state = await untilClosed();
      assert.equal(state.isFinished, false);
      const after = await send(session, { ':path': '/style.css' });
      assert.equal(after.headers[':status'], 200);
      assert.equal(host.child.exitCode, null);
    });
  }

  test("a stream reset in the middle of a body without content-length: the worker's request is cut, not ended", async () => {
    const stream = session.request({ ':path': '/app.js/partial', ':method': 'POST' }, { endStream: false });
    stream.on('error', () => undefined);
    stream.write(Buffer.alloc(10_000, 'b'));
    const probe = open();
    const state = async () =>
      JSON.parse((await send(probe, { ':path': '/app.js/partialstate' })).body.toString()) as { bytes: number; isEnded: boolean; isClosed: boolean } | null;
    let seen = await state();
    for (let i = 0; i < 200 && (seen === null || seen.bytes < 10_000); i++) seen = await state();
    assert.equal(seen?.bytes, 10_000);
    stream.close(constants.NGHTTP2_CANCEL);
    for (let i = 0; i < 200 && seen?.isClosed !== true; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = await state();
    }
    probe.close();
    assert.deepEqual(seen, { bytes: 10_000, isEnded: false, isClosed: true });
  });

  test("a connection dropped mid-response aborts the worker's request", async () => {
    const doomed = open();
    await startDrip(doomed);
    doomed.destroy();
    const state = await untilClosed();
    assert.equal(state.isFinished, false);
    assert.equal((await send(session, { ':path': '/style.css' })).headers[':status'], 200);
    assert.doesNotMatch(host.stderr(), /uncaught|TypeError|RangeError/i);
  });

  test('Expect: 100-continue gets an interim 100 before the answer; another expectation 417; CONNECT 405', async () => {
    const body = Buffer.from('continued');
    const reply = await new Promise<{ isContinued: boolean; status: number; text: string }>((resolve, reject) => {
      const stream = session.request({ ':path': '/xff/server.js/upload', ':method': 'POST', expect: '100-continue' });
      let isContinued = false;
      let status = 0;
      let text = '';
      stream.on('continue', () => {
        isContinued = true;
        stream.end(body);
      });
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      stream.on('end', () => resolve({ isContinued, status, text }));
      stream.on('error', reject);
    });
    assert.ok(reply.isContinued, 'no 100 Continue came');
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.text) as { bytes: number }).bytes, body.length);
    assert.equal((await send(session, { ':path': '/style.css', expect: 'something-else' })).headers[':status'], 417);
    assert.equal((await send(session, { ':method': 'CONNECT', ':authority': 'elsewhere.example.test:443' })).headers[':status'], 405);
  });

  test('a large file to a client with a 1 KiB flow-control window arrives whole', async () => {
    const slow = open({ settings: { initialWindowSize: 1024 } });
    try {
      const reply = await send(slow, { ':path': '/big.txt' });
      assert.equal(reply.headers[':status'], 200);
      assert.equal(reply.body.length, BIG.length);
      assert.ok(reply.body.equals(BIG), 'the body differs');
    } finally {
      slow.close();
    }
  });

  test("an access log line's sc-bytes are its own response's, not its session's total so far", async () => {
    // One session: a 3 MiB download first, then two small files; each line counts what its own response sent.
    const own = open();
    try {
      assert.equal((await send(own, { ':path': '/big.txt?probe=h2-bytes-big' })).body.length, BIG.length);
      const small = await send(own, { ':path': '/style.css?probe=h2-bytes-1' });
      assert.equal(small.body.toString(), 'body { color: red }\n');
      await send(own, { ':path': '/style.css?probe=h2-bytes-2' });
    } finally {
      own.close();
    }
    const logDir = join(DIR, 'logs', 'site');
    const lines = await waitFor(
      logDir,
      () => {
        if (!existsSync(logDir)) return undefined;
        const text = readdirSync(logDir)
          .map((name) => readFileSync(join(logDir, name), 'utf8'))
          .join('');
        const found = text.split('\n').filter((line) => line.includes('probe=h2-bytes-'));
        return found.length === 3 ? { text, found } : undefined;
      },
      'three access log lines',
    );
    const fields = /^#Fields: (.*)$/m.exec(lines.text)![1]!.split(' ');
    const bytesOf = (probe: string) => {
      const line = lines.found.find((one) => one.includes(`probe=${probe} `))!;
      return Number(line.split(' ')[fields.indexOf('sc-bytes')]);
    };
    assert.ok(bytesOf('h2-bytes-big') >= BIG.length, `the download's line counts its body: ${bytesOf('h2-bytes-big')}`);
    // A 20-byte file's HEADERS and DATA frames: far below the download the session sent before.
    for (const probe of ['h2-bytes-1', 'h2-bytes-2']) {
      const bytes = bytesOf(probe);
      assert.ok(bytes > 20 && bytes < 2048, `${probe}: sc-bytes ${bytes}`);
    }
  });
});

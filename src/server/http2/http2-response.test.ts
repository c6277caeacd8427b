// Http2Response and Http2Request over a real node:http2 server and client (cleartext h2, in
// process): the head rules (headers given to writeHead win, repeats kept, connection headers
// dropped, node's errors for bad names and values and a refused head that leaves the response
// answerable), the reason phrase kept but not sent, Date, 'finish' / onClosed / 'close' in
// that order, a reset stream closing without 'finish' and aborting its request, and 'drain'.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  connect,
  constants,
  createServer,
  type ClientHttp2Session,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { acceptStreams } from './http2-streams.js';
import type { Http2Request } from './http2-request.js';
import type { Http2Response } from './http2-response.js';

let handle: (req: Http2Request, res: Http2Response) => void = () => undefined;
const server = createServer();
acceptStreams(server as unknown as Http2SecureServer, (req, res) => handle(req, res));
let session: ClientHttp2Session;

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
after(() => {
  session.close();
  server.close();
});

/** fetchH2 makes one request and resolves with the response head and body. */
function fetchH2(headers: OutgoingHttpHeaders = {}, on = session): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = on.request({ ':path': '/', ...headers });
    let head: IncomingHttpHeaders = {};
    let body = '';
    stream.on('response', (h) => (head = h));
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ headers: head, body }));
    stream.on('error', reject);
  });
}

/** errorCodeOf runs `fn` and returns the code of what it threw. */
function errorCodeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

test('headers given to writeHead win over set ones, repeats kept; connection headers dropped; the reason is kept, not sent', async () => {
  let reason = '';
  handle = (req, res) => {
    res.setHeader('X-Given', 'set');
    res.setHeader('X-Kept', 'kept');
    res.setHeader('Connection', 'keep-alive');
    res.writeHead(201, 'Made', ['X-Given', 'one', 'X-Given', 'two', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Content-Type', 'text/plain']);
    reason = res.statusMessage;
    res.end(`${req.method} ${req.url} ${req.httpVersion}`);
  };
  const reply = await fetchH2({ ':path': '/where?q=1' });
  assert.equal(reply.headers[':status'], 201);
  assert.equal(reply.headers['x-given'], 'one, two');
  assert.equal(reply.headers['x-kept'], 'kept');
  for (const name of ['connection', 'keep-alive', 'transfer-encoding']) assert.equal(reply.headers[name], undefined, name);
  assert.equal(reply.body, 'GET /where?q=1 2.0');
  assert.equal(reason, 'Made');
});

test('[name, value] pairs and objects are heads too; Date is sent unless removed', async () => {
  handle = (_req, res) =>
    res
      .writeHead(200, [
        ['X-Pair', 'a'],
        ['X-Pair', 'b'],
      ] as unknown as string[])
      .end();
  const pairs = await fetchH2();
  assert.equal(pairs.headers['x-pair'], 'a, b');
  assert.ok(pairs.headers.date !== undefined);
  handle = (_req, res) => {
    res.removeHeader('Date');
    res.writeHead(200, { 'X-Object': 'o' }).end();
  };
  const object = await fetchH2();
  assert.equal(object.headers['x-object'], 'o');
  assert.equal(object.headers.date, undefined);
});

test("bad names and values get node's errors; a head node refuses leaves the response answerable", async () => {
  const codes: (string | undefined)[] = [];
  handle = (_req, res) => {
    codes.push(errorCodeOf(() => res.setHeader('X-Bad', 'line\r\nbreak')));
    codes.push(errorCodeOf(() => res.setHeader('Bad Name', 'x')));
    codes.push(errorCodeOf(() => res.setHeader(':status', '200')));
    codes.push(errorCodeOf(() => res.writeHead(200, ['X-Bad', 'a\nb'])));
    // Two values of a single-value field: node refuses the head before sending anything.
    res.appendHeader('Content-Type', 'text/plain');
    res.appendHeader('Content-Type', 'text/html');
    codes.push(errorCodeOf(() => res.writeHead(200)));
    assert.equal(res.headersSent, false);
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.writeHead(502, { 'Content-Type': 'text/plain' });
    assert.deepEqual(res.getHeaderNames(), ['content-type']);
    codes.push(errorCodeOf(() => res.setHeader('X-Late', 'x')));
    res.end('answered');
  };
  const reply = await fetchH2();
  assert.deepEqual(codes, [
    'ERR_INVALID_CHAR',
    'ERR_INVALID_HTTP_TOKEN',
    'ERR_INVALID_HTTP_TOKEN',
    'ERR_INVALID_CHAR',
    'ERR_HTTP2_HEADER_SINGLE_VALUE',
    'ERR_HTTP2_HEADERS_SENT',
  ]);
  assert.equal(reply.headers[':status'], 502);
  assert.equal(reply.body, 'answered');
});

test("'finish', then the onClosed hook, then 'close'; end's callback runs", async () => {
  const events: string[] = [];
  const closed = new Promise<void>((resolve) => {
    handle = (_req, res) => {
      res.on('finish', () => events.push('finish'));
      res.on('close', () => {
        events.push(`close ${res.writableFinished}`);
        resolve();
      });
      res.onClosed((what: string) => events.push(what), 'hook');
      res.end('done', () => events.push('callback'));
    };
  });
  assert.equal((await fetchH2()).body, 'done');
  await closed;
  assert.deepEqual(events, ['finish', 'callback', 'hook', 'close true']);
});

test("a stream the client resets closes its response without 'finish' and aborts a request whose body was coming", async () => {
  const events: string[] = [];
  const closed = new Promise<void>((resolve) => {
    handle = (req, res) => {
      req.on('aborted', () => events.push('aborted'));
      req.on('data', () => events.push('data'));
      res.on('finish', () => events.push('finish'));
      res.on('close', () => {
        events.push(`close destroyed=${res.destroyed}`);
        resolve();
      });
      res.writeHead(200);
      res.write('partial');
    };
  });
  const stream = session.request({ ':path': '/', ':method': 'POST' }, { endStream: false });
  stream.on('error', () => undefined);
  stream.write('some body');
  await once(stream, 'data');
  stream.close(constants.NGHTTP2_CANCEL);
  await closed;
  assert.deepEqual(events, ['data', 'aborted', 'close destroyed=true']);
  // The session goes on.
  handle = (_req, res) => res.end('next');
  assert.equal((await fetchH2()).body, 'next');
});

test("write returns false once the client's window is full, and 'drain' follows when it reads", async () => {
  const small = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { settings: { initialWindowSize: 1024 } });
  let refusals = 0;
  let drains = 0;
  const piece = Buffer.alloc(64 * 1024, 'p');
  handle = (_req, res) => {
    let left = 16;
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!res.write(piece)) {
          refusals++;
          assert.ok((res.writableLength ?? 0) > 0);
          res.once('drain', () => {
            drains++;
            pump();
          });
          return;
        }
      }
      res.end();
    };
    pump();
  };
  const reply = await fetchH2({}, small);
  small.close();
  assert.equal(reply.body.length, 16 * piece.length);
  assert.ok(refusals > 0, 'write never refused');
  assert.equal(drains, refusals);
});

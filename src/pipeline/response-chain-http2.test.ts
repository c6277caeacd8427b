// The response chain on node's HTTP/2 compat response, whose own end writes its last piece
// through `this.write`: that piece must go out once, as the filters made it, not be filtered,
// collected or observed a second time (a compressed, rewritten or cached body would be lost).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { HttpResponse } from '../http/http-response.js';
import { RequestContext, type ErrorResponder } from '../http/request-context.js';
import type { BodyFilter, ResponseFilter } from '../http/response-filter.js';
import { ResponseChain } from './response-chain.js';

const NO_ERRORS: ErrorResponder = { respond: () => undefined };
// Brackets each piece: a piece filtered twice shows.
const bracketed: BodyFilter = { mode: 'stream', write: (chunk) => Buffer.from(`[${chunk}]`), end: () => Buffer.from('!') };
const doubled: BodyFilter = { mode: 'buffer', body: (whole) => Buffer.concat([whole, whole]) };
let observed: string[] = [];
const observer: BodyFilter = { mode: 'observe', write: (chunk) => observed.push(chunk.toString()), end: () => observed.push('<end>') };

let filters: readonly BodyFilter[] = [];
const chain = new ResponseChain([0, 1].map((i): ResponseFilter => ({ id: `filter-${i}`, wants: () => filters[i] !== undefined, open: () => filters[i] })));

const server = createServer((req: Http2ServerRequest, res: Http2ServerResponse) => {
  const ctx = new RequestContext(req as unknown as IncomingMessage, res as unknown as HttpResponse, { root: '/', name: 'test' }, false, NO_ERRORS);
  chain.attach(ctx);
  ctx.res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '6' });
  ctx.res.write('abc');
  ctx.res.end('def');
});
let port = 0;
before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

async function fetchH2(): Promise<{ body: string; length: string | undefined }> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({ ':path': '/' });
    const [headers] = (await once(stream, 'response')) as [Record<string, string>];
    let body = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    await once(stream, 'end');
    return { body, length: headers['content-length'] };
  } finally {
    session.close();
  }
}

test('a streaming filter: the last piece is transformed once and sent', async () => {
  filters = [bracketed];
  assert.deepEqual(await fetchH2(), { body: '[abc][def]!', length: undefined });
});

test('a buffering filter: the whole body is sent once, with its new length', async () => {
  filters = [doubled];
  assert.deepEqual(await fetchH2(), { body: 'abcdefabcdef', length: '12' });
});

test('an observer sees each piece once', async () => {
  filters = [observer];
  observed = [];
  assert.deepEqual(await fetchH2(), { body: 'abcdef', length: '6' });
  assert.deepEqual(observed, ['abc', 'def', '<end>']);
  filters = [bracketed, observer];
  observed = [];
  assert.deepEqual(await fetchH2(), { body: '[abc][def]!', length: undefined });
  assert.deepEqual(observed, ['[abc]', '[def]!', '<end>']);
});

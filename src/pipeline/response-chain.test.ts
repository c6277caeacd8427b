// Unit tests of the response filter chain with stub filters: the framing is decided once,
// after the last filter, and a response no filter wants is left alone.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type { FolderConfig } from '../config/types.js';
import { HostLog } from '../host-log.js';
import type { RequestContext } from '../http/request-context.js';
import type { BodyFilter, ResponseFilter } from '../http/response-filter.js';
import { fetchLocal, useContextServer } from '../modules/testing/context-server.test-helper.js';
import { Pipeline } from './pipeline.js';

const CONFIG = { errors: [] } as unknown as FolderConfig;

/** filter builds a stub filter: `wants` for paths starting with `prefix`, `open` as given. */
function filter(id: string, prefix: string, open: (ctx: RequestContext, hasBody: boolean) => BodyFilter | undefined): ResponseFilter {
  return { id, wants: (ctx) => ctx.path.startsWith(prefix), open };
}

const upper: BodyFilter = { mode: 'stream', write: (chunk) => Buffer.from(chunk.toString().toUpperCase()), end: () => Buffer.from('!') };
const doubled: BodyFilter = { mode: 'buffer', body: (whole) => Buffer.concat([whole, whole]) };
const failing: BodyFilter = { mode: 'buffer', body: () => Promise.reject(new Error('cannot')) };

const FILTERS: ResponseFilter[] = [
  filter('head', '/head', (ctx) => {
    ctx.res.setHeader('x-filtered', 'yes');
    return undefined;
  }),
  filter('upper', '/stream', () => upper),
  filter('double', '/buffer', () => doubled),
  filter('upper-then-double', '/both', () => upper),
  filter('double-after', '/both', () => doubled),
  filter('failing', '/failing', () => failing),
];

const pipeline = new Pipeline({
  site: { root: '/srv', name: 't', config: { forPath: () => CONFIG } },
  log: new HostLog(new PassThrough()),
  responseFilters: FILTERS,
  modules: [
    {
      id: 'handler',
      phase: 'execute',
      handle: (ctx) => {
        // A worker-like answer: the head names chunked framing, then one body.
        ctx.res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
        ctx.res.write('abc');
        ctx.res.end('def');
        return 'finish';
      },
    },
  ],
});
const server = useContextServer((req, res) => void pipeline.handle(req, res, false));

describe('ResponseChain', () => {
  test('a response no filter wants keeps its own framing', async () => {
    const reply = await fetchLocal(server.port, '/plain');
    assert.equal(reply.body.toString(), 'abcdef');
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
    assert.equal(reply.headers['x-filtered'], undefined);
  });

  test('a head-only filter changes headers and leaves the body alone', async () => {
    const reply = await fetchLocal(server.port, '/head');
    assert.equal(reply.headers['x-filtered'], 'yes');
    assert.equal(reply.body.toString(), 'abcdef');
  });

  test('a streaming filter transforms each piece; the body goes chunked, never with a length', async () => {
    const reply = await fetchLocal(server.port, '/stream');
    assert.equal(reply.body.toString(), 'ABCDEF!');
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
    assert.equal(reply.headers['content-length'], undefined);
  });

  test('a buffering filter gets the whole body; Transfer-Encoding is dropped and Content-Length set', async () => {
    const reply = await fetchLocal(server.port, '/buffer');
    assert.equal(reply.body.toString(), 'abcdefabcdef');
    assert.equal(reply.headers['content-length'], '12');
    assert.equal(reply.headers['transfer-encoding'], undefined);
  });

  test('filters run in chain order; with one buffering filter every filter sees the whole body', async () => {
    const reply = await fetchLocal(server.port, '/both');
    assert.equal(reply.body.toString(), 'ABCDEF!ABCDEF!');
    assert.equal(reply.headers['content-length'], '14');
  });

  test('a buffering filter that fails sends the body as it came', async () => {
    const reply = await fetchLocal(server.port, '/failing');
    assert.equal(reply.body.toString(), 'abcdef');
    assert.equal(reply.headers['content-length'], '6');
  });

  test('HEAD: body filters are not used and the head keeps its framing', async () => {
    const reply = await fetchLocal(server.port, '/buffer', { method: 'HEAD' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, 0);
    assert.equal(reply.headers['content-length'], undefined);
  });
});

// The response chain's two holds on a response: the head hook (head-only filters) and the full take-over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestContext } from '../http/request-context.js';
import type { ResponseFilter } from '../http/response-filter.js';
import { fetchLocalText, useContextServer } from '../modules/testing/context-server.test-helper.js';
import { errorStep } from './error-step.js';
import { ResponseChain } from './response-chain.js';

let respond: (ctx: RequestContext) => void = () => {};
const server = useContextServer((req, res) => respond(new RequestContext(req, res, { root: '/nonexistent', name: 'test' }, false, errorStep)));

const headOnly: ResponseFilter = {
  id: 'head-only',
  isHeadOnly: true,
  wants: () => true,
  open(ctx) {
    ctx.res.appendHeader('X-Head', String(ctx.res.statusCode));
    return undefined;
  },
};

let wantsBody = false;
const upper: ResponseFilter = {
  id: 'upper',
  wants: () => wantsBody,
  open: () => ({ mode: 'buffer', body: (whole) => Buffer.from(whole.toString('utf8').toUpperCase()) }),
};

test('a head-only filter hooks writeHead alone, and sees headers given to writeHead', async () => {
  const chain = new ResponseChain([headOnly]);
  let ownMethods: string[] = [];
  respond = (ctx) => {
    chain.attach(ctx);
    ownMethods = ['writeHead', 'write', 'end', 'flushHeaders'].filter((name) => Object.hasOwn(ctx.res, name));
    ctx.res.writeHead(201, { 'X-Given': 'yes', 'Content-Length': '2' });
    ctx.res.end('ok');
  };
  const reply = await fetchLocalText(server.port, '/');
  assert.deepEqual(ownMethods, ['writeHead']);
  assert.equal(reply.status, 201);
  assert.equal(reply.headers['x-given'], 'yes');
  assert.equal(reply.headers['x-head'], '201');
  assert.equal(reply.body, 'ok');
});

test('the head hook runs for an implicit head too (end with a body, no writeHead)', async () => {
  const chain = new ResponseChain([headOnly]);
  respond = (ctx) => {
    chain.attach(ctx);
    ctx.res.statusCode = 404;
    ctx.res.end('gone');
  };
  const reply = await fetchLocalText(server.port, '/');
  assert.equal(reply.headers['x-head'], '404');
  assert.equal(reply.headers['content-length'], '4');
  assert.equal(reply.body, 'gone');
});

test('attach again after the URL changed upgrades the head hook when a body filter now wants the response', async () => {
  const chain = new ResponseChain([upper, headOnly]);
  respond = (ctx) => {
    wantsBody = false;
    chain.attach(ctx);
    wantsBody = true;
    chain.attach(ctx);
    ctx.res.setHeader('Content-Type', 'text/plain');
    ctx.res.end('quiet');
  };
  const reply = await fetchLocalText(server.port, '/');
  assert.equal(reply.body, 'QUIET');
  assert.equal(reply.headers['x-head'], '200', 'the head-only filter still ran, once');
  assert.equal(reply.headers['content-length'], '5');
});

const appending: ResponseFilter = {
  id: 'appending',
  isHeadOnly: true,
  wants: () => true,
  open(ctx) {
    ctx.res.appendHeader('X-Added', 'by open');
    return undefined;
  },
  extendHeadList: (_ctx, status, list) => [...list, 'X-Added', `list ${status}`],
};

test('a head given as a flat list, on a response with no header set, goes through extendHeadList', async () => {
  const chain = new ResponseChain([appending]);
  respond = (ctx) => {
    chain.attach(ctx);
    ctx.res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', '2']);
    ctx.res.end('ok');
  };
  const reply = await fetchLocalText(server.port, '/');
  assert.equal(reply.headers['x-added'], 'list 200');
  assert.equal(reply.headers['content-type'], 'text/plain');
  assert.equal(reply.body, 'ok');
});

test('a header set before the flat list, or a wanting filter without extendHeadList, opens the filters instead', async () => {
  const setFirst = new ResponseChain([appending]);
  respond = (ctx) => {
    setFirst.attach(ctx);
    ctx.res.setHeader('X-Set', 'first');
    ctx.res.writeHead(200, ['Content-Length', '2']);
    ctx.res.end('ok');
  };
  const set = await fetchLocalText(server.port, '/');
  assert.equal(set.headers['x-added'], 'by open');
  assert.equal(set.headers['x-set'], 'first');
  const mixed = new ResponseChain([appending, headOnly]);
  respond = (ctx) => {
    mixed.attach(ctx);
    ctx.res.writeHead(202, ['Content-Length', '2']);
    ctx.res.end('ok');
  };
  const both = await fetchLocalText(server.port, '/');
  assert.equal(both.headers['x-added'], 'by open');
  assert.equal(both.headers['x-head'], '202');
});

test('a buffered filter answering Reanswer drops the ended response and its headers; the new answer is filtered afresh', async () => {
  let isFirst = true;
  const reanswering: ResponseFilter = {
    id: 'reanswering',
    wants: () => true,
    open: (ctx) => {
      if (!isFirst) return undefined;
      isFirst = false;
      return {
        mode: 'buffer',
        body: () => ({
          answer: () => {
            // As the engine does when the new answer enters the pipeline.
            chain.attach(ctx);
            ctx.res.setHeader('Content-Type', 'text/plain');
            ctx.res.end('second');
          },
        }),
      };
    },
  };
  const chain = new ResponseChain([reanswering, headOnly]);
  let isEndCalledBack = false;
  respond = (ctx) => {
    chain.attach(ctx);
    ctx.res.writeHead(404, { 'Content-Type': 'application/json', 'X-First': '1' });
    ctx.res.end('{"first":true}', () => (isEndCalledBack = true));
  };
  const reply = await fetchLocalText(server.port, '/');
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'second');
  assert.equal(reply.headers['x-first'], undefined);
  assert.equal(reply.headers['content-type'], 'text/plain');
  assert.equal(reply.headers['x-head'], '200', 'the head-only filter ran for the new answer only');
  assert.equal(isEndCalledBack, true, "the handler's end callback ran");
});

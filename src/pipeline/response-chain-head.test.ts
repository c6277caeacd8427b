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

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpProtocolConfig } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';
import { customHeaders } from './custom-headers.js';

function protocol(custom: [string, string][], redirect: [string, string][] = []): HttpProtocolConfig {
  return {
    customHeaders: custom.map(([name, value]) => ({ name, value })),
    customHeaderList: custom.flat(),
    redirectHeaders: redirect.map(([name, value]) => ({ name, value })),
  };
}

function contextOf(httpProtocol: HttpProtocolConfig): RequestContext {
  return { config: { httpProtocol } } as unknown as RequestContext;
}

const HEAD = Object.freeze(['Content-Type', 'text/plain', 'Content-Length', '4']);

test('extendHeadList appends the custom headers once per head and configuration, and again after a configuration change', () => {
  const first = contextOf(protocol([['X-Powered-By', 'nodehost']]));
  const list = customHeaders.extendHeadList(first, 200, HEAD);
  assert.deepEqual(list, [...HEAD, 'X-Powered-By', 'nodehost']);
  assert.equal(customHeaders.extendHeadList(first, 200, HEAD), list, 'the same list is kept for the same head and configuration');
  const reloaded = contextOf(protocol([['X-Site', 'new']]));
  assert.deepEqual(customHeaders.extendHeadList(reloaded, 200, HEAD), [...HEAD, 'X-Site', 'new']);
});

test('extendHeadList adds redirectHeaders to a redirect with a Location only', () => {
  const ctx = contextOf(protocol([['X-A', '1']], [['X-R', 'r']]));
  const redirect = ['Location', '/there', 'Content-Length', '0'];
  assert.deepEqual(customHeaders.extendHeadList(ctx, 301, redirect), [...redirect, 'X-A', '1', 'X-R', 'r']);
  assert.deepEqual(customHeaders.extendHeadList(ctx, 304, HEAD), [...HEAD, 'X-A', '1']);
});

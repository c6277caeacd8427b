import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { RequestContext } from '../http/request-context.js';
import { errorStep } from '../pipeline/error-step.js';
import { buildDebugHeader, buildRequestHead, compilePromoteServerVars, endsWithIgnoreCase, isHopByHopResponseHeader } from './forward-headers.js';

/** fakeContext builds a real RequestContext over a stub request with the given raw headers. */
function fakeContext(rawHeaders: string[], options: { url?: string; remote?: string; isHttps?: boolean; method?: string } = {}): RequestContext {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i].toLowerCase()] = rawHeaders[i + 1];
  const req = {
    url: options.url ?? '/app.js/x?y=1',
    method: options.method ?? 'GET',
    httpVersion: '1.1',
    rawHeaders,
    headers,
    socket: { remoteAddress: options.remote ?? '10.0.0.7', remotePort: 5555, localAddress: '10.0.0.1', localPort: 80 },
  } as unknown as IncomingMessage;
  return new RequestContext(req, {} as ServerResponse, { root: '/srv/site', name: 'site' }, options.isHttps ?? false, errorStep);
}

const NONE = { enableXFF: false, promoted: [] };

test('headers are forwarded in order with repeats and empty values, hop-by-hop removed', () => {
  const ctx = fakeContext([
    'Host',
    'example.com',
    'Foo',
    'a',
    'Connection',
    'keep-alive',
    'foo',
    'b',
    'X-Empty',
    '',
    'Keep-Alive',
    'timeout=5',
    'Expect',
    '100-continue',
    'Proxy-Connection',
    'close',
  ]);
  const head = buildRequestHead(ctx, NONE);
  assert.deepEqual(head.headers, ['Host', 'example.com', 'Foo', 'a', 'foo', 'b', 'X-Empty', '']);
  assert.equal(head.target, '/app.js/x?y=1');
  assert.ok(head.size > 0);
  assert.equal(head.hasBody, false);
  assert.equal(buildRequestHead(fakeContext(['Content-Length', '0']), NONE).hasBody, false);
  assert.equal(buildRequestHead(fakeContext(['Content-Length', '5']), NONE).hasBody, true);
  assert.equal(buildRequestHead(fakeContext(['transfer-encoding', 'chunked']), NONE).hasBody, true);
});

test('the target is the raw URL; an X-Original-URL header is forwarded but never chooses it', () => {
  assert.equal(buildRequestHead(fakeContext(['Host', 'h'], { url: '/a%2Fb/c?q=%20' }), NONE).target, '/a%2Fb/c?q=%20');
  const spoofed = fakeContext(['Host', 'h', 'X-Original-URL', '/admin?x=1'], { url: '/hello.js' });
  const head = buildRequestHead(spoofed, NONE);
  assert.equal(head.target, '/hello.js');
  assert.deepEqual(head.headers, ['Host', 'h', 'X-Original-URL', '/admin?x=1']);
});

test('a Host header is added when the client sent none', () => {
  assert.deepEqual(buildRequestHead(fakeContext([]), NONE).headers, ['Host', '10.0.0.1']);
});

test('enableXFF adds X-Forwarded-For and X-Forwarded-Proto', () => {
  const head = buildRequestHead(fakeContext(['Host', 'h']), { enableXFF: true, promoted: [] });
  assert.deepEqual(head.headers, ['Host', 'h', 'X-Forwarded-For', '10.0.0.7', 'X-Forwarded-Proto', 'http']);
  const https = buildRequestHead(fakeContext(['Host', 'h'], { isHttps: true }), { enableXFF: true, promoted: [] });
  assert.deepEqual(https.headers.slice(-2), ['X-Forwarded-Proto', 'https']);
});

test('enableXFF appends to the last X-Forwarded-For unless it already ends with the client IP', () => {
  const xff = { enableXFF: true, promoted: [] };
  const appended = buildRequestHead(fakeContext(['x-forwarded-for', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2', 'X-Forwarded-Proto', 'https']), xff);
  assert.deepEqual(appended.headers.slice(0, 6), ['x-forwarded-for', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2, 10.0.0.7', 'X-Forwarded-Proto', 'https']);
  assert.equal(appended.headers.filter((h) => h.toLowerCase() === 'x-forwarded-proto').length, 1, 'an existing proto is kept');
  const same = buildRequestHead(fakeContext(['X-Forwarded-For', '3.3.3.3, 10.0.0.7']), xff);
  assert.deepEqual(same.headers.slice(0, 2), ['X-Forwarded-For', '3.3.3.3, 10.0.0.7']);
  const v6 = buildRequestHead(fakeContext(['X-Forwarded-For', 'fe80::ABCD'], { remote: 'fe80::abcd' }), xff);
  assert.deepEqual(v6.headers.slice(0, 2), ['X-Forwarded-For', 'fe80::ABCD'], 'the suffix compare ignores case');
});

test('promoteServerVars: comma list, empties skipped, spaces kept, reverse order, missing skipped', () => {
  const promoted = compilePromoteServerVars('REQUEST_METHOD,,AUTH_USER, HTTPS,NO_SUCH_VAR,REMOTE_ADDR');
  assert.deepEqual(
    promoted.map((p) => p.name),
    ['REMOTE_ADDR', 'NO_SUCH_VAR', 'AUTH_USER', 'REQUEST_METHOD'],
  );
  const head = buildRequestHead(fakeContext(['Host', 'h'], { method: 'POST' }), { enableXFF: false, promoted });
  assert.deepEqual(head.headers, ['Host', 'h', 'X-iisnode-REMOTE_ADDR', '10.0.0.7', 'X-iisnode-AUTH_USER', '', 'X-iisnode-REQUEST_METHOD', 'POST']);
  assert.deepEqual(compilePromoteServerVars(''), []);
  assert.deepEqual(
    compilePromoteServerVars('url').map((p) => p.header),
    ['X-iisnode-url'],
  );
});

test('endsWithIgnoreCase and hop-by-hop response headers', () => {
  assert.equal(endsWithIgnoreCase('a, B', 'b'), true);
  assert.equal(endsWithIgnoreCase('b', 'ab'), false);
  for (const name of ['Connection', 'keep-alive', 'PROXY-CONNECTION']) assert.equal(isHopByHopResponseHeader(name), true, name);
  for (const name of ['Content-Type', 'Transfer-Encoding', 'Set-Cookie', 'Connectionx']) assert.equal(isHopByHopResponseHeader(name), false, name);
});

test('the debug header keeps the bit.ly prefix and iisnode field order', () => {
  const value = buildDebugHeader({
    version: '0.1.0',
    nodeCommandLine: 'node --a b&c',
    nodePid: 12,
    appProcesses: 2,
    processActiveRequests: 1,
    appActiveRequests: 3,
    hostTotalRequests: 99,
    retries: 0,
    requestMs: 5,
  });
  assert.ok(value.startsWith('http://bit.ly/NsU2nd#iisnode_ver=0.1.0&node=node%20--a%20b%26c&dns='));
  const fields = new URLSearchParams(value.slice(value.indexOf('#') + 1));
  assert.equal(fields.get('worker_pid'), String(process.pid));
  assert.equal(fields.get('node_pid'), '12');
  assert.equal(fields.get('app_processes'), '2');
  assert.equal(fields.get('process_active_req'), '1');
  assert.equal(fields.get('app_active_req'), '3');
  assert.equal(fields.get('worker_total_req'), '99');
  assert.equal(fields.get('np_retry'), '0');
  assert.equal(fields.get('req_time'), '5');
  assert.equal(fields.get('hresult'), '0');
});

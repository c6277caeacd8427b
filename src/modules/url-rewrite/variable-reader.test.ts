/**
 * Expressions read server variables through readers resolved once per expression (evaluate.ts
 * variableReader, request-context.ts serverVariableReader). For every variable name and
 * expression here, in every state (rewritten path, variables set by rules, outbound response),
 * the value is exactly what matching the name on each read gives. A rewritten target that
 * isPlainTarget lets through unchanged is exactly what decoding and normalising it give, and
 * IsFile of `{REQUEST_FILENAME}` answered by URL path is what the mapped file's kind is.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { parseExpression } from '../../config/rewrite-expression.js';
import type { Expr, RewriteMap } from '../../config/rewrite-types.js';
import { type ErrorResponder, RequestContext, serverVariableReader } from '../../http/request-context.js';
import { normalizePath } from '../../http/request-url.js';
import { applyFunction, evaluate, fileKind, filenameKind, lookupMap, physicalPath, RewriteState, urlDecode } from './evaluate.js';
import { isPlainTarget } from './inbound.js';

const NAMES = [
  'URL',
  'PATH_INFO',
  'SCRIPT_NAME',
  'QUERY_STRING',
  'REQUEST_FILENAME',
  'PATH_TRANSLATED',
  'REQUEST_METHOD',
  'REQUEST_URI',
  'UNENCODED_URL',
  'HTTP_URL',
  'REMOTE_ADDR',
  'REMOTE_HOST',
  'REMOTE_PORT',
  'LOCAL_ADDR',
  'SERVER_ADDR',
  'CACHE_URL',
  'DOCUMENT_ROOT',
  'APPL_MD_PATH',
  'APP_POOL_ID',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PORT_SECURE',
  'SERVER_PROTOCOL',
  'SERVER_SOFTWARE',
  'HTTPS',
  'AUTH_USER',
  'LOGON_USER',
  'REMOTE_USER',
  'AUTH_TYPE',
  'APPL_PHYSICAL_PATH',
  'CONTENT_TYPE',
  'CONTENT_LENGTH',
  'HTTP_HOST',
  'HTTP_USER_AGENT',
  'HTTP_X_LIST',
  'HTTP_X_MISSING',
  'RESPONSE_CONTENT_TYPE',
  'RESPONSE_X_MISSING',
  'MY_VAR',
  'UNKNOWN',
];

const MAP: RewriteMap = { name: 'M', defaultValue: 'dflt', ignoreCase: true, entries: new Map([['/a/b', 'mapped']]) };

function fakeContext(isHttps: boolean, root = '/srv/site'): RequestContext {
  const req = {
    url: '/A/b?x=1',
    method: 'POST',
    httpVersion: '1.1',
    rawHeaders: [],
    headers: { host: 'example.test:8080', 'user-agent': 'UA', 'x-list': ['one', 'two'], 'content-type': 'text/plain', 'content-length': '3' },
    socket: { remoteAddress: '10.0.0.7', remotePort: 5555, localAddress: '10.0.0.1', localPort: 80 },
  } as unknown as IncomingMessage;
  const ctx = new RequestContext(req, {} as ServerResponse, { root, name: 'site' }, isHttps, {} as ErrorResponder);
  ctx.path = '/A/b';
  ctx.query = 'x=1';
  ctx.hasQuery = true;
  ctx.physicalPath = '/srv/site/A/b';
  ctx.authUser = 'alice';
  ctx.authType = 'Basic';
  return ctx;
}

/** The states every name is read in: as sent, rewritten, with variables set by rules, outbound. */
function states(): RewriteState[] {
  const out: RewriteState[] = [];
  for (const isHttps of [false, true]) {
    for (const isSet of [false, true]) {
      for (const isOutbound of [false, true]) {
        const ctx = fakeContext(isHttps);
        if (isSet)
          ctx.serverVariables = new Map([
            ['HTTP_HOST', 'set.test'],
            ['MY_VAR', 'mine'],
            ['HTTPS', 'set'],
            ['URL', '/set'],
            ['REQUEST_URI', '/set-uri'],
          ]);
        const state = new RewriteState(ctx);
        state.path = '/rewritten/a%20b/../c';
        state.query = 'q=2';
        state.ruleCaptures = ['all', 'r1'];
        state.conditionCaptures = ['c0', 'c1'];
        if (isOutbound) state.response = (name) => `response:${name}`;
        out.push(state);
      }
    }
  }
  return out;
}

/** referenceVariable reads a variable by matching its name on every read (what evaluate did before readers). */
function referenceVariable(state: RewriteState, name: string): string {
  switch (name) {
    case 'URL':
    case 'PATH_INFO':
    case 'SCRIPT_NAME':
      return state.path;
    case 'QUERY_STRING':
      return state.query;
    case 'REQUEST_FILENAME':
    case 'PATH_TRANSLATED':
      return physicalPath(state.ctx, state.path) ?? '';
  }
  if (state.response !== undefined && name.startsWith('RESPONSE_')) return state.response(name);
  return state.ctx.serverVariableOf(name) ?? '';
}

/** referenceEvaluate walks the expression's nodes on every evaluation. */
function referenceEvaluate(expr: Expr, state: RewriteState): string {
  let out = '';
  for (const node of expr.nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'rule':
        out += state.ruleCaptures[node.index] ?? '';
        break;
      case 'cond':
        out += state.conditionCaptures[node.index] ?? '';
        break;
      case 'var':
        out += referenceVariable(state, node.name);
        break;
      case 'func':
        out += applyFunction(node.fn, referenceEvaluate(node.arg, state));
        break;
      case 'map':
        out += lookupMap(node.map, referenceEvaluate(node.arg, state));
        break;
    }
  }
  return out;
}

test('a variable read through its reader is what matching its name gives, in every state', () => {
  for (const state of states()) {
    for (const name of NAMES) {
      const expr = parseExpression(`{${name}}`, () => undefined);
      // Twice: the second read goes through the reader made by the first.
      for (let round = 0; round < 2; round++) assert.equal(evaluate(expr, state), referenceVariable(state, name), name);
      assert.equal(state.variable(name), referenceVariable(state, name), `${name} by name`);
    }
  }
});

test('serverVariableReader reads what serverVariableOf reads', () => {
  for (const state of states()) {
    for (const name of NAMES) assert.equal(serverVariableReader(name)(state.ctx), state.ctx.serverVariableOf(name), name);
  }
});

test('expressions of several pieces read what walking their nodes gives', () => {
  const sources = [
    'https://{HTTP_HOST}/{R:1}',
    'http://{C:1}/{R:1}{R:7}{C:9}',
    'public{REQUEST_URI}',
    '{ToLower:{URL}}?{QUERY_STRING}',
    '{UrlEncode:a b/{HTTP_USER_AGENT}}{UrlDecode:%41}{HtmlEncode:<{R:0}>}',
    '{M:{ToLower:{URL}}}|{M:nothing}|{ToLower:CONSTANT}',
    '{RESPONSE_CONTENT_TYPE};{HTTP_X_LIST};{MY_VAR};{UNKNOWN}',
  ];
  for (const state of states()) {
    for (const source of sources) {
      const expr = parseExpression(source, (name) => (name.toLowerCase() === 'm' ? MAP : undefined));
      for (let round = 0; round < 2; round++) assert.equal(evaluate(expr, state), referenceEvaluate(expr, state), source);
    }
  }
});

test('a target isPlainTarget passes is what decoding and normalising leave unchanged and accept', () => {
  const targets = [
    '/',
    '/hello.js',
    '/public/users/42',
    '/a.b/c.',
    '/a/.b',
    '/a//b',
    '/a/./b',
    '/a/../b',
    '/..',
    '/a%20b',
    '/a%2',
    '/a\0b',
    '/a/b/',
    '/a/b.',
    '/.well-known/x',
    '/é/ü',
  ];
  for (const target of targets) {
    const path = normalizePath(urlDecode(target));
    const isUnchanged = path === target && !target.includes('\0');
    if (isPlainTarget(target)) assert.ok(isUnchanged, target);
    // Every target the straightforward way changes or refuses takes it: none is let through.
    if (!isUnchanged) assert.equal(isPlainTarget(target), false, target);
  }
  assert.equal(isPlainTarget('/public/users/42'), true);
});

test('IsFile of {REQUEST_FILENAME} by URL path is fileKind of the mapped file, also after the folder changes', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-filename-kind-'));
  try {
    fs.mkdirSync(path.join(root, 'public'));
    fs.writeFileSync(path.join(root, 'public', 'app.css'), 'x');
    const paths = [
      '/',
      '/public',
      '/public/',
      '/public/app.css',
      '/public/app.css/x',
      '/public/none',
      '/missing/deep/x',
      '/a/../public/app.css',
      '/..',
      '/a\0b',
    ];
    const ctx = fakeContext(false, root);
    const check = () => {
      for (const urlPath of paths) {
        const state = new RewriteState(ctx);
        state.path = urlPath;
        for (let round = 0; round < 2; round++) assert.equal(filenameKind(state), fileKind(physicalPath(ctx, urlPath) ?? '', ctx), urlPath);
      }
    };
    check();
    const state = new RewriteState(ctx);
    state.path = '/public/new.css';
    assert.equal(filenameKind(state), 'none');
    fs.writeFileSync(path.join(root, 'public', 'new.css'), 'x');
    const deadline = Date.now() + 5000;
    while (filenameKind(state) !== 'file') {
      assert.ok(Date.now() < deadline, 'the new file was not seen within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    fs.rmSync(path.join(root, 'public'), { recursive: true });
    while (filenameKind(state) !== 'none') {
      assert.ok(Date.now() < deadline, 'the removed file was still seen after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    check();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CacheProfile } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';
import { cacheKey, encodingKey, normalisedHost, queryValues } from './cache-key.js';

function profile(varyByQueryString: CacheProfile['varyByQueryString'], varyByHeaders: string[] = []): CacheProfile {
  return {
    extension: '.js',
    policy: 'CacheForTimePeriod',
    durationMs: 1000,
    varyByQueryString,
    varyByHeaders,
    location: 'Server',
    staleMs: 0,
    source: { file: 'web.config', line: 1 },
  };
}

function ctx(rawUrl: string, headers: Record<string, string | string[]> = {}, rewrittenPath?: string): RequestContext {
  const q = rawUrl.indexOf('?');
  return {
    rawUrl,
    path: rewrittenPath ?? (q === -1 ? rawUrl : rawUrl.slice(0, q)),
    isRewritten: rewrittenPath !== undefined,
    req: { headers },
  } as unknown as RequestContext;
}

test('the key ignores the query unless the profile names it', () => {
  const none = profile([]);
  assert.equal(cacheKey(ctx('/app.js?a=1'), none), cacheKey(ctx('/app.js?a=2'), none));
  assert.notEqual(cacheKey(ctx('/app.js'), none), cacheKey(ctx('/other.js'), none));
});

test('varyByQueryString names: their values only, absent differs from empty, names compared exactly', () => {
  const id = profile(['id']);
  assert.equal(cacheKey(ctx('/a?id=1&x=2'), id), cacheKey(ctx('/a?x=3&id=1'), id));
  assert.notEqual(cacheKey(ctx('/a?id=1'), id), cacheKey(ctx('/a?id=2'), id));
  assert.notEqual(cacheKey(ctx('/a'), id), cacheKey(ctx('/a?id='), id));
  assert.notEqual(cacheKey(ctx('/a?id=1'), id), cacheKey(ctx('/a?ID=1'), id));
  assert.equal(cacheKey(ctx('/a?i%64=1'), id), cacheKey(ctx('/a?id=1'), id));
  assert.notEqual(queryValues('id=1&id=2', ['id']), queryValues('id=1', ['id']));
});

test('varyByQueryString * keys on the whole query string as sent', () => {
  const all = profile('*');
  assert.notEqual(cacheKey(ctx('/a?x=1'), all), cacheKey(ctx('/a?x=2'), all));
  assert.notEqual(cacheKey(ctx('/a'), all), cacheKey(ctx('/a?'), all));
});

test('varyByHeaders: named headers only; absent differs from empty', () => {
  const lang = profile([], ['x-lang']);
  assert.notEqual(cacheKey(ctx('/a', { 'x-lang': 'en' }), lang), cacheKey(ctx('/a', { 'x-lang': 'fr' }), lang));
  assert.notEqual(cacheKey(ctx('/a'), lang), cacheKey(ctx('/a', { 'x-lang': '' }), lang));
  assert.equal(cacheKey(ctx('/a', { 'x-other': '1' }), lang), cacheKey(ctx('/a', { 'x-other': '2' }), lang));
});

test('a rewritten request is keyed on the URL the client sent as well', () => {
  const none = profile([]);
  assert.notEqual(cacheKey(ctx('/users/1', {}, '/server.js'), none), cacheKey(ctx('/users/2', {}, '/server.js'), none));
});

test('encodingKey: the accepted codings among br, gzip, deflate, most preferred first', () => {
  assert.equal(encodingKey(undefined), '');
  assert.equal(encodingKey(''), '');
  assert.equal(encodingKey('identity'), '');
  assert.equal(encodingKey('gzip, deflate, br'), 'br,gzip,deflate');
  assert.equal(encodingKey('gzip;q=1, br;q=0.5'), 'gzip,br');
  assert.equal(encodingKey('x-gzip'), 'gzip');
  assert.equal(encodingKey('gzip;q=0'), '');
  assert.equal(encodingKey('*'), 'br,gzip,deflate');
  assert.equal(encodingKey('*;q=0.1, gzip'), 'gzip,br,deflate');
  assert.equal(encodingKey('GZIP ; Q=0.8'), 'gzip');
  assert.equal(encodingKey(['gzip', 'br']), 'br,gzip');
  // Every client of one key accepts the same codings: identity never shares with gzip.
  assert.notEqual(cacheKey(ctx('/a', { 'accept-encoding': 'gzip' }), profile([])), cacheKey(ctx('/a'), profile([])));
});

test('normalisedHost folds case, a trailing dot and the default port, and keeps other names and ports apart', () => {
  assert.equal(normalisedHost('/', 'Shop.Example.', false), 'shop.example');
  assert.equal(normalisedHost('/', 'shop.example:80', false), 'shop.example');
  assert.equal(normalisedHost('/', 'shop.example:443', true), 'shop.example');
  assert.equal(normalisedHost('/', 'shop.example:443', false), 'shop.example:443');
  assert.equal(normalisedHost('/', '[::1]', false), '[::1]');
  assert.equal(normalisedHost('/', '[::1]:8080', false), '[::1]:8080');
  assert.equal(normalisedHost('/', undefined, false), '');
  // An absolute-form target names the host node sees (RFC 9112 §3.2.2).
  assert.equal(normalisedHost('http://Evil.Example/a?b', 'shop.example', false), 'evil.example');
});

test('the key holds the scheme and the host', () => {
  const plain = ctx('/a', { host: 'shop.example' });
  assert.notEqual(cacheKey(plain, profile('')), cacheKey(ctx('/a', { host: 'other.example' }), profile('')));
  assert.notEqual(cacheKey(plain, profile('')), cacheKey({ ...plain, isHttps: true } as RequestContext, profile('')));
  assert.equal(cacheKey(plain, profile('')), cacheKey(ctx('/a', { host: 'SHOP.example:80' }), profile('')));
});

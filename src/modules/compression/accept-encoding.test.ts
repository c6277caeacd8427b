import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompressionScheme } from '../../config/types.js';
import { chooseCoding, negotiateCoding, parseAcceptEncoding } from './accept-encoding.js';

const ALL: readonly CompressionScheme[] = ['br', 'gzip', 'deflate'];
const pick = (header: string | undefined, schemes = ALL) => negotiateCoding(header, schemes);

test('no Accept-Encoding means identity', () => {
  assert.equal(pick(undefined), 'identity');
  assert.equal(pick(''), 'identity');
});

test('server preference br > gzip > deflate on ties', () => {
  assert.equal(pick('gzip, deflate, br'), 'br');
  assert.equal(pick('deflate, gzip'), 'gzip');
  assert.equal(pick('deflate'), 'deflate');
  assert.equal(pick('gzip, deflate, br', ['gzip', 'deflate']), 'gzip');
});

test('q-values order the codings', () => {
  assert.equal(pick('br;q=1, gzip;q=0.5'), 'br');
  assert.equal(pick('br;q=0.5, gzip;q=1'), 'gzip');
  assert.equal(pick('br;q=0.5, gzip;q=0.9, deflate;q=0.95'), 'deflate');
  assert.equal(pick('gzip ; q=0.8 , br ; Q=0.9'), 'br');
});

test('q=0 excludes a coding', () => {
  assert.equal(pick('br;q=0, gzip'), 'gzip');
  assert.equal(pick('gzip;q=0'), 'identity');
  assert.equal(pick('br;q=0, gzip;q=0, deflate;q=0'), 'identity');
});

test('* covers the codings not listed', () => {
  assert.equal(pick('*'), 'br');
  assert.equal(pick('br;q=0, *'), 'gzip');
  assert.equal(pick('gzip;q=0.5, *;q=0.1'), 'gzip');
  assert.equal(pick('*;q=0'), 'identity');
});

test('identity;q=0 with nothing acceptable still gets identity (never 406)', () => {
  assert.equal(pick('identity;q=0'), 'identity');
  assert.equal(pick('identity;q=0, gzip'), 'gzip');
  assert.equal(pick('identity;q=0', []), 'identity');
  assert.equal(parseAcceptEncoding('identity;q=0').identity, 0);
  assert.equal(parseAcceptEncoding('*;q=0').identity, 0);
  assert.equal(parseAcceptEncoding('*;q=0, identity').identity, 1000);
});

test('identity preferred strictly over every coding wins', () => {
  assert.equal(pick('gzip;q=0.5, identity'), 'identity');
  assert.equal(pick('gzip, identity'), 'gzip');
});

test('x-gzip is gzip; unknown codings and malformed q are ignored', () => {
  assert.equal(pick('x-gzip'), 'gzip');
  assert.equal(pick('zstd, compress'), 'identity');
  assert.equal(pick('br;q=2, gzip'), 'gzip');
  assert.equal(pick('br;q=abc'), 'identity');
  assert.equal(pick('br;q=0.0001'), 'identity');
});

test('repeated headers are joined', () => {
  assert.equal(negotiateCoding(['gzip;q=0.1', 'br;q=0.2'], ALL), 'br');
});

test('chooseCoding with no schemes is identity', () => {
  assert.equal(chooseCoding(parseAcceptEncoding('br'), []), 'identity');
});

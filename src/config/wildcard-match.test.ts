import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wildcardMatch } from './wildcard-match.js';
import { wildcardToRegex } from './wildcard-to-regex.js';

const cases: [pattern: string, text: string, isMatch: boolean][] = [
  ['*.js', 'server.js', true],
  ['*.js', 'SERVER.JS', true],
  ['*.js', 'server.json', false],
  ['*.js', '.js', true],
  ['a?c.txt', 'abc.txt', true],
  ['a?c.txt', 'ac.txt', false],
  ['a?c.txt', 'abbc.txt', false],
  ['/api/*', '/api/a/b', true],
  ['/api/*', '/apix', false],
  ['*a*b*', 'xaybz', true],
  ['*a*b*', 'xbya', false],
  ['a+b(1).js', 'a+b(1).js', true],
  ['hello.js', 'Hello.JS', true],
  ['hello.js', 'hello.jsx', false],
  ['*', '', true],
  ['?', '', false],
  ['*', 'line\nbreak', true],
];

test('wildcardMatch: anchored, case-insensitive, * any run, ? one character', () => {
  for (const [pattern, text, isMatch] of cases) assert.equal(wildcardMatch(pattern, text), isMatch, `${pattern} ~ ${JSON.stringify(text)}`);
});

test('wildcardToRegex agrees with wildcardMatch and captures each * run', () => {
  for (const [pattern, text, isMatch] of cases)
    assert.equal(new RegExp(wildcardToRegex(pattern), 'is').test(text), isMatch, `${pattern} ~ ${JSON.stringify(text)}`);
  assert.deepEqual(new RegExp(wildcardToRegex('*/*.html'), 's').exec('a/b/c.html')?.slice(1), ['a/b', 'c']);
  assert.equal(new RegExp(wildcardToRegex('*.js'), 's').test('SERVER.JS'), false, 'case-sensitive without the i flag');
});

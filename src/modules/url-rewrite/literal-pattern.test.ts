/**
 * Plain-text ECMAScript patterns are checked with string compares (config/rewrite-pattern.ts
 * literalOf, evaluate.ts findLiteral): for every pattern and input here, the match and its
 * captures are exactly those of the pattern's RegExp, with and without ignoreCase.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, literalOf, requiredPrefixOf } from '../../config/rewrite-pattern.js';
import { matchPattern } from './evaluate.js';

const SOURCES = ['^api/', '^robots\\.txt$', 'favicon', '\\.php$', '^$', '', '^server\\.js\\/debug', 'A-B_c~', '^Straße', 'k'];
const INPUTS = [
  '',
  'api/users',
  'API/users',
  'xapi/',
  'robots.txt',
  'ROBOTS.TXT',
  'robotsxtxt',
  'robots.txt\n',
  'img/favicon.ico',
  'img/FavIcon.ico',
  'index.php',
  'index.PHP',
  'index.php.bak',
  'server.js/debug/x',
  'Server.JS/Debug',
  'a-b_C~d',
  'straße',
  'STRASSE',
  '\u212a', // KELVIN SIGN: toLowerCase() is "k", but /k/i does not match it
  'ſ', // LATIN SMALL LETTER LONG S: upper-cases to "S", which /s/i does not take for it
  'K',
];

/** assertMatchesAsRegExp checks that each compiled pattern finds on each input what its RegExp finds, groups that did not take part as ''. */
function assertMatchesAsRegExp(sources: readonly string[], inputs: readonly string[]): void {
  for (const source of sources) {
    for (const ignoreCase of [false, true]) {
      const pattern = compilePattern(source, 'ECMAScript', ignoreCase, false);
      const regex = new RegExp(source, ignoreCase ? 'i' : '');
      for (const input of inputs) {
        const m = regex.exec(input);
        assert.deepEqual(
          matchPattern(pattern, input),
          m === null ? undefined : [...m].map((g) => g ?? ''),
          `${source} /${ignoreCase ? 'i' : ''} on ${JSON.stringify(input)}`,
        );
      }
    }
  }
}

test('a plain-text pattern matches exactly what its RegExp matches, with the same captures', () => {
  assertMatchesAsRegExp(SOURCES, INPUTS);
});

test('only plain text becomes a literal: classes, groups, quantifiers and non-ASCII with ignoreCase stay RegExps', () => {
  assert.deepEqual(literalOf('^api/', true), { kind: 'prefix', text: 'api/' });
  assert.deepEqual(literalOf('^Robots\\.txt$', true), { kind: 'exact', text: 'robots.txt' });
  assert.deepEqual(literalOf('\\.PHP$', false), { kind: 'suffix', text: '.PHP' });
  assert.deepEqual(literalOf('favicon', true), { kind: 'contains', text: 'favicon' });
  for (const source of ['(.*)', '^server.js', '\\d+', 'a|b', '^a$b', 'x?', '[ab]', 'a{2}', '\\', '^Straße']) {
    assert.equal(literalOf(source, true), undefined, source);
  }
  assert.deepEqual(literalOf('^Straße', false), { kind: 'prefix', text: 'Straße' });
});

test('`.*` and `(.*)` match without their RegExp exactly what it matches, line terminators included', () => {
  const inputs = [...INPUTS, 'a\nb', '\rx', 'users/42\u2028tail', 'x\u2029', 'ä/ö'];
  for (const source of ['.*', '^.*', '(.*)', '^(.*)']) {
    for (const ignoreCase of [false, true]) {
      for (const negate of [false, true]) {
        const pattern = compilePattern(source, 'ECMAScript', ignoreCase, negate);
        assert.notEqual(pattern.anyText, undefined, source);
        const regex = new RegExp(source, ignoreCase ? 'i' : '');
        for (const input of inputs) {
          const m = regex.exec(input);
          const expected = negate ? (m === null ? [] : undefined) : m === null ? undefined : [...m];
          assert.deepEqual(matchPattern(pattern, input), expected, `${source} on ${JSON.stringify(input)}`);
        }
      }
    }
  }
  for (const source of ['.*$', '(.+)', '(.*)/', '.*x']) assert.equal(compilePattern(source, 'ECMAScript', true, false).anyText, undefined, source);
});

test('a RegExp with a required plain prefix matches exactly as without the prefix check', () => {
  const sources = [
    '^api/v1/(.*)$',
    '^hello.js\\/debug[\\/]?',
    '^www\\.(.*)$',
    '^abc?d',
    '^ab*c',
    '^ab+',
    '^a{2}',
    '^ab\\.?c',
    '^a|b',
    '^\\d+',
    '^Api/(.*)',
    '^Straße(.*)',
    '^K(.)',
  ];
  const inputs = [
    ...INPUTS,
    'api/v1/users',
    'API/V1/x',
    'api/v2/x',
    'hello.js/debug',
    'HELLO.JS/debug/',
    'www.example.com',
    'WWW.x',
    'abd',
    'abcd',
    'ac',
    'abbbc',
    'aa',
    'a',
    'b',
    'abc',
    'ab.c',
    '42',
    'straße/x',
    '\u212a1',
    'k1',
  ];
  assertMatchesAsRegExp(sources, inputs);
  assert.equal(requiredPrefixOf('^api/v1/(.*)$', false), 'api/v1/');
  assert.equal(requiredPrefixOf('^hello.js\\/debug', true), 'hello');
  assert.equal(requiredPrefixOf('^www\\.(.*)$', true), 'www.');
  assert.equal(requiredPrefixOf('^abc?d', false), 'ab');
  assert.equal(requiredPrefixOf('^ab\\.?c', false), 'ab');
  for (const source of ['^a|b', 'api/', '^\\d', '^(a)', '^a?', '^Straße']) assert.equal(requiredPrefixOf(source, true), undefined, source);
});

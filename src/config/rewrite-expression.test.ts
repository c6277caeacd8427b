import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExpressionError, parseExpression } from './rewrite-expression.js';
import { compilePattern } from './rewrite-pattern.js';
import { wildcardToRegex } from './wildcard-to-regex.js';
import type { RewriteMap } from './rewrite-types.js';
import { applyFunction, matchPattern, urlDecode, urlEncode } from '../modules/url-rewrite/evaluate.js';

const MAP: RewriteMap = { name: 'MyMap', defaultValue: 'dflt', ignoreCase: true, entries: new Map([['a', 'A']]) };
const maps = (name: string) => (name.toLowerCase() === 'mymap' ? MAP : undefined);
const kinds = (text: string) => parseExpression(text, maps).nodes.map((node) => node.kind);

describe('parseExpression', () => {
  test('literals, back-references, variables, functions and maps', () => {
    assert.deepEqual(kinds('plain/text'), ['text']);
    assert.equal(parseExpression('plain', maps).constant, 'plain');
    assert.equal(parseExpression('', maps).constant, '');
    assert.deepEqual(kinds('{R:1}/{C:0}{HTTP_HOST}'), ['rule', 'text', 'cond', 'var']);
    assert.deepEqual(kinds('{ToLower:{R:1}}'), ['func']);
    assert.deepEqual(kinds('{MyMap:contoso/{R:1}/test/{C:1}}'), ['map']);
    assert.deepEqual(kinds('{UrlEncode:{R:1}.aspx?p=[résumé]}'), ['func']);
    assert.equal(parseExpression('{R:1}', maps).constant, undefined);
  });

  test('names are case-insensitive; variables are upper-cased', () => {
    const expr = parseExpression('{tolower:{http_host}}{mymap:x}{r:2}', maps);
    assert.equal(expr.nodes[0]!.kind, 'func');
    assert.deepEqual(
      expr.nodes.map((n) => n.kind),
      ['func', 'map', 'rule'],
    );
    const inner = (expr.nodes[0] as { arg: { nodes: { kind: string; name?: string }[] } }).arg.nodes[0]!;
    assert.equal(inner.name, 'HTTP_HOST');
  });

  test('a stray top-level } is a literal; there is no escape character', () => {
    assert.equal(parseExpression('a}b', maps).constant, 'a}b');
    assert.deepEqual(kinds('Id={UrlDecode:%7B}{MyMap:{R:0}}}'), ['text', 'func', 'map', 'text']);
    assert.equal(parseExpression('hey/ToLower:/what', maps).constant, 'hey/ToLower:/what');
  });

  test('syntax errors', () => {
    for (const bad of ['{', '{HTTPS', '{R:1', '{:}', '{}', '{R:10}', '{R:-1}', '{R:A}', '{R:}', '{C:x}', '{foo:1}', '{UrlEncode:{R:1}', '{a b}']) {
      assert.throws(() => parseExpression(bad, maps), ExpressionError, bad);
    }
  });
});

describe('functions', () => {
  test('UrlEncode: unreserved characters kept, upper-case hex, UTF-8', () => {
    assert.equal(urlEncode('<hey>'), '%3Chey%3E');
    assert.equal(urlEncode('x&y'), 'x%26y');
    assert.equal(urlEncode('a b'), 'a%20b');
    assert.equal(urlEncode("A-z_0.9~!*'()"), 'A-z_0.9~%21%2A%27%28%29');
    assert.equal(urlEncode('http://domain.com?query=résumé'), 'http%3A%2F%2Fdomain.com%3Fquery%3Dr%C3%A9sum%C3%A9');
  });
  test('UrlDecode keeps + and malformed escapes', () => {
    assert.equal(urlDecode('%3Chey%3E'), '<hey>');
    assert.equal(urlDecode('a+b%20c'), 'a+b c');
    assert.equal(urlDecode('100%zz%41'), '100%zzA');
  });
  test('ToLower and HtmlEncode', () => {
    assert.equal(applyFunction('ToLower', 'AbC'), 'abc');
    assert.equal(applyFunction('HtmlEncode', `<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('pattern syntaxes', () => {
  const m = (source: string, syntax: 'ECMAScript' | 'Wildcard' | 'ExactMatch', input: string, ignoreCase = true, negate = false) =>
    matchPattern(compilePattern(source, syntax, ignoreCase, negate), input);

  test('ECMAScript searches (not anchored); {R:0} is the matched text; missing groups are empty', () => {
    assert.deepEqual(m('^article/([0-9]+)', 'ECMAScript', 'article/10/hey'), ['article/10', '10']);
    assert.deepEqual(m('hello/*', 'ECMAScript', 'xhello.js'), ['hello']);
    assert.deepEqual(m('(a)?b', 'ECMAScript', 'b'), ['b', '']);
    assert.deepEqual(m('', 'ECMAScript', 'anything'), ['']);
    assert.equal(m('^ABC$', 'ECMAScript', 'abc', false), undefined);
    assert.deepEqual(m('^x$', 'ECMAScript', 'abc', true, true), []);
    assert.throws(() => compilePattern('(?i)abc', 'ECMAScript', true, false), SyntaxError);
  });

  test('Wildcard is anchored; * captures, ? does not', () => {
    assert.equal(wildcardToRegex('*/*.html'), '^(.*)\\/(.*)\\.html$');
    assert.deepEqual(m('*/*.html', 'Wildcard', 'contoso/test.html'), ['contoso/test.html', 'contoso', 'test']);
    assert.deepEqual(m('img?.png', 'Wildcard', 'IMG1.png'), ['IMG1.png']);
    assert.equal(m('img?.png', 'Wildcard', 'img12.png'), undefined);
    assert.equal(m('localhost', 'Wildcard', 'localhost:8080'), undefined);
    assert.deepEqual(m('a(b)[c]+', 'Wildcard', 'a(b)[c]+'), ['a(b)[c]+']);
    assert.deepEqual(m('*', 'Wildcard', 'line\nbreak'), ['line\nbreak', 'line\nbreak']);
  });

  test('ExactMatch truth table (spec §1.5)', () => {
    assert.ok(m('string', 'ExactMatch', 'string', true, false));
    assert.equal(m('string', 'ExactMatch', 'string', true, true), undefined);
    assert.equal(m('STRING', 'ExactMatch', 'string', false, false), undefined);
    assert.ok(m('STRING', 'ExactMatch', 'string', false, true));
    assert.deepEqual(m('String', 'ExactMatch', 'sTRING'), ['sTRING']);
    assert.equal(m('str', 'ExactMatch', 'string'), undefined);
  });
});

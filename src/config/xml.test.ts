import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodehostError } from '../errors.js';
import { parseXml } from './xml.js';

test('elements and attributes carry their line and column', () => {
  const text = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<configuration>',
    '  <!-- a comment -->',
    '  <system.webServer>',
    '    <iisnode loggingEnabled="false"',
    '             name="x" nodeProcessCountPerApplication="name"/>',
    '  </system.webServer>',
    '</configuration>',
  ].join('\r\n');
  const root = parseXml(text, '/s/web.config');
  assert.equal(root.name, 'configuration');
  assert.deepEqual([root.line, root.column], [2, 1]);
  const sws = root.children[0];
  assert.ok(sws);
  assert.deepEqual([sws.name, sws.line, sws.column], ['system.webServer', 4, 3]);
  const iisnode = sws.children[0];
  assert.ok(iisnode);
  assert.deepEqual([iisnode.line, iisnode.column], [5, 5]);
  assert.deepEqual(iisnode.attributes.get('loggingEnabled'), { value: 'false', line: 5, column: 14 });
  assert.deepEqual(iisnode.attributes.get('name'), { value: 'x', line: 6, column: 14 });
  // The attribute name is found even when an earlier value spells it.
  assert.deepEqual(iisnode.attributes.get('nodeProcessCountPerApplication'), { value: 'name', line: 6, column: 23 });
  assert.deepEqual([...iisnode.attributes.keys()], ['loggingEnabled', 'name', 'nodeProcessCountPerApplication']);
});

test('entities are decoded, a byte order mark is skipped, prefixed attributes are kept', () => {
  const root = parseXml('\ufeff<configuration xmlns:xdt="x"><a v="&lt;&amp;&quot;" xdt:Transform="Replace"/></configuration>', 'f');
  const a = root.children[0];
  assert.equal(a?.attributes.get('v')?.value, '<&"');
  assert.equal(a?.attributes.get('xdt:Transform')?.value, 'Replace');
});

test('XML that is not well-formed throws NH_ERR_CONFIG_XML at the line of the first error', () => {
  const text = '<configuration>\n  <system.webServer>\n    <iisnode loggingEnabled="false">\n  </system.webServer>\n</configuration>\n';
  assert.throws(
    () => parseXml(text, '/s/web.config'),
    (err: unknown) => {
      assert.ok(err instanceof NodehostError);
      assert.equal(err.code, 'NH_ERR_CONFIG_XML');
      assert.equal(err.source?.file, '/s/web.config');
      assert.equal(err.source?.line, 4);
      assert.match(err.toString(), /^\/s\/web\.config:4:\d+: /);
      return true;
    },
  );
});

test('other malformations: unclosed attribute, duplicate attribute, empty document, text after the root', () => {
  const cases: [string, number][] = [
    ['<configuration>\n<a b="1/>\n</configuration>', 3],
    ['<configuration>\n\n<a b="1" b="2"/></configuration>', 3],
    ['', 1],
    ['<configuration/>\n<second/>', 2],
  ];
  for (const [text, line] of cases) {
    assert.throws(
      () => parseXml(text, 'w'),
      (err: unknown) => err instanceof NodehostError && err.code === 'NH_ERR_CONFIG_XML' && err.source?.line === line,
      JSON.stringify(text),
    );
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodehostError } from '../errors.js';
import { compileGlobalRules } from './global-rules.js';
import { parseWebConfig } from './web-config.js';
import { AttributeReader, isGenericAttribute } from './xml-attributes.js';
import { parseXml } from './xml.js';

test('one rule for generic attributes: the five lock attributes, xmlns and xdt:, nothing else', () => {
  for (const name of ['lockAttributes', 'lockAllAttributesExcept', 'lockElements', 'lockAllElementsExcept', 'lockItem', 'xmlns', 'xmlns:x', 'xdt:Transform']) {
    assert.ok(isGenericAttribute(name), name);
  }
  for (const name of ['lock', 'lockFoo', 'LockItem', 'xdt', 'xmlnsx']) assert.ok(!isGenericAttribute(name), name);
});

test('every reader applies the same rule: web.config sections, rewrite rules, request filtering', () => {
  const rule = (extra: string) => `<globalRules><rule name="R" ${extra}><match url=".*"/><action type="None"/></rule></globalRules>`;
  assert.deepEqual(compileGlobalRules(rule('lockItem="true"'), 'g.xml').errors, []);
  assert.equal(compileGlobalRules(rule('lockFoo="true"'), 'g.xml').errors[0]?.code, 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE');
  const webConfig = (extra: string) =>
    parseWebConfig(
      `<configuration><system.webServer>
    <staticContent ${extra}/><security><requestFiltering><verbs ${extra}/></requestFiltering></security>
  </system.webServer></configuration>`,
      '/site/web.config',
      '/',
    );
  assert.deepEqual(webConfig('lockElements="x"').top.errors, []);
  assert.deepEqual(
    webConfig('lockFoo="x"').top.errors.map((error) => error.code),
    ['NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE', 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE'],
  );
});

test('typed reads return the fallback when absent or bad, report bad values in the chosen wording, and count them', () => {
  const element = parseXml('<e flag=" TRUE " bad="yes" kind="file" n=" 42 " big="4294967296"/>', 'f.xml');
  const errors: NodehostError[] = [];
  const config = new AttributeReader('f.xml', errors, 'section/e');
  assert.equal(config.bool(element, 'flag', false), true);
  assert.equal(config.bool(element, 'absent', undefined), undefined);
  assert.equal(config.enumValue(element, 'kind', ['File', 'Directory'] as const, 'Directory'), 'File');
  assert.equal(config.uint(element, 'n', 0), 42);
  assert.equal(config.count, 0);
  assert.equal(config.bool(element, 'bad', false), false);
  assert.equal(config.uint(element, 'big', 7), 7);
  assert.deepEqual(
    errors.map((error) => error.message),
    ["section/e: bad must be true or false, not 'yes'", "section/e: big must be a non-negative integer, not '4294967296'"],
  );
  const rewrite = new AttributeReader('f.xml', errors, "Rule 'R'", 'rewrite');
  rewrite.bool(element, 'bad', false);
  rewrite.checkAttributes(element, ['flag']);
  assert.equal(errors[2]?.message, "Rule 'R': The bad parameter 'yes' was not recognized (true or false)");
  assert.equal(errors[3]?.message, "Rule 'R': unknown attribute 'bad' on <e>");
  assert.deepEqual(errors[3]?.source, { file: 'f.xml', line: 1, column: errors[3]?.source?.column });
  assert.equal(rewrite.count, 5);
});

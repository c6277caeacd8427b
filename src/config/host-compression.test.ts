import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { NodehostError } from '../errors.js';
import { FolderMerge } from './folder-merge.js';
import { loadHostCompression, readHostCompression } from './host-compression.js';
import { parseWebConfig } from './web-config.js';

const YML = '/etc/nodehost/nodehost.yml';

function host(xml: string) {
  const errors: NodehostError[] = [];
  const compression = readHostCompression(xml, YML, 3, errors);
  return { compression, errors };
}

/** siteLevel merges a root web.config holding `body` over the host's section. */
function siteLevel(hostXml: string, body = '') {
  const { compression } = host(hostXml);
  const file = parseWebConfig(`<configuration><system.webServer>${body}</system.webServer></configuration>`, '/site/web.config', '/');
  const merge = FolderMerge.base({ compression }).child();
  const errors = merge.apply(file.top);
  return { config: merge.freeze().compression, errors: [...file.top.errors, ...errors] };
}

test('every accepted root element, and the sections inside wrappers', () => {
  for (const xml of [
    '<httpCompression minFileSizeForComp="10"/>',
    '<system.webServer><httpCompression minFileSizeForComp="10"/><caching enabled="false"/></system.webServer>',
    '<configuration><system.webServer><httpCompression minFileSizeForComp="10"/></system.webServer></configuration>',
  ]) {
    const { compression, errors } = host(xml);
    assert.deepEqual(errors, [], xml);
    assert.equal(compression.minFileSizeForComp, 10, xml);
  }
  const { compression } = host('<urlCompression doStaticCompression="false"/>');
  assert.equal(compression.doStaticCompression, false);
  const wrong = host('<caching/>');
  assert.match(wrong.errors[0]!.message, /must hold <httpCompression> or <urlCompression>/);
});

test('errors name the host file and the line counted from where the XML starts', () => {
  const { errors } = host('<httpCompression\n  minFileSizeForComp="big">\n  <scheme name="zip"/>\n</httpCompression>');
  assert.deepEqual(
    errors.map((err) => err.source?.line),
    [4, 5],
  );
  assert.equal(errors[0]!.source?.file, YML);
});

test("host entries replace IIS's built-in ones; the same type twice in the host is a duplicate", () => {
  const pasted = host('<httpCompression><staticTypes><add mimeType="text/*" enabled="false"/></staticTypes></httpCompression>');
  assert.deepEqual(pasted.errors, []);
  const twice = host('<httpCompression><staticTypes><add mimeType="image/png"/><add mimeType="image/png"/></staticTypes></httpCompression>');
  assert.equal(twice.errors[0]?.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
});

test('web.config merges over the host: attributes override, a host type added again is 500.19 naming nodehost.yml', () => {
  const hostXml =
    '<httpCompression minFileSizeForComp="50"><staticTypes><add mimeType="image/png"/><add mimeType="text/*" enabled="false"/></staticTypes></httpCompression>';
  const inherited = siteLevel(hostXml);
  assert.deepEqual(inherited.errors, []);
  assert.equal(inherited.config.minFileSizeForComp, 50);
  assert.equal(inherited.config.staticTypes.isEnabled('image/png'), true);
  assert.equal(inherited.config.staticTypes.isEnabled('text/css'), false);
  assert.equal(inherited.config.dynamicTypes.isEnabled('text/html'), true, 'untouched lists keep the built-in defaults');
  const overridden = siteLevel(hostXml, '<httpCompression minFileSizeForComp="5000"/>');
  assert.equal(overridden.config.minFileSizeForComp, 5000);
  const duplicate = siteLevel(hostXml, '<httpCompression><staticTypes><add mimeType="image/png"/></staticTypes></httpCompression>');
  assert.equal(duplicate.errors[0]?.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
  assert.match(duplicate.errors[0]!.message, /already defined \(at \/etc\/nodehost\/nodehost\.yml:3\)/);
  const removed = siteLevel(hostXml, '<httpCompression><staticTypes><remove mimeType="image/png"/></staticTypes></httpCompression>');
  assert.equal(removed.config.staticTypes.isEnabled('image/png'), false);
});

test('loadHostCompression reads a file relative to nodehost.yml, throws file:line for its errors, and an empty value is none', () => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'nodehost-host-compression-'));
  try {
    fs.writeFileSync(path.join(dir, 'compression.xml'), '<httpCompression minFileSizeForComp="64"/>\n');
    fs.writeFileSync(path.join(dir, 'bad.xml'), '\n<httpCompression minFileSizeForComp="-1"/>\n');
    const at = { file: path.join(dir, 'nodehost.yml'), line: 4 };
    const resolvePath = (relative: string) => path.join(dir, relative);
    assert.equal(loadHostCompression('compression.xml', at, 4, resolvePath)?.minFileSizeForComp, 64);
    assert.equal(loadHostCompression('  ', at, 4, resolvePath), undefined);
    assert.throws(
      () => loadHostCompression('bad.xml', at, 4, resolvePath),
      (err: NodehostError) => err.toString().includes('bad.xml:2'),
    );
    assert.throws(
      () => loadHostCompression('missing.xml', at, 4, resolvePath),
      (err: NodehostError) => err.code === 'NH_ERR_CONFIG_HOST' && err.source?.line === 4,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

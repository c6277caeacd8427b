import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_DYNAMIC_TYPES, BASE_STATIC_TYPES, MimeTypeList } from './compression-config.js';
import { FolderMerge } from './folder-merge.js';
import { parseWebConfig } from './web-config.js';

function compile(body: string) {
  const file = parseWebConfig(`<configuration><system.webServer>${body}</system.webServer></configuration>`, '/site/web.config', '/');
  const merge = FolderMerge.base().child();
  merge.apply(file.top);
  return { config: merge.freeze().compression!, errors: [...file.errors, ...file.top.errors] };
}

test('IIS defaults, with application/json added and text/event-stream disabled', () => {
  const { config, errors } = compile('');
  assert.deepEqual(errors, []);
  assert.equal(config.minFileSizeForComp, 2700);
  assert.equal(
    config.doStaticCompression &&
      config.doDynamicCompression &&
      config.noCompressionForRange &&
      config.noCompressionForHttp10 &&
      config.noCompressionForProxies,
    true,
  );
  assert.deepEqual(config.schemes, ['br', 'gzip', 'deflate']);
  for (const type of ['text/html', 'text/css; charset=utf-8', 'application/javascript', 'application/json', 'image/svg+xml', 'message/rfc822']) {
    assert.equal(config.staticTypes.isEnabled(type), true, type);
  }
  assert.equal(config.staticTypes.isEnabled('image/png'), false);
  assert.equal(config.dynamicTypes.isEnabled('application/x-javascript'), true);
  assert.equal(config.dynamicTypes.isEnabled('text/event-stream'), false);
  assert.equal(config.dynamicTypes.isEnabled('application/octet-stream'), false);
});

test('the most specific entry wins, the first of equal specificity', () => {
  const list = new MimeTypeList([
    ['*/*', true],
    ['text/*', false],
    ['text/plain', true],
    ['text/plain;charset=utf-8', false],
    ['text/plain', false],
  ]);
  assert.equal(list.isEnabled('image/png'), true);
  assert.equal(list.isEnabled('text/html'), false);
  assert.equal(list.isEnabled('TEXT/PLAIN'), true);
  assert.equal(list.isEnabled('text/plain; charset=UTF-8'), false);
  assert.equal(list.isEnabled('not a type'), false);
  assert.equal(BASE_STATIC_TYPES.length > 0 && BASE_DYNAMIC_TYPES.length > 0, true);
});

test('add, remove, clear and schemes', () => {
  const { config, errors } = compile(`
    <urlCompression doStaticCompression="false"/>
    <httpCompression minFileSizeForComp="0" noCompressionForRange="false">
      <scheme name="gzip" dll="%Windir%\\system32\\inetsrv\\gzip.dll"/>
      <scheme name="br" doStaticCompression="false" doDynamicCompression="false"/>
      <staticTypes><clear/><add mimeType="application/wasm" enabled="true"/></staticTypes>
      <dynamicTypes><remove mimeType="text/event-stream"/><add mimeType="text/event-stream"/></dynamicTypes>
    </httpCompression>`);
  assert.deepEqual(errors, []);
  assert.equal(config.doStaticCompression, false);
  assert.equal(config.minFileSizeForComp, 0);
  assert.equal(config.noCompressionForRange, false);
  assert.deepEqual(config.schemes, ['gzip', 'deflate']);
  assert.equal(config.staticTypes.isEnabled('text/html'), false);
  assert.equal(config.staticTypes.isEnabled('application/wasm'), true);
  assert.equal(config.dynamicTypes.isEnabled('text/event-stream'), true);
});

test('a repeated type without <remove> is a duplicate; bad values name file and line', () => {
  const duplicate = compile('<httpCompression><dynamicTypes><add mimeType="text/*" enabled="true"/></dynamicTypes></httpCompression>');
  const merge = FolderMerge.base().child();
  const file = parseWebConfig(
    '<configuration><system.webServer><httpCompression><dynamicTypes><add mimeType="text/*"/></dynamicTypes></httpCompression></system.webServer></configuration>',
    '/s/web.config',
    '/',
  );
  assert.equal(merge.apply(file.top)[0]?.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
  assert.deepEqual(duplicate.errors, []);
  const bad = compile('<httpCompression\n minFileSizeForComp="-1" foo="1"><scheme name="lzma"/></httpCompression>');
  assert.deepEqual(
    bad.errors.map((e) => [e.code, e.source?.line]),
    [
      ['NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE', 2],
      ['NH_ERR_CONFIG_BAD_VALUE', 2],
      ['NH_ERR_CONFIG_BAD_VALUE', 2],
    ],
  );
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNeverServed } from './never-served.js';

describe('isNeverServed', () => {
  test('web.config, iisnode.yml and node_modules in any segment, case-insensitively', () => {
    for (const path of [
      '/web.config',
      '/Web.Config',
      '/sub/web.config',
      '/iisnode.yml',
      '/app/IISNODE.YML',
      '/node_modules',
      '/node_modules/',
      '/node_modules/x/package.json',
      '/a/Node_Modules/b',
    ]) {
      assert.equal(isNeverServed(path), true, path);
    }
  });

  test('whole segments only', () => {
    for (const path of ['/', '/index.html', '/node_modules_old/x', '/my-node_modules/x', '/web.config.txt', '/iisnode.yml.bak', '/a/b/c.html', '/bin/x']) {
      assert.equal(isNeverServed(path), false, path);
    }
  });

  test('dot-segments, except .well-known', () => {
    for (const path of ['/.git/config', '/.env', '/a/.npmrc', '/.', '/a/../b', '/.Well-Known/x', '/a/.well-known.bak']) {
      assert.equal(isNeverServed(path), true, path);
    }
    for (const path of ['/.well-known/acme-challenge/token', '/.well-known/security.txt', '/a.b/c', '/file.']) {
      assert.equal(isNeverServed(path), false, path);
    }
  });

  test('a bare file name is one segment', () => {
    assert.equal(isNeverServed('web.config'), true);
    assert.equal(isNeverServed('.index.html'), true);
    assert.equal(isNeverServed('index.html'), false);
  });
});

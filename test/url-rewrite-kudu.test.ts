/**
 * The Kudu (Azure App Service) iisnode web.config with an express app, end to end
 * (spec/rewrite.md §4.3): files under public/ are served statically, everything else goes to
 * node, node sees the original URL, web.config is never served. node_modules is not one of IIS's
 * hidden segments, so its URLs reach the rules and node like any other (docs/security.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

let host: RunningHost;

before(async () => {
  host = await startNodehost(`${SITES}rewrite-kudu`);
});

after(async () => {
  await host?.stop();
});

async function node(target: string): Promise<{ url: string; originalUrl: string | null }> {
  const reply = await fetchStrict(host.url, target);
  assert.equal(reply.status, 200, `${target}: ${reply.text.slice(0, 200)}`);
  // Express's own X-Powered-By, then the built-in customHeaders entry nodehost adds to every response.
  assert.equal(reply.headers['x-powered-by'], 'Express, nodehost', `${target} reached express`);
  return JSON.parse(reply.text) as { url: string; originalUrl: string | null };
}

describe('Kudu express template', () => {
  test('existing files under public/ are static, with their MIME type and ETag', async () => {
    for (const target of ['/css/site.css', '/css/site.css?v=1']) {
      const reply = await fetchStrict(host.url, target);
      assert.equal(reply.status, 200, target);
      assert.equal(reply.text, 'body { color: red; }\n');
      assert.match(String(reply.headers['content-type']), /^text\/css/);
      assert.ok(reply.headers.etag, 'static responses carry an ETag');
      assert.equal(reply.headers['x-powered-by'], 'nodehost', 'not served by express (only the built-in custom header)');
    }
  });

  test('everything else goes to node, which sees the original URL and X-Original-URL', async () => {
    assert.deepEqual(await node('/'), { from: 'express', method: 'GET', url: '/', originalUrl: '/' });
    assert.deepEqual(await node('/users/42?x=1'), { from: 'express', method: 'GET', url: '/users/42?x=1', originalUrl: '/users/42?x=1' });
    assert.equal((await node('/public/css/site.css')).url, '/public/css/site.css');
    assert.equal((await node('/server.js')).url, '/server.js');
    assert.equal((await node('/css/')).url, '/css/');
    assert.equal((await node('/bin/readme.txt')).url, '/bin/readme.txt');
  });

  test('node_modules, iisnode.yml and dot-files are not hidden before the rules: node gets them with req.url unchanged', async () => {
    for (const target of [
      '/node_modules/express/package.json',
      '/node_modules/express/package.json?v=1',
      '/Node_Modules/x',
      '/iisnode.yml',
      '/.env',
      '/.git/HEAD',
    ]) {
      assert.deepEqual(await node(target), { from: 'express', method: 'GET', url: target, originalUrl: target }, target);
    }
  });

  test('web.config and App_Data are hidden before the rules run; a+b is double escaping', async () => {
    for (const target of ['/web.config', '/app_data/x', '/a+b', '/public/../web.config']) {
      assert.equal((await fetchStrict(host.url, target)).status, 404, target);
    }
  });

  test("node's own 500 with a JSON body passes through unchanged", async () => {
    const reply = await fetchStrict(host.url, '/fail');
    assert.equal(reply.status, 500);
    assert.equal(reply.text, '{"error":"boom"}');
  });
});

// Static content next to node apps: MIME gate, validators, ranges, default documents, hidden segments.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

let host: RunningHost;
before(async () => {
  host = await startNodehost(SITES + 'main');
});
after(async () => {
  assert.equal(await host.stop(), 0);
});

describe('static files', () => {
  test('serves files with IIS MIME types and no charset', async () => {
    const css = await fetchStrict(host.url, '/style.css');
    assert.equal(css.status, 200);
    assert.equal(css.headers['content-type'], 'text/css');
    assert.equal(css.text, 'body { color: black; }\n');
    const js = await fetchStrict(host.url, '/client.js');
    assert.equal(js.status, 200, 'a .js file that is not mapped to iisnode is static content');
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.equal(js.text, 'console.log("client side");\n');
  });

  test('an extension without a MIME mapping is refused (404.3); staticContent mimeMap adds one', async () => {
    assert.equal((await fetchStrict(host.url, '/data.yml')).status, 404);
    const custom = await fetchStrict(host.url, '/file.custom');
    assert.equal(custom.status, 200);
    assert.equal(custom.headers['content-type'], 'application/x-custom');
  });

  test('missing files are 404', async () => {
    assert.equal((await fetchStrict(host.url, '/nope.html')).status, 404);
  });

  test('ETag and Last-Modified give 304 on revalidation', async () => {
    const first = await fetchStrict(host.url, '/index.html');
    assert.equal(first.status, 200);
    const etag = first.headers.etag!;
    assert.ok(etag, 'has an ETag');
    assert.ok(first.headers['last-modified'], 'has Last-Modified');
    const byTag = await fetchStrict(host.url, '/index.html', { headers: { 'If-None-Match': etag } });
    assert.equal(byTag.status, 304);
    assert.equal(byTag.body.length, 0);
    const byDate = await fetchStrict(host.url, '/index.html', { headers: { 'If-Modified-Since': first.headers['last-modified']! } });
    assert.equal(byDate.status, 304);
  });

  test('Range requests get 206 and 416', async () => {
    const part = await fetchStrict(host.url, '/style.css', { headers: { Range: 'bytes=0-3' } });
    assert.equal(part.status, 206);
    assert.equal(part.text, 'body');
    assert.match(String(part.headers['content-range']), /^bytes 0-3\/23$/);
    const bad = await fetchStrict(host.url, '/style.css', { headers: { Range: 'bytes=500-600' } });
    assert.equal(bad.status, 416);
  });

  test('HEAD has the headers and no body', async () => {
    const head = await fetchStrict(host.url, '/style.css', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '23');
    assert.equal(head.body.length, 0);
  });
});

describe('default documents', () => {
  test('the site root serves index.html from the IIS default list', async () => {
    const root = await fetchStrict(host.url, '/');
    assert.equal(root.status, 200);
    assert.match(root.text, /main site/);
  });

  test('a directory without its slash gets a courtesy 301 with an absolute Location and the query kept', async () => {
    const reply = await fetchStrict(host.url, '/docs?x=1');
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, `${host.url}/docs/?x=1`);
    const docs = await fetchStrict(host.url, '/docs/');
    assert.equal(docs.status, 200);
    assert.match(docs.text, /docs index/);
  });

  test('a directory without a default document is 403', async () => {
    assert.equal((await fetchStrict(host.url, '/empty/')).status, 403);
  });

  test('a default document may be a node application (index.js mapped to iisnode)', async () => {
    const reply = await fetchStrict(host.url, '/app/');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'Hello, world! [default document app]');
  });
});

describe('hidden content', () => {
  for (const path of [
    '/web.config',
    '/iisnode.yml',
    '/node_modules/pkg/index.js',
    '/.env',
    '/bin/x.txt',
    '/secret/x.txt',
    '/SECRET/x.txt',
    '/app/web.config',
    '/WEB.CONFIG',
  ]) {
    test(`${path} is never served`, async () => {
      const reply = await fetchStrict(host.url, path);
      assert.equal(reply.status, 404);
      assert.doesNotMatch(reply.text, /configuration|module\.exports|SECRET=1/);
    });
  }

  test('hiddenSegments remove un-hides an IIS default segment in its folder', async () => {
    const reply = await fetchStrict(host.url, '/unhidden/bin/x.txt');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'bin is served here\n');
  });

  test('.well-known stays reachable', async () => {
    assert.equal((await fetchStrict(host.url, '/.well-known/test.txt')).status, 200);
  });

  test('URLs that climb above the root are refused', async () => {
    const reply = await fetchStrict(host.url, '/../../etc/passwd');
    assert.equal(reply.status, 400);
    const encoded = await fetchStrict(host.url, '/%2e%2e/%2e%2e/etc/passwd');
    assert.equal(encoded.status, 400);
  });
});

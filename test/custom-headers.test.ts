// httpProtocol customHeaders and redirectHeaders on every kind of response, and staticContent clientCache.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict, type StrictReply } from './helpers/strict-http.js';

let host: RunningHost;
before(async () => {
  host = await startNodehost(SITES + 'custom-headers');
});
after(async () => {
  assert.equal(await host.stop(), 0);
});

/** values lists every value a header came with, repeats separate, in order. */
function values(reply: StrictReply, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) if (reply.rawHeaders[i]!.toLowerCase() === name) out.push(reply.rawHeaders[i + 1]!);
  return out;
}

describe('customHeaders', () => {
  test('a static file gets the built-in X-Powered-By and the site header, and no redirect header', async () => {
    const reply = await fetchStrict(host.url, '/file.txt');
    assert.equal(reply.status, 200);
    assert.deepEqual(values(reply, 'x-powered-by'), ['nodehost']);
    assert.deepEqual(values(reply, 'x-site'), ['root']);
    assert.deepEqual(values(reply, 'x-redirect'), []);
    assert.equal(reply.text, 'plain file\n');
  });

  test('HEAD and 304 answers carry them too', async () => {
    const head = await fetchStrict(host.url, '/file.txt', { method: 'HEAD' });
    assert.deepEqual(values(head, 'x-site'), ['root']);
    const first = await fetchStrict(host.url, '/file.txt');
    const again = await fetchStrict(host.url, '/file.txt', { headers: { 'If-None-Match': String(first.headers.etag) } });
    assert.equal(again.status, 304);
    assert.deepEqual(values(again, 'x-site'), ['root']);
  });

  test("a node response gets them beside its own headers: node's X-Powered-By is kept and nodehost's added, as IIS does", async () => {
    const reply = await fetchStrict(host.url, '/app.js');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'hello from node');
    assert.deepEqual(values(reply, 'x-powered-by'), ['Express', 'nodehost']);
    assert.deepEqual(values(reply, 'x-site'), ['root']);
    assert.deepEqual(values(reply, 'x-redirect'), []);
  });

  test('a URL Rewrite redirect gets customHeaders and redirectHeaders', async () => {
    const reply = await fetchStrict(host.url, '/old');
    assert.equal(reply.status, 302);
    assert.match(String(reply.headers.location), /\/file\.txt$/);
    assert.deepEqual(values(reply, 'x-site'), ['root']);
    assert.deepEqual(values(reply, 'x-redirect'), ['yes']);
  });

  test("the default document's slash redirect gets customHeaders and redirectHeaders", async () => {
    const reply = await fetchStrict(host.url, '/docs');
    assert.equal(reply.status, 301);
    assert.match(String(reply.headers.location), /\/docs\/$/);
    assert.deepEqual(values(reply, 'x-site'), ['root']);
    assert.deepEqual(values(reply, 'x-redirect'), ['yes']);
    const page = await fetchStrict(host.url, '/docs/');
    assert.equal(page.status, 200);
    assert.deepEqual(values(page, 'x-redirect'), []);
  });

  test('a static 404 page gets them', async () => {
    const reply = await fetchStrict(host.url, '/missing.txt');
    assert.equal(reply.status, 404);
    assert.deepEqual(values(reply, 'x-powered-by'), ['nodehost']);
    assert.deepEqual(values(reply, 'x-site'), ['root']);
  });

  test('a 503 from the iisnode handler (every process busy) gets them', async () => {
    // maxConcurrentRequestsPerProcess=1 and one process: while /slow runs, the next request is refused.
    const slow = fetchStrict(host.url, '/app.js/slow');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const busy = await fetchStrict(host.url, '/app.js/busy');
    assert.equal(busy.status, 503);
    assert.deepEqual(values(busy, 'x-powered-by'), ['nodehost']);
    assert.deepEqual(values(busy, 'x-site'), ['root']);
    assert.equal((await slow).status, 200);
  });

  test('a sub folder inherits and adds; remove drops X-Powered-By; clear drops everything inherited', async () => {
    const sub = await fetchStrict(host.url, '/sub/a.txt');
    assert.deepEqual(values(sub, 'x-powered-by'), ['nodehost']);
    assert.deepEqual(values(sub, 'x-site'), ['root']);
    assert.deepEqual(values(sub, 'x-sub'), ['sub']);
    const removed = await fetchStrict(host.url, '/sub/noxpb/a.txt');
    assert.deepEqual(values(removed, 'x-powered-by'), []);
    assert.deepEqual(values(removed, 'x-sub'), ['sub']);
    const removedMissing = await fetchStrict(host.url, '/sub/noxpb/missing.txt');
    assert.equal(removedMissing.status, 404);
    assert.deepEqual(values(removedMissing, 'x-powered-by'), []);
    const cleared = await fetchStrict(host.url, '/cleared/a.txt');
    assert.deepEqual(values(cleared, 'x-powered-by'), []);
    assert.deepEqual(values(cleared, 'x-site'), []);
    assert.deepEqual(values(cleared, 'x-only'), ['1']);
  });

  test('adding an inherited name again is a configuration error (500.19) naming the file and line', async () => {
    const reply = await fetchStrict(host.url, '/dup/a.txt');
    // Loopback clients get the configuration error page (iisnode answers it with 200).
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-nodehost-substatus'], '19');
    assert.match(
      reply.text,
      /dup\/web\.config:6:\d+: Cannot add duplicate collection entry to system\.webServer\/httpProtocol\/customHeaders: name &#39;X-Site&#39;/,
    );
    assert.match(reply.text, /custom-headers\/web\.config:10/);
    // The rest of the site is served.
    assert.equal((await fetchStrict(host.url, '/file.txt')).status, 200);
  });
});

describe('clientCache', () => {
  test('NoControl (the default) adds no caching header', async () => {
    const reply = await fetchStrict(host.url, '/file.txt');
    assert.equal(reply.headers['cache-control'], undefined);
    assert.equal(reply.headers.expires, undefined);
  });

  test('UseMaxAge gives max-age in seconds with the custom directives', async () => {
    const reply = await fetchStrict(host.url, '/max/a.txt');
    assert.equal(reply.status, 200);
    assert.deepEqual(String(reply.headers['cache-control']).split(/,\s*/).sort(), ['max-age=604800', 'public']);
    const again = await fetchStrict(host.url, '/max/a.txt', { headers: { 'If-None-Match': String(reply.headers.etag) } });
    assert.equal(again.status, 304);
    assert.equal(again.headers['cache-control'], reply.headers['cache-control'], 'a 304 carries the Cache-Control a 200 would');
  });

  test('DisableCache gives no-cache', async () => {
    const reply = await fetchStrict(host.url, '/off/a.txt');
    assert.equal(reply.headers['cache-control'], 'no-cache');
  });

  test('UseExpires gives the httpExpires date', async () => {
    const reply = await fetchStrict(host.url, '/expires/a.txt');
    assert.equal(reply.headers.expires, 'Fri, 01 Jan 2038 00:00:00 GMT');
    assert.equal(reply.headers['cache-control'], undefined);
  });

  test('clientCache is for static files: a node response and an error page get none', async () => {
    const missing = await fetchStrict(host.url, '/max/missing.txt');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['cache-control'], undefined);
  });
});

// Failures stay contained: crashes, apps that cannot start, broken configuration.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fetchRaw, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';

let host: RunningHost;
before(async () => {
  host = await startNodehost(SITES + 'main');
});
after(async () => {
  assert.equal(await host.stop(), 0);
});

describe('worker crashes', () => {
  test('a worker that dies while serving fails only its own request and is replaced', async () => {
    const before = (await fetchRaw(host.url, '/crash/server.js/count')).text.split(' ')[0];
    const crashed = await fetchRaw(host.url, '/crash/server.js/crash').catch((err: Error) => err);
    // The head was already sent ("partial"), so the client sees a cut-off response or a reset.
    if (!(crashed instanceof Error)) assert.notEqual(crashed.text, 'partial-and-complete');
    const after = await fetchRaw(host.url, '/crash/server.js/count');
    assert.equal(after.status, 200);
    const [pid, count] = after.text.split(' ');
    assert.notEqual(pid, before, 'a new process serves');
    assert.equal(count, '1', 'fresh state');
    assert.equal((await fetchRaw(host.url, '/hello.js')).status, 200, 'other applications are unaffected');
  });
});

describe('applications that cannot start', () => {
  test('devErrorsEnabled (default): HTTP 200 developer page with 500.1002 and the escaped stderr', async () => {
    const reply = await fetchRaw(host.url, '/failing/server.js');
    assert.equal(reply.status, 200);
    assert.match(reply.headers['content-type'] as string, /text\/html/);
    assert.match(reply.text, /iisnode encountered an error when processing the request/);
    assert.match(reply.text, /HTTP status: 500/);
    assert.match(reply.text, /HTTP subStatus: 1002/);
    assert.match(reply.text, /SyntaxError/);
    assert.match(reply.text, /&quot;&amp;&lt;&gt;&#39;/, 'stderr is HTML-escaped');
    assert.doesNotMatch(reply.text, /"&<>'/);
    // The failure is answered again, not hung, on the next request.
    assert.equal((await fetchRaw(host.url, '/failing/server.js')).status, 200);
  });

  test('devErrorsEnabled=false: a plain 500 with no internals', async () => {
    const reply = await fetchRaw(host.url, '/failing-off/server.js');
    assert.equal(reply.status, 500);
    assert.doesNotMatch(reply.text, /SyntaxError|server\.js/);
  });

  test('a nodeProcessCommandLine that does not exist gives the 1028 message', async () => {
    const reply = await fetchRaw(host.url, '/nocmd/server.js');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /unable to start the node\.exe process/);
  });
});

describe('broken configuration', () => {
  test('a malformed web.config answers the friendly page in its folder only', async () => {
    const reply = await fetchRaw(host.url, '/broken/server.js');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /unable to read the configuration file/);
    assert.match(reply.text, /broken\/web\.config:\d+/, 'names the file and line');
    assert.equal((await fetchRaw(host.url, '/broken/page.html')).status, 200 /* friendly page, not the file */);
    assert.doesNotMatch((await fetchRaw(host.url, '/broken/page.html')).text, /broken folder page/);
    assert.equal((await fetchRaw(host.url, '/hello.js')).text, 'Hello, world! [main]', 'the rest of the site keeps working');
  });

  test('an unknown iisnode attribute is a configuration error naming it', async () => {
    const reply = await fetchRaw(host.url, '/unknownattr/server.js');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /unable to read the configuration file/);
    assert.match(reply.text, /idontexist/);
  });

  test('a bad iisnode.yml answers the iisnode.yml friendly page for that application only', async () => {
    const reply = await fetchRaw(host.url, '/badyml/server.js');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /unable to read the configuration file iisnode\.yml/);
    assert.match(reply.text, /iisnode\.yml:1/);
    assert.equal((await fetchRaw(host.url, '/env/server.js')).status, 200);
  });
});

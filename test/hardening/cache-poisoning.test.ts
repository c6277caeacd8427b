/**
 * Cache poisoning through unkeyed input (docs/output-cache.md "What is cached", docs/security.md):
 * an attacker's request carries something the output cache's key does not hold (an
 * X-Forwarded-Host, a method override, an odd Host, a body on a GET, an Accept-Encoding the
 * app reads differently), the app reflects it into its body (test/sites/hardening/cached),
 * and the next ordinary client must still get an answer made for its own request. Each test
 * uses its own URL, so entries never meet across tests; the last ones show that ordinary
 * and keyed requests are still cached.
 */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { RawConnection } from '../helpers/raw-http.js';
import { fetchStrict, type StrictReply } from '../helpers/strict-http.js';
import { startHardeningHost, type HardeningHost } from './hardening-host.js';

const EVIL = 'evil.example';

/** The headers an app may trust for links, routing or the method, each with an attacker's value. */
const OVERRIDES: [string, string][] = [
  ['X-Forwarded-Host', EVIL],
  ['X-Forwarded-Proto', 'https'],
  ['X-Forwarded-Scheme', 'https'],
  ['X-Forwarded-Port', '4443'],
  ['X-Forwarded-Prefix', '/evil'],
  ['X-Forwarded-Server', EVIL],
  ['X-Host', EVIL],
  ['Forwarded', `host=${EVIL};proto=https`],
  ['X-Original-URL', '/evil'],
  ['X-Rewrite-URL', '/evil'],
  ['X-HTTP-Method-Override', 'DELETE'],
  ['X-HTTP-Method', 'DELETE'],
  ['X-Method-Override', 'DELETE'],
];

/** echo is what the app said it saw. */
function echo(reply: StrictReply): Record<string, string | number> {
  assert.equal(reply.status, 200, reply.text);
  return JSON.parse(reply.text);
}

describe('output cache poisoning', () => {
  let host: HardeningHost;

  before(async () => {
    host = await startHardeningHost();
  });

  after(async () => {
    assert.equal(await host.close(), 0);
  });

  for (const [name, value] of OVERRIDES) {
    test(`a request with ${name} is not cached for the next clients`, async () => {
      const target = `/cached/app.js/override-${name.toLowerCase()}`;
      const attack = echo(await fetchStrict(host.url, target, { headers: { [name]: value } }));
      assert.equal(attack[name.toLowerCase()], value, 'the app reflects the header');
      const victim = echo(await fetchStrict(host.url, target));
      assert.equal(victim[name.toLowerCase()], undefined, `an ordinary client got the answer made for ${name}`);
    });
  }

  test('a request with an override header is not answered from the cache either', async () => {
    const target = '/cached/app.js/override-lookup';
    const first = echo(await fetchStrict(host.url, target));
    const overridden = echo(await fetchStrict(host.url, target, { headers: { 'X-HTTP-Method-Override': 'DELETE' } }));
    assert.equal(overridden['x-http-method-override'], 'DELETE', 'the app did not see the override');
    assert.ok(overridden.n !== first.n);
  });

  test('an odd spelling of the Host gets its own entry', async () => {
    const target = '/cached/app.js/host-spelling';
    const attack = echo(await fetchStrict(host.url, target, { headers: { Host: EVIL.toUpperCase() } }));
    assert.equal(attack.host, EVIL.toUpperCase());
    const victim = echo(await fetchStrict(host.url, target, { headers: { Host: `127.0.0.1:${host.port}` } }));
    assert.equal(victim.host, `127.0.0.1:${host.port}`);
  });

  test('another port in the Host gets its own entry', async () => {
    const target = '/cached/app.js/host-port';
    echo(await fetchStrict(host.url, target, { headers: { Host: '127.0.0.1:1' } }));
    const victim = echo(await fetchStrict(host.url, target, { headers: { Host: `127.0.0.1:${host.port}` } }));
    assert.equal(victim.host, `127.0.0.1:${host.port}`);
  });

  test('the same host spelled in another case or with a trailing dot shares the entry', async () => {
    const target = '/cached/app.js/host-same';
    const first = echo(await fetchStrict(host.url, target, { headers: { Host: 'shop.example' } }));
    const again = echo(await fetchStrict(host.url, target, { headers: { Host: 'SHOP.Example.' } }));
    assert.equal(again.n, first.n, 'the normalised host was not one key');
  });

  test('an absolute-form target naming another host gets its own entry', async () => {
    const target = '/cached/app.js/absolute-form';
    const connection = await RawConnection.open(host.port);
    await connection.write(`GET http://${EVIL}${target} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nConnection: close\r\n\r\n`);
    const attack = await connection.read();
    assert.equal(attack.status, 200);
    assert.equal(JSON.parse(attack.body.toString()).host, EVIL);
    connection.close();
    const victim = echo(await fetchStrict(host.url, target, { headers: { Host: `127.0.0.1:${host.port}` } }));
    assert.equal(victim.host, `127.0.0.1:${host.port}`);
  });

  test('a GET with a body is not cached for the next clients (a fat GET)', async () => {
    const target = '/cached/app.js/fat-get';
    const attack = echo(await fetchStrict(host.url, target, { headers: { 'Content-Length': '14' }, body: '_method=DELETE' }));
    assert.equal(attack.body, '_method=DELETE');
    const victim = echo(await fetchStrict(host.url, target));
    assert.equal(victim.body, '', 'an ordinary client got the answer made for a body');
  });

  test('a coding the app chose but the request did not accept (gzip;q=0) is not cached for clients without gzip', async () => {
    const target = '/cached/app.js/naive-gzip';
    const attack = await fetchStrict(host.url, target, { headers: { 'Accept-Encoding': 'gzip;q=0' } });
    assert.equal(attack.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(attack.body).length > 0);
    const victim = await fetchStrict(host.url, target);
    assert.equal(victim.headers['content-encoding'], undefined, 'a client that accepts no coding got gzip');
    echo(victim);
  });

  test('an ordinary request is still cached', async () => {
    const target = '/cached/app.js/plain';
    const first = await fetchStrict(host.url, target);
    const second = await fetchStrict(host.url, target);
    assert.equal(second.headers['x-nodehost-cache'], 'hit');
    assert.equal(echo(second).n, echo(first).n);
  });

  test('an override header the profile keys by (varyByHeaders) is cached, per value', async () => {
    const target = '/cached/keyed/app.js/keyed';
    const attack = echo(await fetchStrict(host.url, target, { headers: { 'X-Forwarded-Host': EVIL } }));
    const victim = echo(await fetchStrict(host.url, target));
    assert.equal(victim['x-forwarded-host'], undefined);
    const again = await fetchStrict(host.url, target, { headers: { 'X-Forwarded-Host': EVIL } });
    assert.equal(again.headers['x-nodehost-cache'], 'hit');
    assert.equal(echo(again).n, attack.n);
  });
});

describe('output cache behind a trusted balancer', () => {
  let host: HardeningHost;

  before(async () => {
    host = await startHardeningHost('trustedProxies: 127.0.0.1\n');
  });

  after(async () => {
    assert.equal(await host.close(), 0);
  });

  test("the balancer's X-Forwarded-Proto is part of the key: http and https clients get their own entries, each cached", async () => {
    const target = '/cached/app.js/balanced';
    const https = echo(await fetchStrict(host.url, target, { headers: { 'X-Forwarded-Proto': 'https' } }));
    const http = echo(await fetchStrict(host.url, target, { headers: { 'X-Forwarded-Proto': 'http' } }));
    assert.equal(http['x-forwarded-proto'], 'http', 'an http client got the answer made for https');
    const again = await fetchStrict(host.url, target, { headers: { 'X-Forwarded-Proto': 'https' } });
    assert.equal(again.headers['x-nodehost-cache'], 'hit');
    assert.equal(echo(again).n, https.n);
  });
});

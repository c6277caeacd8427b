/**
 * trustedProxies (a host-wide key, here in the short form): a connection from a trusted proxy
 * has its client taken from X-Forwarded-For, for the application's REMOTE_ADDR, ipSecurity and
 * the loopback-only log folder; from anyone else the header changes nothing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-proxies-'));
after(() => rmSync(DIR, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(join(DIR, file, '..'), { recursive: true });
  writeFileSync(join(DIR, file), text);
}

/** remoteAddr is the REMOTE_ADDR node was given (the test app's /request route with promoteServerVars). */
function remoteAddr(text: string): string | undefined {
  const { rawHeaders } = JSON.parse(text) as { rawHeaders: string[] };
  const index = rawHeaders.findIndex((name, i) => i % 2 === 0 && name.toLowerCase() === 'x-iisnode-remote_addr');
  return index === -1 ? undefined : rawHeaders[index + 1];
}

describe('trustedProxies', () => {
  const hosts: RunningHost[] = [];
  let trusting: RunningHost;
  let plain: RunningHost;

  before(async () => {
    write('site/app.js', `require(${JSON.stringify(join(SITES, '_lib', 'test-app.js'))}).start('proxied');\n`);
    write(
      'site/web.config',
      '<configuration><system.webServer><handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode" /></handlers><iisnode promoteServerVars="REMOTE_ADDR" /></system.webServer></configuration>',
    );
    write(
      'site/denied/web.config',
      '<configuration><system.webServer><security><ipSecurity><add ipAddress="203.0.113.0" subnetMask="255.255.255.0" allowed="false" /></ipSecurity></security></system.webServer></configuration>',
    );
    write('site/denied/page.txt', 'page\n');
    write('trusting.yml', 'root: site\nlogs: ""\ntrustedProxies: [127.0.0.1, "::1"]\n');
    trusting = await startNodehost('', { args: ['--config', join(DIR, 'trusting.yml')] });
    hosts.push(trusting);
    plain = await startNodehost(join(DIR, 'site'), { args: ['--no-metrics'] });
    hosts.push(plain);
  });
  after(() => Promise.all(hosts.map((host) => host.stop())));

  const forwarded = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' };

  test('behind a trusted proxy, the application sees the forwarded client as REMOTE_ADDR', async () => {
    assert.equal(remoteAddr((await fetchStrict(trusting.url, '/app.js/request', { headers: forwarded })).text), '203.0.113.7');
    assert.equal(remoteAddr((await fetchStrict(trusting.url, '/app.js/request')).text), '127.0.0.1');
  });

  test('ipSecurity judges the forwarded client, and the log folder is not given to it', async () => {
    const denied = await fetchStrict(trusting.url, '/denied/page.txt', { headers: forwarded });
    assert.equal(denied.status, 403);
    assert.equal((await fetchStrict(trusting.url, '/denied/page.txt')).status, 200);
    await fetchStrict(trusting.url, '/app.js');
    assert.equal((await fetchStrict(trusting.url, '/iisnode/', { headers: forwarded })).status, 403);
    assert.notEqual((await fetchStrict(trusting.url, '/iisnode/')).status, 403);
  });

  test('without trustedProxies the header changes nothing', async () => {
    assert.equal(remoteAddr((await fetchStrict(plain.url, '/app.js/request', { headers: forwarded })).text), '127.0.0.1');
    assert.equal((await fetchStrict(plain.url, '/denied/page.txt', { headers: forwarded })).status, 200);
  });
});

/**
 * trustedProxies end to end: a peer named in nodehost.yml (127.0.0.2, standing for a load
 * balancer) speaks for its client through X-Forwarded-For / X-Forwarded-Proto, and REMOTE_ADDR,
 * HTTPS, enableXFF, ipSecurity, the access log and the loopback-only log folder all see that
 * client; any other peer (127.0.0.1) sending the same forged headers is taken for itself. A
 * second host in its own folder checks the flow-style list with an IPv6 entry against one
 * without trustedProxies, where the header changes nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { accessLogLine } from './helpers/access-log.js';
import { waitForLog } from './helpers/recycle.js';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const BALANCER = '127.0.0.2';
const CLIENT = '198.51.100.7';

let temp: string;
let host: RunningHost;

before(async () => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-trusted-proxies-'));
  fs.cpSync(`${SITES}trusted-proxies`, path.join(temp, 'site'), { recursive: true });
  fs.cpSync(`${SITES}_lib`, path.join(temp, '_lib'), { recursive: true });
  fs.copyFileSync(`${SITES}package.json`, path.join(temp, 'package.json'));
  fs.writeFileSync(path.join(temp, 'nodehost.yml'), `root: site\ntrustedProxies:\n  - ${BALANCER}\n  - 10.0.0.0/8\n`);
  host = await startNodehost('', { args: ['--config', path.join(temp, 'nodehost.yml')] });
});

after(async () => {
  await host?.stop();
  fs.rmSync(temp, { recursive: true, force: true });
});

/** seen asks the app for the request as node received it, from `from`, and returns its headers by lower-case name. */
async function seen(from: string, headers: Record<string, string>, probe: string): Promise<Map<string, string[]>> {
  const reply = await fetchStrict(host.url, `/server.js/request?probe=${probe}`, { localAddress: from, headers });
  assert.equal(reply.status, 200);
  const raw = (JSON.parse(reply.text) as { rawHeaders: string[] }).rawHeaders;
  const byName = new Map<string, string[]>();
  for (let i = 0; i < raw.length; i += 2) byName.set(raw[i]!.toLowerCase(), [...(byName.get(raw[i]!.toLowerCase()) ?? []), raw[i + 1]!]);
  return byName;
}

const forged = { 'X-Forwarded-For': CLIENT, 'X-Forwarded-Proto': 'https' };

describe('from a trusted balancer', () => {
  it('the forwarded client becomes REMOTE_ADDR and HTTPS, for node and for the access log', async () => {
    const headers = await seen(BALANCER, forged, 'trusted');
    assert.deepEqual(headers.get('x-iisnode-remote_addr'), [CLIENT]);
    assert.deepEqual(headers.get('x-iisnode-https'), ['on']);
    // enableXFF finds the client already at the end of the balancer's list: it is not repeated.
    assert.deepEqual(headers.get('x-forwarded-for'), [CLIENT]);
    assert.deepEqual(headers.get('x-forwarded-proto'), ['https']);
    assert.equal((await accessLogLine(path.join(temp, 'logs', 'site'), '/server.js/request', 'trusted'))['c-ip'], CLIENT);
  });

  it('ipSecurity judges the forwarded client, and a remote client behind a local balancer is not local', async () => {
    const denied = await fetchStrict(host.url, '/blocked/', { localAddress: BALANCER, headers: { 'X-Forwarded-For': '203.0.113.9' } });
    assert.equal(denied.status, 403);
    const allowed = await fetchStrict(host.url, '/blocked/', { localAddress: BALANCER, headers: { 'X-Forwarded-For': CLIENT } });
    assert.equal(allowed.text, 'not blocked\n');
    // The log folder is for clients on this machine: the balancer is, its client is not.
    assert.equal((await fetchStrict(host.url, '/iisnode/', { localAddress: BALANCER, headers: { 'X-Forwarded-For': CLIENT } })).status, 403);
    assert.equal((await fetchStrict(host.url, '/iisnode/', { localAddress: BALANCER })).status, 200);
  });

  it('a client cannot hide behind an address it puts in front of the one its balancer appended', async () => {
    const headers = await seen(BALANCER, { 'X-Forwarded-For': `127.0.0.1, ${CLIENT}` }, 'prepended');
    assert.deepEqual(headers.get('x-iisnode-remote_addr'), [CLIENT]);
  });
});

describe('from a peer that is not trusted', () => {
  it('forged X-Forwarded-For and X-Forwarded-Proto change neither REMOTE_ADDR, HTTPS nor the access log', async () => {
    const headers = await seen('127.0.0.1', forged, 'forged');
    assert.deepEqual(headers.get('x-iisnode-remote_addr'), ['127.0.0.1']);
    assert.deepEqual(headers.get('x-iisnode-https'), ['off']);
    // enableXFF appends the real peer to what the client claimed, as iisnode did.
    assert.deepEqual(headers.get('x-forwarded-for'), [`${CLIENT}, 127.0.0.1`]);
    assert.equal((await accessLogLine(path.join(temp, 'logs', 'site'), '/server.js/request', 'forged'))['c-ip'], '127.0.0.1');
  });

  it('a forged address neither passes nor fails ipSecurity', async () => {
    const reply = await fetchStrict(host.url, '/blocked/', { localAddress: '127.0.0.1', headers: { 'X-Forwarded-For': '203.0.113.9' } });
    assert.equal(reply.text, 'not blocked\n');
    assert.equal((await fetchStrict(host.url, '/iisnode/', { localAddress: '127.0.0.1', headers: { 'X-Forwarded-For': CLIENT } })).status, 200);
  });
});

describe('a broken web.config edit', () => {
  it('shows its error to a client on this machine only, not to the remote client of a local balancer', async () => {
    const config = path.join(temp, 'site', 'web.config');
    const good = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, good.replace('</configuration>', ''));
    try {
      // The edit is read once its file system event arrives; the host log says so.
      await waitForLog(host.child.stderr!, host.stderr, /"msg":"config error"/);
      const local = await fetchStrict(host.url, '/server.js/request', { localAddress: BALANCER });
      assert.match(local.text, /web\.config:\d+:\d+: Not well-formed XML/);
      const remote = await fetchStrict(host.url, '/server.js/request', { localAddress: BALANCER, headers: { 'X-Forwarded-For': CLIENT } });
      assert.doesNotMatch(remote.text, /web\.config/);
      assert.ok(Array.isArray((JSON.parse(remote.text) as { rawHeaders: unknown }).rawHeaders), 'the last good configuration serves the remote client');
    } finally {
      fs.writeFileSync(config, good);
    }
  });
});

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehost-proxies-'));
after(() => fs.rmSync(DIR, { recursive: true, force: true }));

function write(file: string, text: string): void {
  fs.mkdirSync(path.join(DIR, file, '..'), { recursive: true });
  fs.writeFileSync(path.join(DIR, file), text);
}

/** remoteAddr is the REMOTE_ADDR node was given (the test app's /request route with promoteServerVars). */
function remoteAddr(text: string): string | undefined {
  const { rawHeaders } = JSON.parse(text) as { rawHeaders: string[] };
  const index = rawHeaders.findIndex((name, i) => i % 2 === 0 && name.toLowerCase() === 'x-iisnode-remote_addr');
  return index === -1 ? undefined : rawHeaders[index + 1];
}

describe('a flow-style list, next to a host without trustedProxies', () => {
  const hosts: RunningHost[] = [];
  let trusting: RunningHost;
  let plain: RunningHost;

  before(async () => {
    write('site/app.js', `require(${JSON.stringify(path.join(SITES, '_lib', 'test-app.js'))}).start('proxied');\n`);
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
    trusting = await startNodehost('', { args: ['--config', path.join(DIR, 'trusting.yml')] });
    hosts.push(trusting);
    plain = await startNodehost(path.join(DIR, 'site'), { args: ['--no-metrics'] });
    hosts.push(plain);
  });
  after(() => Promise.all(hosts.map((host) => host.stop())));

  const forwarded = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' };

  it('behind a trusted proxy, the application sees the forwarded client as REMOTE_ADDR', async () => {
    assert.equal(remoteAddr((await fetchStrict(trusting.url, '/app.js/request', { headers: forwarded })).text), '203.0.113.7');
    assert.equal(remoteAddr((await fetchStrict(trusting.url, '/app.js/request')).text), '127.0.0.1');
  });

  it('ipSecurity judges the forwarded client, and the log folder is not given to it', async () => {
    const denied = await fetchStrict(trusting.url, '/denied/page.txt', { headers: forwarded });
    assert.equal(denied.status, 403);
    assert.equal((await fetchStrict(trusting.url, '/denied/page.txt')).status, 200);
    await fetchStrict(trusting.url, '/app.js');
    assert.equal((await fetchStrict(trusting.url, '/iisnode/', { headers: forwarded })).status, 403);
    assert.notEqual((await fetchStrict(trusting.url, '/iisnode/')).status, 403);
  });

  it('without trustedProxies the header changes nothing', async () => {
    assert.equal(remoteAddr((await fetchStrict(plain.url, '/app.js/request', { headers: forwarded })).text), '127.0.0.1');
    assert.equal((await fetchStrict(plain.url, '/denied/page.txt', { headers: forwarded })).status, 200);
  });
});

/**
 * nodehost.yml's long form: several sites on one port, chosen by the Host header (exact name,
 * then `*.domain`, then `*`, then defaultSite), each with its own pipeline, applications and
 * access log; unknown host names get 404 when no defaultSite is set; configuration errors
 * name file:line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from './helpers/logs.js';
import { BIN, SITES, fetchRaw, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-sites-'));

function makeSite(name: string): void {
  mkdirSync(join(DIR, name), { recursive: true });
  writeFileSync(join(DIR, name, 'who.txt'), `${name}\n`);
}

function checkConfig(yaml: string): { status: number | null; stderr: string } {
  const file = join(DIR, `check-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  const run = spawnSync(process.execPath, [BIN, 'check', '--config', file], { encoding: 'utf8' });
  return { status: run.status, stderr: `${run.stderr}${run.stdout}`.replace(file, 'FILE') };
}

after(() => rmSync(DIR, { recursive: true, force: true }));

describe('sites on one port chosen by Host', () => {
  let host: RunningHost;
  let port: number;
  let otherPort: number;
  before(async () => {
    makeSite('blog');
    makeSite('shop');
    makeSite('wild');
    // An application site, so each site runs its own workers.
    cpSync(join(SITES, 'main', 'hello.js'), join(DIR, 'shop', 'hello.js'));
    writeFileSync(
      join(DIR, 'shop', 'web.config'),
      '<configuration><system.webServer><handlers><add name="iisnode" path="hello.js" verb="*" modules="iisnode"/></handlers></system.webServer></configuration>',
    );
    port = await freePort();
    otherPort = await freePort();
    writeFileSync(
      join(DIR, 'nodehost.yml'),
      [
        'host: 127.0.0.1',
        'logs: logs',
        'sites:',
        '  - name: blog',
        '    root: blog',
        `    bindings: ["http://blog.example.test:${port}"]`,
        '  - name: shop',
        '    root: shop',
        `    bindings: ["http://shop.example.test:${port}", "http://*:${otherPort}"]`,
        '  - name: wild',
        '    root: wild',
        `    bindings: ["http://*.wild.test:${port}"]`,
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
  });
  after(() => host?.stop());

  test('each host name reaches its own site', async () => {
    const blog = await fetchRaw(host.url, '/who.txt', { headers: { host: `blog.example.test:${port}` } });
    assert.equal(blog.status, 200);
    assert.equal(blog.text, 'blog\n');
    const shop = await fetchRaw(host.url, '/who.txt', { headers: { host: `SHOP.example.test:${port}` } });
    assert.equal(shop.text, 'shop\n');
    const wild = await fetchRaw(host.url, '/who.txt', { headers: { host: 'a.b.wild.test' } });
    assert.equal(wild.text, 'wild\n');
  });

  test('an unknown host name gets 404 when no defaultSite is set', async () => {
    const reply = await fetchRaw(host.url, '/who.txt', { headers: { host: 'nobody.example.test' } });
    assert.equal(reply.status, 404);
    assert.match(reply.text, /404 - Not Found/);
    // The bare domain is not covered by `*.wild.test`.
    assert.equal((await fetchRaw(host.url, '/who.txt', { headers: { host: 'wild.test' } })).status, 404);
  });

  test('a `*` binding on another port takes every host name', async () => {
    const reply = await fetchRaw(`http://127.0.0.1:${otherPort}/`, '/who.txt', { headers: { host: 'anything.test' } });
    assert.equal(reply.text, 'shop\n');
  });

  test('a site runs its applications and writes its own access log', async () => {
    const reply = await fetchRaw(host.url, '/hello.js', { headers: { host: `shop.example.test:${port}` } });
    assert.equal(reply.status, 200);
    // The blog site has no such application.
    assert.equal((await fetchRaw(host.url, '/hello.js', { headers: { host: `blog.example.test:${port}` } })).status, 404);
    const read = (name: string) => {
      const folder = join(DIR, 'logs', name);
      if (!existsSync(folder)) return '';
      return readdirSync(folder)
        .map((file) => readFileSync(join(folder, file), 'utf8'))
        .join('');
    };
    const logged = (name: string) => (read(name).includes('/hello.js') ? read(name) : undefined);
    assert.match(await waitFor(join(DIR, 'logs'), () => logged('shop'), "the shop log's /hello.js line"), /GET \/hello\.js .* 200 /);
    assert.doesNotMatch(read('shop'), /GET \/hello\.js .* 404 /);
    assert.match(await waitFor(join(DIR, 'logs'), () => logged('blog'), "the blog log's /hello.js line"), /GET \/hello\.js .* 404 /);
  });
});

describe('IP-literal bindings', () => {
  let host: RunningHost;
  let alone: number;
  let shared: number;
  before(async () => {
    for (const name of ['two', 'three', 'four', 'named']) makeSite(name);
    alone = await freePort();
    shared = await freePort();
    writeFileSync(
      join(DIR, 'ip.yml'),
      [
        'host: 0.0.0.0',
        'sites:',
        '  - { name: two, root: two, bindings: ["http://127.0.0.2:' + alone + '"] }',
        '  - { name: three, root: three, bindings: ["http://127.0.0.3:' + shared + '"] }',
        '  - { name: four, root: four, bindings: ["http://127.0.0.4:' + shared + '"] }',
        '  - { name: named, root: named, bindings: ["http://named.test:' + shared + '"] }',
        'logs: ""',
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'ip.yml')] });
  });
  after(() => host?.stop());

  test('a port whose bindings all name one address listens on that address only, for any host name', async () => {
    assert.equal((await fetchRaw(`http://127.0.0.2:${alone}`, '/who.txt', { headers: { host: 'whatever.test' } })).text, 'two\n');
    await assert.rejects(fetchRaw(`http://127.0.0.1:${alone}`, '/who.txt'), /ECONNREFUSED/);
  });

  test('on a shared port the local address chooses the site, after host names', async () => {
    const get = (address: string, name: string) => fetchRaw(`http://${address}:${shared}`, '/who.txt', { headers: { host: name } });
    assert.equal((await get('127.0.0.3', 'other.test')).text, 'three\n');
    assert.equal((await get('127.0.0.4', 'other.test')).text, 'four\n');
    assert.equal((await get('127.0.0.3', 'named.test')).text, 'named\n');
    assert.equal((await get('127.0.0.1', 'other.test')).status, 404);
  });
});

describe('defaultSite', () => {
  let host: RunningHost;
  before(async () => {
    makeSite('one');
    makeSite('two');
    const port = await freePort();
    writeFileSync(
      join(DIR, 'default.yml'),
      [
        'sites:',
        '  - name: one',
        '    root: one',
        `    bindings: ["http://one.test:${port}"]`,
        '  - name: two',
        '    root: two',
        `    bindings: ["http://two.test:${port}"]`,
        'defaultSite: two',
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'default.yml')] });
  });
  after(() => host?.stop());

  test('answers host names no binding has; named hosts keep their site', async () => {
    assert.equal((await fetchRaw(host.url, '/who.txt', { headers: { host: 'unknown.test' } })).text, 'two\n');
    assert.equal((await fetchRaw(host.url, '/who.txt', { headers: { host: 'one.test' } })).text, 'one\n');
    assert.equal((await fetchRaw(host.url, '/who.txt')).text, 'two\n');
  });
});

describe('long form errors name file:line', () => {
  test('an unknown site key', () => {
    const run = checkConfig('sites:\n  - name: a\n    root: a\n    bindngs: ["http://*:8080"]\n');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /FILE:4.*unknown site setting 'bindngs'/s);
  });

  test('a bad binding string', () => {
    const run = checkConfig('sites:\n  - name: a\n    root: a\n    bindings:\n      - "http://*:8080"\n      - "ftp://x:21"\n');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /FILE:6.*bad binding "ftp:\/\/x:21"/s);
  });

  test('a binding two sites share, an https binding without tls, a defaultSite that names no site, short-form keys beside sites', () => {
    assert.match(
      checkConfig('sites:\n  - name: a\n    root: a\n    bindings: ["http://*:8080"]\n  - name: b\n    root: b\n    bindings: ["http://*:8080"]\n').stderr,
      /FILE:7.*taken already by site 'a'/s,
    );
    assert.match(checkConfig('sites:\n  - name: a\n    root: a\n    bindings: ["https://*:8443"]\n').stderr, /FILE:4.*no 'tls'/s);
    assert.match(
      checkConfig('sites:\n  - name: a\n    root: a\n    bindings: ["http://*:8080"]\ndefaultSite: b\n').stderr,
      /FILE:5.*'defaultSite' names no site/s,
    );
    assert.match(checkConfig('port: 80\nsites:\n  - name: a\n    root: a\n    bindings: ["http://*:8080"]\n').stderr, /FILE:1.*short form/s);
  });
});

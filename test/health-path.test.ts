/**
 * `admin: { healthPath }`: the health probes on the site's own port, for balancers that probe the
 * port they send traffic to: answered before rewrite rules, authentication and the app, GET and
 * HEAD only, never cached; other methods and other paths go on to the site.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-health-path-'));
after(() => fs.rmSync(DIR, { recursive: true, force: true }));

describe('admin.healthPath', () => {
  let host: RunningHost;
  before(async () => {
    const site = path.join(DIR, 'site');
    fs.mkdirSync(site);
    fs.writeFileSync(path.join(site, 'package.json'), '{ "type": "commonjs", "private": true }\n');
    fs.writeFileSync(
      path.join(site, 'app.js'),
      "require('http').createServer((req, res) => res.end('app saw ' + req.method + ' ' + req.url)).listen(process.env.PORT);\n",
    );
    // Every URL is rewritten to the app, and the site asks for a Basic login: the probes are answered before both.
    fs.writeFileSync(
      path.join(site, 'web.config'),
      `<configuration><system.webServer>
  <handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode"/></handlers>
  <iisnode loggingEnabled="false"/>
  <rewrite><rules><rule name="all to the app"><match url=".*"/><action type="Rewrite" url="app.js"/></rule></rules></rewrite>
  <security><authentication><anonymousAuthentication enabled="false"/><basicAuthentication enabled="true"/></authentication></security>
</system.webServer></configuration>`,
    );
    fs.writeFileSync(path.join(DIR, 'nodehost.yml'), `root: site\nlogs: ''\nadmin:\n  healthPath: /_nodehost\n`);
    host = await startNodehost('', { args: ['--config', path.join(DIR, 'nodehost.yml')] });
  });
  after(() => host?.stop());

  test('answers <healthPath>/ready and /live on the site port, before rewrite and authentication', async () => {
    const ready = await fetchStrict(host.url, '/_nodehost/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { ready: true });
    assert.equal(ready.headers['content-type'], 'application/json');
    assert.equal(ready.headers['cache-control'], 'no-store');
    const live = await fetchStrict(host.url, '/_nodehost/live');
    assert.deepEqual([live.status, JSON.parse(live.text)], [200, { live: true }]);
    const head = await fetchStrict(host.url, '/_nodehost/ready', { method: 'HEAD' });
    assert.deepEqual([head.status, head.text], [200, '']);
  });

  test('other paths and methods go on to the site (here: its login)', async () => {
    assert.equal((await fetchStrict(host.url, '/_nodehost/other')).status, 401);
    assert.equal((await fetchStrict(host.url, '/_nodehost/ready', { method: 'POST' })).status, 401);
    assert.equal((await fetchStrict(host.url, '/ready')).status, 401);
  });
});

// `nodehost config get|set` (docs/operations.md): edits a web.config in place keeping its comments,
// attribute order and indentation, refuses bad values naming the setting, accepts appcmd's form,
// and the running server applies the change through its normal configuration refresh.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { controlPaths } from '../src/control/paths.js';
import { BIN, fetchRaw, startNodehost } from './helpers/nodehost.js';

const run = promisify(execFile);
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const WEB_CONFIG = `<?xml version="1.0" encoding="utf-8"?>
<!-- The shop: one node application. -->
<configuration>
\t<system.webServer>
\t\t<handlers>
\t\t\t<add name="iisnode" path="app.js" verb="*" modules="iisnode" />
\t\t</handlers>
\t\t<!-- Workers: raise when the sale starts. -->
\t\t<iisnode loggingEnabled="false"
\t\t         nodeProcessCountPerApplication="1"
\t\t         gracefulShutdownTimeout="2000" />
\t</system.webServer>
</configuration>
`;

function appCount(site: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlPaths(site).socketPath, path: '/v1/apps', agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const app = JSON.parse(text).apps[0];
        resolve(app === undefined ? 0 : app.processes.filter((p: { state: string }) => p.state === 'ready').length);
      });
    });
    req.end();
  });
}

function nodehost(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { cwd }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

test('config set edits a commented web.config in place and the running server applies it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-config-'));
  dirs.push(dir);
  const site = path.join(dir, 'site');
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'package.json'), '{ "type": "commonjs", "private": true }\n');
  fs.writeFileSync(path.join(site, 'app.js'), "require('node:http').createServer((req, res) => res.end(String(process.pid))).listen(process.env.PORT);\n");
  const file = path.join(site, 'web.config');
  fs.writeFileSync(file, WEB_CONFIG);
  const host = await startNodehost(site, { waitFor: /control socket / });
  try {
    await fetchRaw(host.url, '/app.js');
    assert.equal(await appCount(site), 1);

    const set = await nodehost(['config', 'set', './site', 'iisnode/nodeProcessCountPerApplication', '2'], dir);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /set system\.webServer\/iisnode\/nodeProcessCountPerApplication=2 in .*web\.config:10/);
    assert.equal(fs.readFileSync(file, 'utf8'), WEB_CONFIG.replace('nodeProcessCountPerApplication="1"', 'nodeProcessCountPerApplication="2"'));
    const got = await nodehost(['config', 'get', './site', 'iisnode/nodeProcessCountPerApplication'], dir);
    assert.equal(got.stdout, `nodeProcessCountPerApplication=2 (${file}:10)\n`);

    // The server's watcher re-reads the file; the application recycles with two workers on a request after that.
    const deadline = Date.now() + 20_000;
    while ((await appCount(site)) !== 2) {
      assert.ok(Date.now() < deadline, 'the server did not apply nodeProcessCountPerApplication=2');
      await fetchRaw(host.url, '/app.js');
    }
    const pids = new Set<string>();
    for (let i = 0; i < 4; i++) pids.add((await fetchRaw(host.url, '/app.js')).text);
    assert.equal(pids.size, 2, 'requests go round robin over two workers');

    // A bad value is refused, naming the setting; the file is left alone.
    const bad = await nodehost(['config', 'set', './site', 'iisnode/nodeProcessCountPerApplication', 'two'], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /nodeProcessCountPerApplication must be a non-negative decimal integer, not 'two' \[NH_ERR_CONFIG_BAD_VALUE\]/);
    const badSection = await nodehost(['config', 'set', './site', 'system.webServer/httpErrors/errorMode', 'Loud'], dir);
    assert.equal(badSection.code, 1);
    assert.match(badSection.stderr, /web\.config:\d+:\d+: refused: system\.webServer\/httpErrors: errorMode must be one of/);
    assert.equal(fs.readFileSync(file, 'utf8').includes('Loud'), false);
    const unknown = await nodehost(['config', 'set', './site', 'iisnode/nodeProcessCount', '2'], dir);
    assert.match(unknown.stderr, /iisnode has no setting 'nodeProcessCount'/);

    // appcmd's form, with the site named in nodehost.yml.
    fs.writeFileSync(path.join(dir, 'nodehost.yml'), 'root: site\nname: Default Web Site\n');
    const appcmd = await nodehost(['config', 'set', 'config', 'Default Web Site/', '-section:iisnode', '/maxRequestsPerProcess:1000'], dir);
    assert.equal(appcmd.code, 0, appcmd.stderr);
    assert.match(fs.readFileSync(file, 'utf8'), /\t\t {9}gracefulShutdownTimeout="2000"\n\t\t {9}maxRequestsPerProcess="1000" \/>/);
    assert.equal((await nodehost(['config', 'set', 'site'], dir)).code, 2, 'a usage error exits 2');
    assert.equal(await host.stop(), 0);
  } finally {
    await host.stop();
  }
});

test('config get|set name a site of a long-form nodehost.yml; shop/node is the folder of its /node application', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-config-sites-'));
  dirs.push(dir);
  for (const folder of ['shop', 'node-app', 'blog', 'elsewhere']) fs.mkdirSync(path.join(dir, folder));
  const yml = path.join(dir, 'nodehost.yml');
  fs.writeFileSync(
    yml,
    [
      'sites:',
      '  - name: shop',
      '    root: shop',
      '    bindings: ["http://shop.test:8080"]',
      '    applications:',
      '      - { path: /node, root: node-app }',
      '  - name: blog',
      '    root: blog',
      '    bindings: ["http://blog.test:8080"]',
      '',
    ].join('\n'),
  );
  const shopConfig = path.join(dir, 'shop', 'web.config');
  const appConfig = path.join(dir, 'node-app', 'web.config');
  fs.writeFileSync(shopConfig, WEB_CONFIG);
  fs.writeFileSync(appConfig, WEB_CONFIG);

  // --config from another folder; the URL path /node is the application's own folder, not shop/node/.
  const set = await nodehost(['config', 'set', '--config', yml, 'shop/node', 'iisnode/nodeProcessCountPerApplication', '3'], path.join(dir, 'elsewhere'));
  assert.equal(set.code, 0, set.stderr);
  assert.equal(fs.readFileSync(appConfig, 'utf8'), WEB_CONFIG.replace('nodeProcessCountPerApplication="1"', 'nodeProcessCountPerApplication="3"'));
  assert.equal(fs.readFileSync(shopConfig, 'utf8'), WEB_CONFIG, "the site root's web.config is left alone");
  assert.equal(fs.existsSync(path.join(dir, 'shop', 'node')), false);

  // Without --config, ./nodehost.yml names the sites.
  const app = await nodehost(['config', 'get', 'shop/node', 'iisnode/nodeProcessCountPerApplication'], dir);
  assert.equal(app.stdout, `nodeProcessCountPerApplication=3 (${appConfig}:10)\n`);
  const shop = await nodehost(['config', 'get', 'shop', 'iisnode/nodeProcessCountPerApplication'], dir);
  assert.equal(shop.stdout, `nodeProcessCountPerApplication=1 (${shopConfig}:10)\n`);
  const blog = await nodehost(['config', 'set', 'blog', 'iisnode/maxRequestsPerProcess', '500'], dir);
  assert.equal(blog.code, 0, blog.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'blog', 'web.config'), 'utf8'), /maxRequestsPerProcess="500"/);

  const unknown = await nodehost(['config', 'get', 'cafe/node', 'iisnode/maxRequestsPerProcess'], dir);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no site named 'cafe\/node' in nodehost\.yml and no such site folder \[NH_ERR_CONFIG_EDIT\]/);
});

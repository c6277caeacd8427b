// The nodehost command: serve's shutdown contract and check's report.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, fetchRaw, SITES, startNodehost } from './helpers/nodehost.js';

const run = promisify(execFile);

describe('nodehost serve', () => {
  test('SIGTERM lets an in-flight request finish, stops the workers and exits 0', async () => {
    const host = await startNodehost(SITES + 'main');
    const held = request({
      host: '127.0.0.1',
      port: host.port,
      method: 'POST',
      path: '/hello.js/hold',
      headers: { 'Transfer-Encoding': 'chunked' },
      agent: false,
    });
    held.write('x');
    const [res] = (await once(held, 'response')) as [IncomingMessage];
    const pid = Number(/held by (\d+)/.exec(((await once(res, 'data')) as [Buffer])[0].toString())![1]);
    const exit = host.stop('SIGTERM');
    // The listener closes at once, but the held request is still served to its end.
    held.end();
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(body, 'released');
    assert.equal(await exit, 0);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the worker is gone');
  });

  test('--config reads nodehost.yml; a bad key names file and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nh-cli-'));
    writeFileSync(join(dir, 'nodehost.yml'), `root: ${SITES}main\nport: 0\n`);
    // No site argument: the root comes from the file (--port 0 from the helper wins over the file's port).
    const host = await startNodehost('', { args: ['--config', join(dir, 'nodehost.yml')] });
    assert.equal((await fetchRaw(host.url, '/hello.js')).text, 'Hello, world! [main]');
    assert.equal(await host.stop(), 0);
    writeFileSync(join(dir, 'bad.yml'), `root: .\nprot: 8080\n`);
    const bad = await run(process.execPath, [BIN, 'serve', '--config', join(dir, 'bad.yml')]).catch((err) => err);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad\.yml:2: unknown setting 'prot'/);
  });
});

describe('nodehost check', () => {
  test('prints each error with file:line and the effective settings of each application', async () => {
    const result = await run(process.execPath, [BIN, 'check', SITES + 'main']).catch((err) => err);
    assert.equal(result.code, 1, 'exit status 1 when there are errors');
    assert.match(result.stdout, /broken\/web\.config:\d+/);
    assert.match(result.stdout, /unknownattr\/web\.config:\d+.*idontexist/);
    assert.match(result.stdout, /badyml\/iisnode\.yml:1/);
    assert.match(result.stdout, /two\/server\.js/);
    assert.match(result.stdout, /nodeProcessCountPerApplication.*2/);
  });

  test('exits 0 for a valid site', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nh-check-'));
    writeFileSync(
      join(dir, 'web.config'),
      '<configuration><system.webServer><handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode"/></handlers><iisnode nodeProcessCountPerApplication="3"/></system.webServer></configuration>',
    );
    writeFileSync(join(dir, 'app.js'), '');
    const result = await run(process.execPath, [BIN, 'check', dir]);
    assert.match(result.stdout, /app\.js/);
    assert.match(result.stdout, /nodeProcessCountPerApplication.*3/);
  });

  test('warns, naming file:line and the extension, about a mimeMap that repeats a built-in one (IIS: 500.19); still exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nh-check-'));
    writeFileSync(
      join(dir, 'web.config'),
      [
        '<configuration><system.webServer>',
        '  <staticContent>',
        '    <remove fileExtension=".woff2"/><mimeMap fileExtension=".woff2" mimeType="font/woff2"/>',
        '    <mimeMap fileExtension=".JSON" mimeType="application/json"/>',
        '  </staticContent>',
        '</system.webServer></configuration>',
      ].join('\n'),
    );
    const result = await run(process.execPath, [BIN, 'check', dir]);
    assert.match(result.stdout, /^warnings: 1$/m);
    assert.ok(result.stdout.includes(`${join(dir, 'web.config')}:4: `), result.stdout);
    assert.match(result.stdout, /:4: .*mimeMap.*'\.json'.*500\.19/);
    assert.doesNotMatch(result.stdout, /woff2/, 'a <remove> first is what IIS wants: no warning');
    assert.match(result.stdout, /^OK$/m);
  });
});

/**
 * nodehost.yml re-read while running (on a change to the file, on SIGHUP, by the admin API's
 * reload): a broken edit keeps the running configuration and reports file:line; a good one
 * applies without dropping an open keep-alive connection, adds a site on a shared port and a new
 * port, and keeps the workers of sites it did not change.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { controlPaths } from '../src/control/paths.js';
import { SITES, fetchRaw, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { waitForLog } from './helpers/recycle.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-reload-'));
const YML = join(DIR, 'nodehost.yml');

after(() => rmSync(DIR, { recursive: true, force: true }));

function makeSite(name: string): void {
  mkdirSync(join(DIR, name), { recursive: true });
  writeFileSync(join(DIR, name, 'who.txt'), `${name}\n`);
  writeFileSync(join(DIR, name, 'hello.js'), `require(${JSON.stringify(join(SITES, '_lib', 'test-app.js'))}).start(${JSON.stringify(name)});\n`);
  writeFileSync(
    join(DIR, name, 'web.config'),
    '<configuration><system.webServer><handlers><add name="iisnode" path="hello.js" verb="*" modules="iisnode" /></handlers></system.webServer></configuration>',
  );
}

function site(name: string, ...bindings: string[]): string {
  return [`  - name: ${name}`, `    root: ${name}`, `    bindings: [${bindings.map((binding) => JSON.stringify(binding)).join(', ')}]`].join('\n');
}

/** Reply on a kept-alive connection: the body, and the client port that identifies the connection. */
interface KeptReply {
  status: number;
  text: string;
  clientPort: number;
  isReused: boolean;
}

describe('host configuration reload', () => {
  let host: RunningHost;
  let port: number;
  let newPort: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  function keptGet(path: string, name: string): Promise<KeptReply> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: `${name}.test:${port}` } }, (res) => {
        let text = '';
        const clientPort = res.socket.localPort!;
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text, clientPort, isReused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** reloads counts the host log's `host config reloaded` lines. */
  const reloads = () => host.stderr().split('host config reloaded').length - 1;

  before(async () => {
    makeSite('a');
    makeSite('b');
    port = await freePort();
    newPort = await freePort();
    writeFileSync(YML, `sites:\n${site('a', `http://a.test:${port}`)}\n`);
    host = await startNodehost('', { port: false, args: ['--config', YML] });
  });
  after(async () => {
    agent.destroy();
    await host?.stop();
  });

  test('a broken edit keeps the running configuration and names file:line', async () => {
    const first = await keptGet('/who.txt', 'a');
    assert.equal(first.text, 'a\n');
    writeFileSync(YML, `sites:\n${site('a', `http://a.test:${port}`)}\n${site('b', 'ftp://b.test:21')}\n`);
    await waitForLog(host.child.stderr!, host.stderr, /host config error/);
    assert.match(host.stderr(), new RegExp(`${YML.replaceAll('/', '\\/')}:7`));
    const again = await keptGet('/who.txt', 'a');
    assert.equal(again.text, 'a\n');
    assert.equal(again.clientPort, first.clientPort);
  });

  test('a good edit adds a site and a port; the open connection stays and sees the new site; unchanged sites keep their workers', async () => {
    const before = await keptGet('/hello.js/count', 'a');
    const [pid] = before.text.split(' ');
    const count = reloads();
    writeFileSync(YML, `sites:\n${site('a', `http://a.test:${port}`)}\n${site('b', `http://b.test:${port}`, `http://*:${newPort}`)}\n`);
    await waitForLog(host.child.stderr!, host.stderr, new RegExp(`(host config reloaded[^]*){${count + 1}}`));
    const b = await keptGet('/who.txt', 'b');
    assert.equal(b.text, 'b\n');
    assert.equal(b.clientPort, before.clientPort);
    assert.equal(b.isReused, true);
    assert.equal((await fetchRaw(`http://127.0.0.1:${newPort}`, '/who.txt')).text, 'b\n');
    // Site a was not changed: the same worker answers, its counter going on.
    const after = await keptGet('/hello.js/count', 'a');
    assert.equal(after.text, `${pid} ${Number(before.text.split(' ')[1]) + 1}`);
  });

  test('a removed site and port are gone; SIGHUP re-reads the file too', async () => {
    let count = reloads();
    writeFileSync(YML, `sites:\n${site('a', `http://a.test:${port}`)}\n`);
    await waitForLog(host.child.stderr!, host.stderr, new RegExp(`(host config reloaded[^]*){${count + 1}}`));
    const b = await keptGet('/who.txt', 'b');
    assert.equal(b.status, 404);
    await assert.rejects(fetchRaw(`http://127.0.0.1:${newPort}`, '/who.txt'), /ECONNREFUSED/);
    count = reloads();
    host.child.kill('SIGHUP');
    await waitForLog(host.child.stderr!, host.stderr, new RegExp(`(host config reloaded[^]*){${count + 1}}`));
    assert.match(host.stderr(), /config reload requested.*SIGHUP/);
    assert.equal((await keptGet('/who.txt', 'a')).text, 'a\n');
  });
});

/** reloadThroughApi sends POST /v1/reload on the control socket of the site `root`; resolves with the status and JSON. */
// biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the API answers
function reloadThroughApi(root: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlPaths(root).socketPath, method: 'POST', path: '/v1/reload', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('POST /v1/reload', () => {
  test('applies an edited nodehost.yml (a new site on a new port answers); a broken one answers NH_ERR_ADMIN_RELOAD naming file:line and changes nothing', async () => {
    makeSite('e');
    makeSite('f');
    // The host reads a link to a file in another folder: editing that file is no change the
    // host's watch of its folder sees, so only the API's reload can apply it.
    const folder = join(DIR, 'api');
    mkdirSync(join(folder, 'real'), { recursive: true });
    const real = join(folder, 'real', 'nodehost.yml');
    const yml = join(folder, 'nodehost.yml');
    symlinkSync(real, yml);
    const portE = await freePort();
    const portF = await freePort();
    const entry = (name: string, port: number) => `  - name: ${name}\n    root: ${join(DIR, name)}\n    bindings: ["http://*:${port}"]\n`;
    writeFileSync(real, `sites:\n${entry('e', portE)}`);
    const host = await startNodehost('', { port: false, args: ['--config', yml], waitFor: /control socket / });
    try {
      assert.equal((await fetchRaw(`http://127.0.0.1:${portE}`, '/who.txt')).text, 'e\n');
      writeFileSync(real, `sites:\n${entry('e', portE)}${entry('f', portF)}`);
      await assert.rejects(fetchRaw(`http://127.0.0.1:${portF}`, '/who.txt'), /ECONNREFUSED/, 'not applied before the API asks');
      const applied = await reloadThroughApi(join(DIR, 'e'));
      assert.equal(applied.status, 200);
      assert.deepEqual(applied.json, { reloaded: true });
      assert.equal((await fetchRaw(`http://127.0.0.1:${portF}`, '/who.txt')).text, 'f\n');

      writeFileSync(real, `sites:\n${entry('e', portE)}  - name: f\n    bogus: 1\n`);
      const refused = await reloadThroughApi(join(DIR, 'e'));
      assert.equal(refused.status, 500);
      assert.equal(refused.json.error.code, 'NH_ERR_ADMIN_RELOAD');
      assert.match(refused.json.error.message, /nodehost\.yml:6: unknown site setting 'bogus'/);
      assert.equal((await fetchRaw(`http://127.0.0.1:${portF}`, '/who.txt')).text, 'f\n', 'the running configuration keeps serving');
    } finally {
      await host.stop();
    }
  });
});

describe('host-wide compression in the long form', () => {
  const yml = join(DIR, 'compression.yml');
  let host: RunningHost;
  let port: number;

  /** config gives sites c and d one port, under a top-level `compression` with `minFileSizeForComp`. */
  const config = (minFileSizeForComp: number): string =>
    [
      'compression: |',
      `  <httpCompression minFileSizeForComp="${minFileSizeForComp}">`,
      '    <staticTypes><add mimeType="image/png" enabled="true" /></staticTypes>',
      '  </httpCompression>',
      'sites:',
      site('c', `http://c.test:${port}`),
      site('d', `http://d.test:${port}`),
      '',
    ].join('\n');
  const encoding = async (name: string): Promise<string | undefined> => {
    const reply = await fetchRaw(`http://127.0.0.1:${port}`, '/photo.png', { headers: { host: `${name}.test:${port}`, 'accept-encoding': 'gzip' } });
    assert.equal(reply.status, 200);
    return reply.headers['content-encoding'];
  };

  before(async () => {
    for (const name of ['c', 'd']) {
      makeSite(name);
      writeFileSync(join(DIR, name, 'photo.png'), Buffer.alloc(20000, 7));
    }
    port = await freePort();
    writeFileSync(yml, config(1000));
    host = await startNodehost('', { port: false, args: ['--config', yml] });
  });
  after(() => host?.stop());

  test('applies to every site, and a changed value applies on reload', async () => {
    assert.equal(await encoding('c'), 'gzip');
    assert.equal(await encoding('d'), 'gzip');
    writeFileSync(yml, config(100000));
    await waitForLog(host.child.stderr!, host.stderr, /host config reloaded/);
    assert.equal(await encoding('c'), undefined);
    assert.equal(await encoding('d'), undefined);
  });
});

/**
 * Applications and virtual directories (nodehost.yml `applications`, `virtualDirectories`): a
 * URL prefix served from a folder of its own, whose web.config files inherit the site root's as
 * in IIS; node sees the full URL (/node/hello.js); APPL_PHYSICAL_PATH, APPL_MD_PATH and
 * APP_POOL_ID name the application; SERVER_NAME, SERVER_PORT, HTTPS and HTTP_HOST are the
 * request's own on each site and binding.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { controlPaths } from '../src/control/paths.js';
import { createTestCa, type TestCa } from './helpers/certificates.js';
import { SITES, fetchRaw, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-apps-'));
const PROMOTED = 'APPL_PHYSICAL_PATH,APPL_MD_PATH,APP_POOL_ID,SERVER_NAME,SERVER_PORT,HTTPS,HTTP_HOST';

function write(file: string, text: string): void {
  mkdirSync(join(DIR, file, '..'), { recursive: true });
  writeFileSync(join(DIR, file), text);
}

/** webConfig is a web.config with a custom header and, when `script` is given, an iisnode mapping that promotes the server variables under test. */
function webConfig(header: string, script?: string): string {
  const handler =
    script === undefined
      ? ''
      : `<handlers><add name="iisnode-${header}" path="${script}" verb="*" modules="iisnode" /></handlers><iisnode promoteServerVars="${PROMOTED}" />`;
  return `<configuration><system.webServer>${handler}<httpProtocol><customHeaders><add name="X-${header}" value="1" /></customHeaders></httpProtocol></system.webServer></configuration>`;
}

/** promoted reads the X-iisnode-* headers node received (the test app's /request route). */
function promoted(text: string): Record<string, string> {
  const { url, rawHeaders } = JSON.parse(text) as { url: string; rawHeaders: string[] };
  const out: Record<string, string> = { url };
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name.startsWith('x-iisnode-')) out[name.slice('x-iisnode-'.length).toUpperCase()] = rawHeaders[i + 1]!;
  }
  return out;
}

after(() => rmSync(DIR, { recursive: true, force: true }));

describe('applications and virtual directories', () => {
  let host: RunningHost;
  let ca: TestCa;
  let port: number;
  let httpsPort: number;
  const app = `require(${JSON.stringify(join(SITES, '_lib', 'test-app.js'))}).start('samples');\n`;

  before(async () => {
    ca = createTestCa(DIR);
    const cert = ca.issue('shop', ['shop.example.test']);
    write('shop/web.config', webConfig('Root'));
    write('shop/who.txt', 'shop\n');
    // A folder of the root that the /node application hides.
    write('shop/node/hidden.txt', 'hidden\n');
    write('samples/web.config', webConfig('App', 'hello.js'));
    write('samples/hello.js', app);
    write('manual/web.config', webConfig('Manual'));
    write('media/pic.txt', 'picture\n');
    write('manual/readme.txt', 'manual\n');
    write('blog/web.config', webConfig('Blog', 'hello.js'));
    write('blog/hello.js', app);
    port = await freePort();
    httpsPort = await freePort();
    write(
      'nodehost.yml',
      [
        'sites:',
        '  - name: shop',
        '    root: shop',
        `    bindings: ["http://shop.example.test:${port}", "https://shop.example.test:${httpsPort}"]`,
        `    tls: { certificate: ${cert.certificate}, key: ${cert.key} }`,
        '    applications:',
        '      - { path: /node, root: samples }',
        '    virtualDirectories:',
        '      - { path: /media, root: media }',
        '      - { path: /node/manual/, root: manual }',
        '  - name: blog',
        '    root: blog',
        `    bindings: ["http://blog.example.test:${port}"]`,
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')], waitFor: /control socket/ });
  });
  after(() => host?.stop());

  const get = (path: string, name = 'shop') => fetchRaw(`http://127.0.0.1:${port}`, path, { headers: { host: `${name}.example.test:${port}` } });

  test('the application runs its own folder with the full URL, and its web.config inherits the root one', async () => {
    const reply = await get('/node/hello.js/request?x=1');
    assert.equal(reply.status, 200);
    const seen = promoted(reply.text);
    assert.equal(seen.url, '/node/hello.js/request?x=1');
    assert.equal(seen.APPL_PHYSICAL_PATH, `${join(DIR, 'samples')}/`);
    assert.equal(seen.APPL_MD_PATH, '/LM/W3SVC/1/ROOT/node');
    assert.equal(seen.APP_POOL_ID, 'shop');
    // The root web.config's header and the application's own.
    assert.equal(reply.headers['x-root'], '1');
    assert.equal(reply.headers['x-app'], '1');
    const env = JSON.parse((await get('/node/hello.js/env')).text) as { cwd: string };
    assert.equal(env.cwd, join(DIR, 'samples'));
  });

  test('/metrics labels an application by its URL', async () => {
    await get('/node/hello.js');
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ socketPath: controlPaths(join(DIR, 'shop')).socketPath, path: '/metrics' }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(text, /nodehost_requests_total\{site="shop",app="\/node\/hello\.js",status_class="2xx"\} \d+/);
  });

  test('URL prefixes match case-insensitively and hide the root folder of the same name', async () => {
    assert.equal((await get('/NODE/hello.js')).status, 200);
    assert.equal((await get('/node/hidden.txt')).status, 404);
    assert.equal((await get('/who.txt')).text, 'shop\n');
  });

  test('a virtual directory serves its folder inside the application whose prefix holds it', async () => {
    const pic = await get('/media/pic.txt');
    assert.equal(pic.text, 'picture\n');
    assert.equal(pic.headers['x-root'], '1');
    assert.equal(pic.headers['x-app'], undefined);
    const manual = await get('/node/manual/readme.txt');
    assert.equal(manual.text, 'manual\n');
    // web.config levels follow the URL: root, then the application, then the virtual directory's own.
    assert.equal(manual.headers['x-app'], '1');
    assert.equal(manual.headers['x-manual'], '1');
  });

  test('each site and binding has its own SERVER_NAME, SERVER_PORT, HTTPS, HTTP_HOST and site ID', async () => {
    const blog = promoted((await get('/hello.js/request', 'blog')).text);
    assert.deepEqual(
      [blog.SERVER_NAME, blog.SERVER_PORT, blog.HTTPS, blog.HTTP_HOST, blog.APPL_MD_PATH, blog.APP_POOL_ID],
      ['blog.example.test', String(port), 'off', `blog.example.test:${port}`, '/LM/W3SVC/2/ROOT', 'blog'],
    );
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: httpsPort,
          path: '/node/hello.js/request',
          ca: ca.ca,
          servername: 'shop.example.test',
          headers: { host: `shop.example.test:${httpsPort}` },
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const secure = promoted(text);
    assert.deepEqual(
      [secure.SERVER_NAME, secure.SERVER_PORT, secure.HTTPS, secure.HTTP_HOST, secure.APPL_MD_PATH],
      ['shop.example.test', String(httpsPort), 'on', `shop.example.test:${httpsPort}`, '/LM/W3SVC/1/ROOT/node'],
    );
  });
});

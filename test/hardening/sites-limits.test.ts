/**
 * nodehost.yml `limits` and `followSymlinks` in the long form: top-level keys that apply to
 * every site and every listener, the plain HTTP one and the HTTPS one (HTTP/1.1 over TLS reads
 * through the fast path after the handshake).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCa, type TestCa } from '../helpers/certificates.js';
import { freePort, startNodehost, type RunningHost } from '../helpers/nodehost.js';
import { RawConnection } from '../helpers/raw-http.js';
import { fetchStrict } from '../helpers/strict-http.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-sites-limits-'));

describe('limits and followSymlinks across sites', () => {
  let host: RunningHost;
  let ca: TestCa;
  let httpPort: number;
  let httpsPort: number;

  /** httpsStatus fetches `target` from the https site (GET, its own certificate) and resolves with the status. */
  function httpsStatus(target: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: httpsPort, path: target, servername: 'secure.test', headers: { host: 'secure.test' }, ca: ca.ca },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  before(async () => {
    ca = createTestCa(DIR);
    const secure = ca.issue('secure', ['secure.test']);
    for (const name of ['plain', 'secure']) {
      const site = join(DIR, name);
      mkdirSync(site);
      writeFileSync(join(site, 'inside.txt'), `${name}\n`);
      symlinkSync('inside.txt', join(site, 'link.txt'));
    }
    httpPort = await freePort();
    httpsPort = await freePort();
    writeFileSync(
      join(DIR, 'nodehost.yml'),
      [
        'logs: ""',
        'limits:',
        '  headerTimeout: 600ms',
        'followSymlinks: never',
        'sites:',
        '  - name: plain',
        '    root: plain',
        `    bindings: ["http://*:${httpPort}"]`,
        '  - name: secure',
        '    root: secure',
        `    bindings: ["https://secure.test:${httpsPort}"]`,
        `    tls: { certificate: ${secure.certificate}, key: ${secure.key} }`,
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
  });

  after(async () => {
    await host?.stop();
    rmSync(DIR, { recursive: true, force: true });
  });

  test('an unfinished request head is cut off by headerTimeout on the http listener and on the https one', { timeout: 30_000 }, async () => {
    const open = [() => RawConnection.open(httpPort), () => RawConnection.openTls(httpsPort, { servername: 'secure.test', ca: ca.ca })];
    for (const opened of open) {
      const connection = await opened();
      await connection.write('GET /inside.txt HTTP/1.1\r\nHost: secure.test\r\n');
      // Closed by the 600ms deadline (the default, 60s, would outlast the test's timeout), with 408.
      assert.equal((await connection.read()).status, 408);
      await connection.closed();
    }
  });

  test('followSymlinks: never holds for both sites; their own files are served', async () => {
    assert.equal((await fetchStrict(`http://127.0.0.1:${httpPort}`, '/inside.txt')).status, 200);
    assert.equal((await fetchStrict(`http://127.0.0.1:${httpPort}`, '/link.txt')).status, 404);
    assert.equal(await httpsStatus('/inside.txt'), 200);
    assert.equal(await httpsStatus('/link.txt'), 404);
  });
});

/**
 * `tls: { selfSigned: true }`: a site's https bindings served with a certificate nodehost makes
 * itself (for `*`: localhost and the loopback addresses), verified by a strict client that
 * trusts exactly that file; the same certificate after a restart; a new one when the names change.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-self-signed-'));
const PEM = join(DIR, 'self-signed', 'dev.pem');
after(() => rmSync(DIR, { recursive: true, force: true }));

/** getText makes one HTTPS request that trusts only the site's own certificate file. */
function getText(port: number, host: string, servername?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host,
        port,
        path: '/hello.txt',
        ca: readFileSync(PEM),
        agent: false,
        ...(servername === undefined ? {} : { servername, headers: { host: servername } }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function writeConfig(port: number, binding: string): string {
  const file = join(DIR, 'nodehost.yml');
  writeFileSync(file, ['sites:', '  - name: dev', '    root: site', `    bindings: ["${binding}:${port}"]`, '    tls: { selfSigned: true }', ''].join('\n'));
  return file;
}

describe('tls: { selfSigned: true }', () => {
  let port: number;
  let host: RunningHost | undefined;

  before(async () => {
    const site = join(DIR, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'hello.txt'), 'hello over https\n');
    port = await freePort();
    host = await startNodehost('', { port: false, args: ['--config', writeConfig(port, 'https://*')] });
  });
  after(() => host?.stop());

  test('serves https and h2 with a certificate for localhost, 127.0.0.1 and ::1, kept 0600 beside nodehost.yml', async () => {
    assert.deepEqual(await getText(port, '127.0.0.1'), { status: 200, text: 'hello over https\n' });
    assert.deepEqual(await getText(port, '127.0.0.1', 'localhost'), { status: 200, text: 'hello over https\n' });
    const certificate = new X509Certificate(readFileSync(PEM));
    assert.equal(certificate.issuer, 'CN=nodehost self-signed certificate');
    assert.match(certificate.subjectAltName ?? '', /DNS:localhost/);
    assert.equal(certificate.checkIP('::1'), '::1');
    assert.equal(statSync(PEM).mode & 0o777, 0o600);
    assert.equal(statSync(join(DIR, 'self-signed')).mode & 0o777, 0o700);
    const session = http2Connect(`https://localhost:${port}`, { ca: readFileSync(PEM) });
    try {
      const stream = session.request({ ':path': '/hello.txt' });
      const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
      });
      await once(stream, 'end');
      assert.equal(headers[':status'], 200);
      assert.equal(text, 'hello over https\n');
    } finally {
      session.close();
    }
  });

  test('a restart keeps the certificate; new binding names make a new one', async () => {
    const first = readFileSync(PEM, 'utf8');
    await host!.stop();
    host = await startNodehost('', { port: false, args: ['--config', writeConfig(port, 'https://*')] });
    assert.equal(readFileSync(PEM, 'utf8'), first);
    await host.stop();
    host = await startNodehost('', { port: false, args: ['--config', writeConfig(port, 'https://dev.example.test')] });
    const second = readFileSync(PEM, 'utf8');
    assert.notEqual(second, first);
    assert.equal(new X509Certificate(second).checkHost('dev.example.test'), 'dev.example.test');
    assert.deepEqual(await getText(port, '127.0.0.1', 'dev.example.test'), { status: 200, text: 'hello over https\n' });
  });
});

/**
 * The TLS 1.2 cipher list (src/server/certificates.ts CIPHERS: ECDHE key exchange and AEAD
 * only), seen by `openssl s_client` against an RSA certificate, the key type with which the
 * weak suites could be negotiated at all: RSA key exchange (no forward secrecy) and CBC with
 * SHA-1 are refused, an ECDHE AEAD suite is accepted.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-ciphers-'));
const NAME = 'ciphers.example.test';
let host: RunningHost;
let port: number;

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'site.key', '-out', 'site.pem', '-days', '2', '-subj', `/CN=${NAME}`], {
    cwd: DIR,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  mkdirSync(join(DIR, 'site'));
  writeFileSync(join(DIR, 'site', 'hello.txt'), 'hello\n');
  port = await freePort();
  writeFileSync(
    join(DIR, 'nodehost.yml'),
    [
      'sites:',
      '  - name: site',
      '    root: site',
      `    bindings: ["https://*:${port}"]`,
      `    tls: { certificate: ${join(DIR, 'site.pem')}, key: ${join(DIR, 'site.key')} }`,
      'logs: ""',
      '',
    ].join('\n'),
  );
  host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
});

after(async () => {
  await host?.stop();
  rmSync(DIR, { recursive: true, force: true });
});

/** handshake runs `openssl s_client -tls1_2 -cipher <suite>` and returns its exit code and output. */
function handshake(suite: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // SECLEVEL=0: the client offers the weak suite whatever its own defaults; the server alone refuses.
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', NAME, '-tls1_2', '-cipher', `${suite}@SECLEVEL=0`],
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, output: stdout + stderr }),
    );
    child.stdin!.end();
  });
}

test('TLS 1.2 suites without ECDHE or without AEAD are refused', async () => {
  for (const suite of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384']) {
    const { code, output } = await handshake(suite);
    assert.notEqual(code, 0, `${suite} was accepted:\n${output}`);
    assert.match(output, /alert handshake failure|alert number 40/, suite);
  }
});

test('an ECDHE AEAD suite is accepted over TLS 1.2', async () => {
  const { code, output } = await handshake('ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(code, 0, output);
  assert.match(output, /Protocol\s*: TLSv1\.2/);
  assert.match(output, /Cipher\s*: ECDHE-RSA-AES128-GCM-SHA256/);
});

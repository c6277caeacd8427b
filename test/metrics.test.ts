/**
 * /metrics beyond requests (docs/admin.md): upstream connections, failed recycles, bytes in and
 * out, compression, the access log, TLS handshakes and certificate expiry. One host serves a
 * site over http and https; each metric parses with the strict exposition reader and moves
 * with the traffic that should move it.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { controlPaths } from '../src/control/paths.js';
import { createTestCa } from './helpers/certificates.js';
import { fetchRaw, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { parsePrometheus, sum, type Sample } from './helpers/prometheus.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-metrics-'));
const SITE = join(DIR, 'site');
const PAGE = '<p>compressible</p>\n'.repeat(200);

after(() => rmSync(DIR, { recursive: true, force: true }));

/** scrape reads /metrics on the site's control socket. */
function scrape(): Promise<{ types: Map<string, string>; samples: Sample[] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: controlPaths(SITE).socketPath, path: '/metrics', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(parsePrometheus(text)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** until scrapes until `probe` accepts the samples (each scrape waits for its answer); fails after 20 s. */
async function until(what: string, probe: (samples: Sample[]) => boolean): Promise<Sample[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { samples } = await scrape();
    if (probe(samples)) return samples;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('/metrics of connections, bytes, compression, logs and TLS', () => {
  let host: RunningHost;
  let http: string;
  let httpsPort: number;
  let ca: Buffer;
  let certificate: string;

  before(async () => {
    const testCa = createTestCa(DIR);
    ca = testCa.ca;
    const issued = testCa.issue('site', ['localhost']);
    certificate = issued.certificate;
    mkdirSync(SITE);
    writeFileSync(join(SITE, 'package.json'), '{ "type": "commonjs", "private": true }\n');
    writeFileSync(
      join(SITE, 'app.js'),
      `require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(${JSON.stringify(PAGE)});
  });
}).listen(process.env.PORT);\n`,
    );
    writeFileSync(
      join(SITE, 'web.config'),
      '<configuration><system.webServer><handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode"/></handlers>' +
        '<httpCompression minFileSizeForComp="1000"/><iisnode loggingEnabled="false" watchedFiles="web.config"/></system.webServer></configuration>',
    );
    httpsPort = await freePort();
    const httpPort = await freePort();
    writeFileSync(
      join(DIR, 'nodehost.yml'),
      [
        'logs: logs',
        'sites:',
        '  - name: metrics',
        '    root: site',
        `    bindings: ["http://*:${httpPort}", "https://*:${httpsPort}"]`,
        `    tls: { certificate: ${issued.certificate}, key: ${issued.key} }`,
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')], waitFor: /control socket / });
    http = `http://127.0.0.1:${httpPort}`;
  });
  after(() => host?.stop());

  test('every family has a TYPE and parses', async () => {
    const { types } = await scrape();
    for (const [name, type] of [
      ['nodehost_upstream_connections', 'gauge'],
      ['nodehost_app_failed_recycles_total', 'counter'],
      ['nodehost_received_bytes_total', 'counter'],
      ['nodehost_sent_bytes_total', 'counter'],
      ['nodehost_compression_identity_bytes_total', 'counter'],
      ['nodehost_compression_encoded_bytes_total', 'counter'],
      ['nodehost_access_log_written_bytes_total', 'counter'],
      ['nodehost_access_log_dropped_lines_total', 'counter'],
      ['nodehost_tls_handshakes_total', 'counter'],
      ['nodehost_tls_certificate_expiry_timestamp_seconds', 'gauge'],
    ])
      assert.equal(types.get(name), type, name);
  });

  test('a compressed response moves the compression and byte counters; the worker connection stays idle; the access log is written', async () => {
    const before = (await scrape()).samples;
    const body = 'x'.repeat(5000);
    const reply = await fetchRaw(http, '/app.js', { method: 'POST', body, headers: { 'Accept-Encoding': 'gzip', 'Content-Type': 'text/plain' } });
    assert.equal(reply.headers['content-encoding'], 'gzip');
    const site = { site: 'metrics' };
    const now = await until('the idle worker connection and the access log line', (samples) => {
      return (
        sum(samples, 'nodehost_upstream_connections', { app: '/app.js', state: 'idle' }) >= 1 &&
        sum(samples, 'nodehost_access_log_written_bytes_total', site) > sum(before, 'nodehost_access_log_written_bytes_total', site)
      );
    });
    const gzip = { encoding: 'gzip' };
    const identity = sum(now, 'nodehost_compression_identity_bytes_total', gzip) - sum(before, 'nodehost_compression_identity_bytes_total', gzip);
    const encoded = sum(now, 'nodehost_compression_encoded_bytes_total', gzip) - sum(before, 'nodehost_compression_encoded_bytes_total', gzip);
    assert.equal(identity, PAGE.length, 'the whole body went into gzip');
    assert.equal(encoded, reply.body.length, 'what gzip gave out is what the client got');
    assert.ok(encoded < identity);
    assert.ok(sum(now, 'nodehost_received_bytes_total', site) - sum(before, 'nodehost_received_bytes_total', site) > body.length, 'head and body read');
    assert.ok(sum(now, 'nodehost_sent_bytes_total', site) - sum(before, 'nodehost_sent_bytes_total', site) > reply.body.length, 'head and body written');
    assert.equal(sum(now, 'nodehost_access_log_dropped_lines_total', site), 0);
  });

  test('the fast path counts a response it finished and one its client cut off', async () => {
    const app = { site: 'metrics', app: '/app.js' };
    const before = (await scrape()).samples;
    assert.equal((await fetchRaw(http, '/app.js')).text, PAGE);
    // The app answers once the body has come, and this one never does: the client half-closes,
    // so the fast path aborts the request and closes the connection without a response.
    const socket = netConnect(Number(new URL(http).port), '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.end('POST /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n');
    await once(socket, 'close');
    const counted = (samples: Sample[]) =>
      sum(samples, 'nodehost_request_duration_seconds_count', app) - sum(before, 'nodehost_request_duration_seconds_count', app);
    const now = await until('both responses counted', (samples) => counted(samples) >= 2);
    assert.equal(counted(now), 2);
    assert.equal(sum(now, 'nodehost_request_duration_seconds_bucket', { ...app, le: '+Inf' }), sum(now, 'nodehost_request_duration_seconds_count', app));
  });

  test('an https request moves the new-session handshakes, a resumed session the resumed ones; the certificate gives its expiry', async () => {
    const port = String(httpsPort);
    const before = (await scrape()).samples;
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: httpsPort, path: '/app.js', servername: 'localhost', ca, agent: false }, (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(text, PAGE);
    const full = await until(
      'the new-session handshake',
      (samples) =>
        sum(samples, 'nodehost_tls_handshakes_total', { port, session: 'new' }) > sum(before, 'nodehost_tls_handshakes_total', { port, session: 'new' }),
    );

    // A second connection offering the first one's session ticket resumes it.
    const session = await new Promise<Buffer>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, servername: 'localhost', ca });
      socket.once('session', (ticket: Buffer) => {
        resolve(ticket);
        socket.end();
      });
      socket.on('error', reject);
    });
    const reused = await new Promise<boolean>((resolve, reject) => {
      const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port: httpsPort, servername: 'localhost', ca, session }, () => {
        resolve(socket.isSessionReused());
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.ok(reused, 'the client resumed its session');
    await until(
      'the resumed handshake',
      (samples) =>
        sum(samples, 'nodehost_tls_handshakes_total', { port, session: 'resumed' }) > sum(full, 'nodehost_tls_handshakes_total', { port, session: 'resumed' }),
    );

    // HTTP/2 streams count on their session's connection.
    const h2 = http2Connect(`https://localhost:${httpsPort}`, { ca });
    const stream = h2.request({ ':path': '/app.js' });
    let received = 0;
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    await new Promise((resolve) => stream.on('end', resolve));
    h2.close();
    assert.equal(received, PAGE.length);
    await until(
      'the HTTP/2 bytes',
      (samples) => sum(samples, 'nodehost_sent_bytes_total', { site: 'metrics' }) - sum(full, 'nodehost_sent_bytes_total', { site: 'metrics' }) > PAGE.length,
    );

    const expiry = full.filter((s) => s.name === 'nodehost_tls_certificate_expiry_timestamp_seconds' && s.labels.port === port);
    assert.deepEqual(
      expiry.map((s) => [s.labels.name, s.value]),
      [['*', Date.parse(new X509Certificate(readFileSync(certificate)).validTo) / 1000]],
    );
  });

  test('a recycle whose new generation cannot start moves the failed-recycle counter', async () => {
    assert.equal(sum((await scrape()).samples, 'nodehost_app_failed_recycles_total', { app: '/app.js' }), 0);
    // watchedFiles leaves app.js out: only the API's recycle starts the broken code.
    writeFileSync(join(SITE, 'app.js'), 'this is not javascript(\n');
    const recycled = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ socketPath: controlPaths(SITE).socketPath, method: 'POST', path: '/v1/apps/recycle?app=/app.js', agent: false }, (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(recycled, /"error"/, 'the recycle reports the failure');
    const now = (await scrape()).samples;
    assert.equal(sum(now, 'nodehost_app_failed_recycles_total', { app: '/app.js' }), 1);
    assert.equal(sum(now, 'nodehost_app_recycles_total', { app: '/app.js' }), 1);
  });
});

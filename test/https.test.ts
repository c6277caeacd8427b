/**
 * HTTPS bindings: certificates per host name by SNI (exact names, `*.domain` wildcards, the
 * `*` binding's certificate as the default), PEM chains, TLS 1.2 and 1.3 only, applications
 * seeing HTTPS=on and X-Forwarded-Proto https, certificates reloaded when their files change
 * (open connections kept), redirectToHttps and Strict-Transport-Security.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as http2Connect } from 'node:http2';
import { connect } from 'node:net';
import { once } from 'node:events';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createTestCa, type TestCa } from './helpers/certificates.js';
import { tcpNoDelay } from './helpers/tcp-nodelay.js';
import { SITES, fetchRaw, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-https-'));
const run = promisify(execFile);

interface TlsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  cert: PeerCertificate;
  protocol: string;
  reused: boolean;
}

after(() => rmSync(DIR, { recursive: true, force: true }));

describe('https bindings', () => {
  let host: RunningHost;
  let ca: TestCa;
  let port: number;
  let httpPort: number;

  /** get makes one HTTPS request to 127.0.0.1 with `servername` as SNI name and Host (none: no SNI). */
  function get(path: string, servername: string | undefined, agent?: Agent): Promise<TlsReply> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          ca: ca.ca,
          ...(servername === undefined ? { checkServerIdentity: () => undefined } : { servername }),
          headers: { host: servername ?? 'whatever.test' },
          agent: agent ?? false,
        },
        (res) => {
          const parts: Buffer[] = [];
          // A keep-alive agent takes the socket back at the end.
          const socket = res.socket as TLSSocket;
          const cert = socket.getPeerCertificate();
          const protocol = socket.getProtocol() ?? '';
          res.on('data', (chunk: Buffer) => parts.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(parts).toString(), cert, protocol, reused: req.reusedSocket }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  before(async () => {
    ca = createTestCa(DIR);
    const shop = ca.issue('shop', ['shop.example.test']);
    const wild = ca.issue('wild', ['*.example.test']);
    const fallback = ca.issue('default', ['default.test']);
    mkdirSync(join(DIR, 'sites'));
    cpSync(join(SITES, '_lib'), join(DIR, 'sites', '_lib'), { recursive: true });
    for (const name of ['shop', 'wild', 'default']) {
      cpSync(join(SITES, 'main', 'xff'), join(DIR, 'sites', name, 'xff'), { recursive: true });
      writeFileSync(join(DIR, 'sites', name, 'who.txt'), `${name}\n`);
    }
    port = await freePort();
    httpPort = await freePort();
    writeFileSync(
      join(DIR, 'nodehost.yml'),
      [
        'sites:',
        '  - name: shop',
        '    root: sites/shop',
        `    bindings: ["https://shop.example.test:${port}", "http://shop.example.test:${httpPort}"]`,
        `    tls: { certificate: ${shop.certificate}, key: ${shop.key} }`,
        '    redirectToHttps: true',
        '    hsts: max-age=31536000',
        '  - name: wild',
        '    root: sites/wild',
        `    bindings: ["https://*.example.test:${port}"]`,
        `    tls: { certificate: ${wild.certificate}, key: ${wild.key} }`,
        '  - name: default',
        '    root: sites/default',
        `    bindings: ["https://*:${port}", "http://*:${httpPort}"]`,
        `    tls: { certificate: ${fallback.certificate}, key: ${fallback.key} }`,
        'trustedProxies: [127.0.0.1]',
        'limits: { idleTimeout: 300ms }',
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
  });
  after(() => host?.stop());

  test('prints every listener', () => {
    assert.match(host.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('SNI chooses the certificate and the Host the site: exact, wildcard, default', async () => {
    const shop = await get('/who.txt', 'shop.example.test');
    assert.equal(shop.status, 200);
    assert.equal(shop.text, 'shop\n');
    assert.equal(shop.cert.subject.CN, 'shop.example.test');
    assert.equal(shop.cert.issuer.CN, 'nodehost test intermediate');
    const wild = await get('/who.txt', 'cart.example.test');
    assert.equal(wild.text, 'wild\n');
    assert.equal(wild.cert.subject.CN, '*.example.test');
    const none = await get('/who.txt', undefined);
    assert.equal(none.text, 'default\n');
    assert.equal(none.cert.subject.CN, 'default.test');
  });

  test('openssl s_client: SNI names and a verified chain', async () => {
    const connect = async (name: string) => {
      const { stdout } = await run('sh', [
        '-c',
        `openssl s_client -connect 127.0.0.1:${port} -servername ${name} -CAfile ${join(DIR, 'root.pem')} </dev/null 2>&1`,
      ]);
      return stdout;
    };
    const shop = await connect('shop.example.test');
    assert.match(shop, /subject=.*CN ?= ?shop\.example\.test/);
    assert.match(shop, /Verify return code: 0 \(ok\)/);
    assert.match(await connect('x.example.test'), /subject=.*CN ?= ?\*\.example\.test/);
    assert.match(await connect('unknown.test'), /subject=.*CN ?= ?default\.test/);
  });

  test('TLS 1.3 by default, 1.2 accepted, 1.1 and 1.0 refused by the server', async () => {
    assert.equal((await get('/who.txt', 'shop.example.test')).protocol, 'TLSv1.3');
    const handshake = (maxVersion: 'TLSv1.2' | 'TLSv1.1' | 'TLSv1') =>
      new Promise<string>((resolve, reject) => {
        // The client offers TLS 1.0/1.1 only below OpenSSL's default security level: the refusal must be the server's.
        const socket = tlsConnect(
          { host: '127.0.0.1', port, servername: 'shop.example.test', ca: ca.ca, maxVersion, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' },
          () => {
            resolve(socket.getProtocol() ?? '');
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    assert.equal(await handshake('TLSv1.2'), 'TLSv1.2');
    await assert.rejects(handshake('TLSv1.1'), /alert protocol version|SSL alert number 70/);
    await assert.rejects(handshake('TLSv1'), /alert protocol version|SSL alert number 70/);
  });

  test('HTTP/1.1 over TLS and plain HTTP connections have TCP_NODELAY', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.ca });
    try {
      const socket = await new Promise<TLSSocket>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: '/who.txt', servername: 'shop.example.test', agent }, (res) => {
          const tls = res.socket as TLSSocket;
          res.resume();
          res.on('end', () => resolve(tls));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(socket.alpnProtocol, false);
      assert.equal(await tcpNoDelay(host.child.pid!, socket.localPort!), true);
    } finally {
      agent.destroy();
    }
    const plain = connect(httpPort, '127.0.0.1');
    await once(plain, 'connect');
    plain.write('GET /who.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(plain, 'data');
    assert.equal(await tcpNoDelay(host.child.pid!, plain.localPort!), true);
    plain.destroy();
  });

  test('an idle HTTP/2 connection is closed after limits.idleTimeout (GOAWAY)', async () => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca: ca.ca, servername: 'shop.example.test' });
    const goaway = once(session, 'goaway');
    const stream = session.request({ ':path': '/who.txt', ':authority': 'shop.example.test' });
    stream.setEncoding('utf8');
    let text = '';
    stream.on('data', (chunk: string) => (text += chunk));
    await once(stream, 'end');
    assert.equal(text, 'shop\n');
    const [code] = await goaway;
    assert.equal(code, 0);
    await once(session, 'close');
  });

  test('an HTTP/2 connection with a stream open is not idle: no GOAWAY until its last stream ended', async () => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca: ca.ca, servername: 'shop.example.test' });
    let isGoneAway = false;
    const goaway = once(session, 'goaway').then(() => (isGoneAway = true));
    // `hold` answers its head at once and ends only with the request body.
    const stream = session.request({ ':path': '/xff/server.js/hold', ':method': 'POST', ':authority': 'shop.example.test' }, { endStream: false });
    stream.setEncoding('utf8');
    let text = '';
    stream.on('data', (chunk: string) => (text += chunk));
    await once(stream, 'response');
    // Well past idleTimeout (300 ms) with the stream open.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(isGoneAway, false, 'the session was closed while a stream was open');
    stream.end();
    await once(stream, 'end');
    assert.match(text, /released$/);
    await goaway;
    await once(session, 'close');
  });

  test('sessions resume (session tickets), for SNI names and without', async () => {
    const resume = (servername: string | undefined) =>
      new Promise<boolean>((resolve, reject) => {
        const options = {
          host: '127.0.0.1',
          port,
          ca: ca.ca,
          maxVersion: 'TLSv1.2' as const,
          ...(servername === undefined ? { checkServerIdentity: () => undefined } : { servername }),
        };
        const first = tlsConnect(options, () => {
          const session = first.getSession();
          first.end();
          const second = tlsConnect({ ...options, session }, () => {
            resolve(second.isSessionReused());
            second.end();
          });
          second.on('error', reject);
        });
        first.on('error', reject);
      });
    assert.equal(await resume('shop.example.test'), true);
    assert.equal(await resume(undefined), true);
  });

  test('the application sees HTTPS=on and X-Forwarded-Proto: https', async () => {
    const reply = await get('/xff/server.js/request', 'shop.example.test');
    assert.equal(reply.status, 200);
    const headers = (JSON.parse(reply.text) as { rawHeaders: string[] }).rawHeaders;
    const header = (name: string) => headers[headers.findIndex((value, index) => index % 2 === 0 && value.toLowerCase() === name) + 1];
    assert.equal(header('x-iisnode-https'), 'on');
    assert.equal(header('x-forwarded-proto'), 'https');
    assert.equal(header('host'), 'shop.example.test');
  });

  test('redirectToHttps answers http with 301 to the https binding; https responses carry HSTS', async () => {
    const reply = await fetchRaw(`http://127.0.0.1:${httpPort}`, '/who.txt?a=1', { headers: { host: `shop.example.test:${httpPort}` } });
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, `https://shop.example.test:${port}/who.txt?a=1`);
    // The other site on that port has no redirect.
    assert.equal((await fetchRaw(`http://127.0.0.1:${httpPort}`, '/who.txt')).text, 'default\n');
    assert.equal((await get('/who.txt', 'shop.example.test')).headers['strict-transport-security'], 'max-age=31536000');
    assert.equal((await get('/who.txt', 'cart.example.test')).headers['strict-transport-security'], undefined);
  });

  test('redirectToHttps: a trusted balancer that took the request over https (X-Forwarded-Proto) is not redirected', async () => {
    const headers = { host: 'shop.example.test', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };
    const reply = await fetchRaw(`http://127.0.0.1:${httpPort}`, '/who.txt', { headers });
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'shop\n');
    // The balancer's own plain-http requests are still redirected.
    const plain = await fetchRaw(`http://127.0.0.1:${httpPort}`, '/who.txt', { headers: { ...headers, 'x-forwarded-proto': 'http' } });
    assert.equal(plain.status, 301);
  });

  test('a changed certificate file serves new handshakes; an open connection goes on', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.ca });
    try {
      const first = await get('/who.txt', 'shop.example.test', agent);
      assert.equal(first.cert.subject.O, 'nodehost tests');
      ca.issue('shop', ['shop.example.test'], 'renewed');
      let renewed: TlsReply | undefined;
      for (let attempt = 0; attempt < 100; attempt++) {
        renewed = await get('/who.txt', 'shop.example.test');
        if (renewed.cert.subject.O === 'renewed') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(renewed?.cert.subject.O, 'renewed');
      const again = await get('/who.txt', 'shop.example.test', agent);
      assert.equal(again.reused, true);
      assert.equal(again.cert.subject.O, 'nodehost tests');
      assert.equal(again.text, 'shop\n');
      assert.match(host.stderr(), /certificates reloaded/);
    } finally {
      agent.destroy();
    }
  });
});

/**
 * Automatic certificates (`tls: { acme: true }`) against Debian's pebble, a small ACME server
 * made for tests, on loopback with its own TLS certificate (trusted through `acme: { caFile }`)
 * and its validation pointed at nodehost's ports: the first certificate through HTTP-01 and
 * through TLS-ALPN-01, the stored account and certificate reused at a restart, renewal of a
 * short-lived certificate, one certificate for a site's two names, a failed order retried with
 * backoff, and the temporary certificate while no directory answers.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import acme from 'acme-client';
import { controlPaths } from '../src/control/paths.js';
import { BIN, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { parsePrometheus } from './helpers/prometheus.js';
import { waitForLog } from './helpers/recycle.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-acme-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const run = promisify(execFile);

/** The certificate pebble's own HTTPS presents (for 127.0.0.1), made once with openssl. */
const PEBBLE_CERT = join(DIR, 'pebble-cert.pem');
const PEBBLE_KEY = join(DIR, 'pebble-key.pem');
execFileSync(
  'openssl',
  ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', PEBBLE_KEY, '-out', PEBBLE_CERT, '-days', '2'].concat([
    '-subj',
    '/CN=pebble',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]),
  { stdio: ['ignore', 'ignore', 'pipe'] },
);

interface Pebble {
  readonly directory: string;
  /** The management interface (roots, certificate status by serial). */
  readonly management: string;
  readonly httpPort: number;
  readonly tlsPort: number;
  /** root is the PEM of pebble's issuing root (it makes a new one at each start). */
  root(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * startPebble runs pebble with its validation on httpPort/tlsPort (nodehost's), resolving once it
 * listens; `env` adds to its environment (PEBBLE_VA_ALWAYS_VALID=1: every challenge passes unasked).
 */
async function startPebble(name: string, validitySeconds?: number, env: NodeJS.ProcessEnv = {}): Promise<Pebble> {
  const [port, managementPort, httpPort, tlsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = join(DIR, `${name}-pebble.json`);
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: PEBBLE_CERT,
        privateKey: PEBBLE_KEY,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(validitySeconds === undefined ? {} : { certificateValidityPeriod: validitySeconds }),
      },
    }),
  );
  const child: ChildProcess = spawn('pebble', ['-config', config], {
    // No random sleeps, no rejected nonces, every order validated anew.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pebble did not start within 20 s\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ACME directory available')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pebble exited with ${code}\n${output}`)));
  });
  return {
    directory: `https://127.0.0.1:${port}/dir`,
    management: `https://127.0.0.1:${managementPort}`,
    httpPort,
    tlsPort,
    root: async () => {
      const { stdout } = await run('curl', ['-sS', '--cacert', PEBBLE_CERT, `https://127.0.0.1:${managementPort}/roots/0`]);
      return stdout;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** getJson reads a JSON answer from pebble (its own certificate trusted); undefined on a status other than 200. */
function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: readFileSync(PEBBLE_CERT), agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? JSON.parse(text) : undefined));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * startRenewalInfo serves, in front of a pebble that has no renewal information (Debian's 2.4), a
 * directory that adds `renewalInfo` (RFC 9773) and answers it as a directory does: for a
 * certificate pebble has revoked a window that has begun, else one a month away. The certificate
 * is found at pebble by the serial number in the identifier nodehost sends. `asked` lists the
 * serials asked for.
 */
async function startRenewalInfo(pebble: Pebble): Promise<{ directory: string; asked: string[]; close(): void }> {
  const asked: string[] = [];
  const server: HttpsServer = createHttpsServer({ cert: readFileSync(PEBBLE_CERT), key: readFileSync(PEBBLE_KEY) }, (req, res) => {
    void (async () => {
      if (req.url === '/dir') {
        const directory = (await getJson(pebble.directory)) as Record<string, unknown>;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ...directory, renewalInfo: `https://127.0.0.1:${port}/renewal-info` }));
        return;
      }
      const id = /^\/renewal-info\/([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
      if (id === null) {
        res.statusCode = 404;
        res.end();
        return;
      }
      const serial = Buffer.from(id[2]!, 'base64url').toString('hex');
      asked.push(serial);
      const status = (await getJson(`${pebble.management}/cert-status-by-serial/${serial}`)) as { Status?: string } | undefined;
      if (status === undefined) {
        res.statusCode = 404;
        res.end();
        return;
      }
      const hours = (n: number) => new Date(Date.now() + n * 3600 * 1000).toISOString();
      const isRevoked = status.Status === 'Revoked';
      res.setHeader('content-type', 'application/json');
      res.setHeader('retry-after', '3600');
      res.end(JSON.stringify({ suggestedWindow: isRevoked ? { start: hours(-1), end: hours(1) } : { start: hours(720), end: hours(744) } }));
    })().catch((err: Error) => {
      res.statusCode = 500;
      res.end(err.message);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { directory: `https://127.0.0.1:${port}/dir`, asked, close: () => server.close() };
}

/**
 * startFailingDirectory serves, in front of pebble, a directory URL that refuses its first
 * `failures` requests (403 with an ACME problem document: acme-client itself asks again only
 * after a 5xx, a 429 or no answer) and then gives pebble's directory, whose URLs lead to pebble
 * itself. `refused` counts the refusals.
 */
async function startFailingDirectory(pebble: Pebble, failures: number): Promise<{ directory: string; refused(): number; close(): void }> {
  let refused = 0;
  const server: HttpsServer = createHttpsServer({ cert: readFileSync(PEBBLE_CERT), key: readFileSync(PEBBLE_KEY) }, (req, res) => {
    void (async () => {
      if (req.url !== '/dir') {
        res.statusCode = 404;
        res.end();
        return;
      }
      if (refused < failures) {
        refused++;
        res.writeHead(403, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:unauthorized', detail: `refusal ${refused} of ${failures}` }));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(await getJson(pebble.directory)));
    })().catch((err: Error) => {
      res.statusCode = 500;
      res.end(err.message);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { directory: `https://127.0.0.1:${port}/dir`, refused: () => refused, close: () => server.close() };
}

/** served is the certificate nodehost presents on `port` for the SNI name `servername`. */
function served(port: number, servername = 'localhost'): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const certificate = socket.getPeerCertificate();
      socket.end();
      resolve(certificate);
    });
    socket.on('error', reject);
  });
}

/** servedUntil polls the served certificate (for `servername`) until `isWanted` holds (bounded: 60 s). */
async function servedUntil(
  port: number,
  isWanted: (certificate: PeerCertificate) => boolean,
  what: string,
  servername = 'localhost',
): Promise<PeerCertificate> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const certificate = await served(port, servername);
    if (isWanted(certificate)) return certificate;
    if (Date.now() > deadline) assert.fail(`${what}: still serving ${certificate.issuer.CN} ${certificate.serialNumber}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const isPebbles = (certificate: PeerCertificate) => /^Pebble Intermediate CA/.test(certificate.issuer.CN);

/** get makes an HTTPS request to localhost on `port`, verifying the chain against `ca`. */
function get(port: number, path: string, ca: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername: 'localhost', headers: { host: 'localhost' }, ca, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** writeHost writes a site folder and nodehost.yml for one ACME site (with `acmeLines` added to its acme mapping) and returns the config path. */
function writeHost(name: string, bindings: string[], directory: string, acmeLines: string[] = []): string {
  const folder = join(DIR, name);
  mkdirSync(join(folder, 'site'), { recursive: true });
  writeFileSync(join(folder, 'site', 'hello.txt'), `hello from ${name}\n`);
  const file = join(folder, 'nodehost.yml');
  writeFileSync(
    file,
    [
      'sites:',
      `  - name: ${name}`,
      '    root: site',
      `    bindings: [${bindings.map((binding) => JSON.stringify(binding)).join(', ')}]`,
      '    tls: { acme: true }',
      'acme:',
      '  email: ops@example.test',
      `  directory: ${directory}`,
      '  storage: acme',
      `  caFile: ${PEBBLE_CERT}`,
      ...acmeLines.map((line) => `  ${line}`),
      'logs: ""',
      '',
    ].join('\n'),
  );
  return file;
}

function startHost(file: string): Promise<RunningHost> {
  return startNodehost('', { port: false, args: ['--config', file] });
}

// The tests use their own ports and folders: they run side by side.
describe('acme', { concurrency: true }, () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble('main');
  });
  after(() => pebble?.stop());

  test('HTTP-01 on the http binding: a certificate from the directory, stored 0600, reused at a restart', async () => {
    const httpsPort = await freePort();
    const file = writeHost('http01', [`http://localhost:${pebble.httpPort}`, `https://localhost:${httpsPort}`], pebble.directory);
    let host = await startHost(file);
    try {
      const first = await servedUntil(httpsPort, isPebbles, 'the first certificate');
      assert.deepEqual(first.subjectaltname, 'DNS:localhost');
      assert.match(host.stderr(), /"msg":"certificate issued".*"site":"http01"/);
      assert.match(host.stderr(), /"msg":"certificate ordered".*"challenge":"http-01"/);
      const reply = await get(httpsPort, '/hello.txt', await pebble.root());
      assert.deepEqual(reply, { status: 200, text: 'hello from http01\n' });
      // The challenge path of an unknown token goes on to the site (here: a 404), never a 200.
      const { stdout: status } = await run('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://127.0.0.1:${pebble.httpPort}/.well-known/acme-challenge/none`,
      ]);
      assert.equal(status, '404');

      const storage = join(DIR, 'http01', 'acme');
      const [directoryFolder] = readdirSync(storage);
      for (const folder of [storage, join(storage, directoryFolder!), join(storage, directoryFolder!, 'sites')])
        assert.equal(statSync(folder).mode & 0o777, 0o700, folder);
      for (const stored of [join(storage, directoryFolder!, 'account.key'), join(storage, directoryFolder!, 'sites', 'http01.pem')])
        assert.equal(statSync(stored).mode & 0o777, 0o600, stored);

      await host.stop();
      host = await startHost(file);
      const again = await served(httpsPort);
      assert.equal(again.fingerprint256, first.fingerprint256, 'the stored certificate serves at once after a restart');
      const { stdout } = await run(process.execPath, [BIN, 'status', '--json', join(DIR, 'http01', 'site')]);
      const [certificate] = JSON.parse(stdout).certificates;
      assert.equal(certificate.state, 'valid');
      assert.equal(certificate.site, 'http01');
      assert.deepEqual(certificate.names, ['localhost']);
      assert.match(certificate.issuer, /^Pebble Intermediate CA/);
      assert.equal(certificate.notAfter, new Date(first.valid_to).toISOString());
      assert.doesNotMatch(host.stderr(), /certificate ordered/);
      const scrape = await run('curl', ['-s', '--unix-socket', controlPaths(join(DIR, 'http01', 'site')).socketPath, 'http://nodehost/metrics']);
      const expiry = parsePrometheus(scrape.stdout).samples.filter(
        (s) => s.name === 'nodehost_tls_certificate_expiry_timestamp_seconds' && s.labels.port === String(httpsPort),
      );
      const notAfter = Date.parse(first.valid_to) / 1000;
      assert.deepEqual(
        expiry.map((s) => [s.labels.name, s.value]),
        [
          ['*', notAfter],
          ['localhost', notAfter],
        ],
        'the ACME certificate gives its expiry in /metrics',
      );

      // A re-read nodehost.yml (here: the site gains hsts) keeps serving the issued certificate, without a new order.
      writeFileSync(file, readFileSync(file, 'utf8').replace('    tls: { acme: true }', '    tls: { acme: true }\n    hsts: max-age=60'));
      await waitForLog(host.child.stderr!, host.stderr, /host config reloaded/);
      const reloaded = await served(httpsPort);
      assert.equal(reloaded.fingerprint256, first.fingerprint256, 'the issued certificate serves after a host configuration reload');
      assert.doesNotMatch(host.stderr(), /certificate ordered/);
    } finally {
      await host.stop();
    }
  });

  test('TLS-ALPN-01 on the https binding when the site has no http binding', async () => {
    const file = writeHost('alpn', [`https://localhost:${pebble.tlsPort}`], pebble.directory);
    const host = await startHost(file);
    try {
      const certificate = await servedUntil(pebble.tlsPort, isPebbles, 'the first certificate');
      assert.equal(certificate.subjectaltname, 'DNS:localhost');
      assert.match(host.stderr(), /"msg":"certificate ordered".*"challenge":"tls-alpn-01"/);
      const { stdout } = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${pebble.tlsPort} -servername localhost </dev/null 2>&1`]);
      assert.match(stdout, /issuer=.*CN ?= ?Pebble Intermediate CA/);
      assert.deepEqual(await get(pebble.tlsPort, '/hello.txt', await pebble.root()), { status: 200, text: 'hello from alpn\n' });
    } finally {
      await host.stop();
    }
  });

  test('a short-lived certificate is renewed before it expires; new handshakes get the new one', async () => {
    const shortLived = await startPebble('short', 6);
    const httpsPort = await freePort();
    const file = writeHost('renew', [`http://localhost:${shortLived.httpPort}`, `https://localhost:${httpsPort}`], shortLived.directory);
    const host = await startHost(file);
    try {
      const first = await servedUntil(httpsPort, isPebbles, 'the first certificate');
      // A connection opened on the first certificate stays open through the renewal.
      const open = tlsConnect({ host: '127.0.0.1', port: httpsPort, servername: 'localhost', rejectUnauthorized: false });
      await once(open, 'secureConnect');
      const renewed = await servedUntil(
        httpsPort,
        (certificate) => isPebbles(certificate) && certificate.serialNumber !== first.serialNumber,
        'the renewed certificate',
      );
      assert.ok(Date.parse(renewed.valid_to) > Date.parse(first.valid_to));
      assert.match(host.stderr(), /"msg":"certificate ordered".*"reason":"renewal"/);
      assert.equal(open.getPeerCertificate().serialNumber, first.serialNumber);
      open.write('GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      let response = '';
      open.setEncoding('utf8').on('data', (chunk: string) => (response += chunk));
      await once(open, 'end');
      assert.match(response, /^HTTP\/1\.1 200 [\s\S]*hello from renew\n$/);
    } finally {
      await host.stop();
      await shortLived.stop();
    }
  });

  test('a certificate the directory revokes is replaced: renewal information (RFC 9773) asked at start', async () => {
    // Its own pebble: the HTTP-01 test beside it binds the main one's validation port.
    const ownPebble = await startPebble('revoke');
    const front = await startRenewalInfo(ownPebble);
    const httpsPort = await freePort();
    const file = writeHost('revoked', [`http://localhost:${ownPebble.httpPort}`, `https://localhost:${httpsPort}`], front.directory);
    let host: RunningHost | undefined;
    try {
      host = await startHost(file);
      const first = await servedUntil(httpsPort, isPebbles, 'the first certificate');
      await host.stop();
      // A kept certificate whose window is a month away: asked for, kept.
      host = await startHost(file);
      await waitForLog(host.child.stderr!, host.stderr, /"msg":"certificate renewal planned".*"site":"revoked"/);
      const serial = first.serialNumber.toLowerCase().replace(/^0+/, '');
      assert.ok(
        front.asked.some((asked) => asked.replace(/^0+/, '') === serial),
        `renewal information asked for ${serial}: ${front.asked.join(', ')}\n${host.stderr()}`,
      );
      assert.equal((await served(httpsPort)).fingerprint256, first.fingerprint256);
      assert.doesNotMatch(host.stderr(), /certificate ordered/);
      await host.stop();

      // Revoked at the directory (with nodehost's own account): the next start orders a new one.
      const storage = join(DIR, 'revoked', 'acme');
      const [directoryFolder] = readdirSync(storage);
      const pem = readFileSync(join(storage, directoryFolder!, 'sites', 'revoked.pem'), 'utf8');
      acme.axios.defaults.httpsAgent = new HttpsAgent({ ca: readFileSync(PEBBLE_CERT) });
      const client = new acme.Client({ directoryUrl: ownPebble.directory, accountKey: readFileSync(join(storage, directoryFolder!, 'account.key')) });
      await client.createAccount({ onlyReturnExisting: true });
      await client.revokeCertificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----')));
      host = await startHost(file);
      const renewed = await servedUntil(
        httpsPort,
        (certificate) => isPebbles(certificate) && certificate.serialNumber !== first.serialNumber,
        'the replacement',
      );
      assert.ok(renewed.fingerprint256 !== first.fingerprint256);
      assert.match(host.stderr(), /"msg":"certificate ordered".*"reason":"renewal information"/);
    } finally {
      await host?.stop();
      front.close();
      await ownPebble.stop();
    }
  });

  test('a site with two names gets one certificate for both', async () => {
    // Every challenge passes unasked: the names need no DNS.
    const alwaysValid = await startPebble('two-names', undefined, { PEBBLE_VA_ALWAYS_VALID: '1' });
    const httpsPort = await freePort();
    const file = writeHost('twonames', [`https://shop.example.test:${httpsPort}`, `https://www.shop.example.test:${httpsPort}`], alwaysValid.directory);
    const host = await startHost(file);
    try {
      const shop = await servedUntil(httpsPort, isPebbles, 'the certificate of shop.example.test', 'shop.example.test');
      assert.deepEqual(shop.subjectaltname.split(', ').sort(), ['DNS:shop.example.test', 'DNS:www.shop.example.test']);
      const www = await served(httpsPort, 'www.shop.example.test');
      assert.equal(www.fingerprint256, shop.fingerprint256, 'one certificate serves both names');
      assert.match(host.stderr(), /"msg":"certificate ordered".*"names":\["shop\.example\.test","www\.shop\.example\.test"\]/);
      assert.equal(host.stderr().match(/"msg":"certificate issued"/g)?.length, 1, 'one order');
    } finally {
      await host.stop();
      await alwaysValid.stop();
    }
  });

  test('a failed order is retried after acme.retryDelay, then after twice that; the next one succeeds', async () => {
    const alwaysValid = await startPebble('retry', undefined, { PEBBLE_VA_ALWAYS_VALID: '1' });
    const front = await startFailingDirectory(alwaysValid, 2);
    const httpsPort = await freePort();
    const host = await startHost(writeHost('retry', [`https://localhost:${httpsPort}`], front.directory, ['retryDelay: 200ms']));
    try {
      await servedUntil(httpsPort, isPebbles, 'the certificate of the third order');
      assert.equal(front.refused(), 2);
      const lines = host
        .stderr()
        .split('\n')
        .filter((line) => line.includes('"msg":"certificate'))
        .map((line) => JSON.parse(line) as { msg: string; retryInMs?: number; code?: string });
      // What follows the issue (the reload of the listeners, the renewal plan) is not this test's.
      assert.deepEqual(
        lines.slice(0, 6).map((line) => (line.msg === 'certificate order failed' ? `failed, retry in ${line.retryInMs} ms` : line.msg)),
        ['certificate ordered', 'failed, retry in 200 ms', 'certificate ordered', 'failed, retry in 400 ms', 'certificate ordered', 'certificate issued'],
      );
      assert.equal(lines[1]!.code, 'NH_ERR_ACME_ORDER');
    } finally {
      await host.stop();
      front.close();
      await alwaysValid.stop();
    }
  });

  test('a temporary self-signed certificate serves while no directory answers', async () => {
    const httpsPort = await freePort();
    const closed = await freePort();
    const host = await startHost(writeHost('unreachable', [`https://localhost:${httpsPort}`], `https://127.0.0.1:${closed}/dir`));
    try {
      const certificate = await served(httpsPort);
      assert.equal(certificate.issuer.CN, 'nodehost temporary certificate');
      assert.equal(certificate.subjectaltname, 'DNS:localhost');
    } finally {
      await host.stop();
    }
  });
});

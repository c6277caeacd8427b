/**
 * The same pipeline over HTTP/2 as over HTTP/1.1 (node:http2 client, test/sites/h2-pipeline):
 * inbound and outbound URL Rewrite rules, compression of a node response, an output-cache hit that node never sees
 * (its counter proves it), and a large upload to an application that reads nothing yet, which
 * the host stops taking from the client (HTTP/2 flow control) instead of buffering it.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { createTestCa } from './helpers/certificates.js';
import { SITES, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-h2-pipeline-'));
const NAME = 'site.example.test';
let host: RunningHost;
let port: number;
let ca: Buffer;
let session: ClientHttp2Session;

/** rssOf is a process's resident memory in bytes (Linux). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

function open(): ClientHttp2Session {
  // The URL names the site (:authority); the socket goes to 127.0.0.1.
  const opened = connect(`https://${NAME}:${port}`, { ca, host: '127.0.0.1', servername: NAME } as never);
  opened.on('error', () => undefined);
  return opened;
}

interface H2Reply {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function h2(on: ClientHttp2Session, path: string, headers: Record<string, string> = {}): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = on.request({ ':path': path, ...headers });
    let head: IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    stream.on('response', (h) => (head = h));
    stream.on('data', (chunk: Buffer) => parts.push(chunk));
    stream.on('end', () => resolve({ headers: head, body: Buffer.concat(parts) }));
    stream.on('error', reject);
  });
}

before(async () => {
  const made = createTestCa(DIR);
  ca = made.ca;
  const cert = made.issue('site', [NAME]);
  cpSync(join(SITES, 'h2-pipeline'), join(DIR, 'site'), { recursive: true });
  port = await freePort();
  writeFileSync(
    join(DIR, 'nodehost.yml'),
    [
      'sites:',
      '  - name: site',
      '    root: site',
      `    bindings: ["https://*:${port}"]`,
      `    tls: { certificate: ${cert.certificate}, key: ${cert.key} }`,
      'logs: ""',
      '',
    ].join('\n'),
  );
  host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
  session = open();
});

after(async () => {
  session?.close();
  await host?.stop();
  rmSync(DIR, { recursive: true, force: true });
});

test('a URL Rewrite rule over h2: the rewritten URL is served', async () => {
  const reply = await h2(session, '/renamed.txt');
  assert.equal(session.alpnProtocol, 'h2');
  assert.equal(reply.headers[':status'], 200);
  assert.equal(reply.body.toString(), 'the real file\n');
});

test("an outbound URL Rewrite rule over h2 rewrites node's page", async () => {
  const reply = await h2(session, '/app.js/page');
  assert.equal(reply.headers[':status'], 200);
  assert.equal(reply.body.toString(), '<a href="/new/x">x</a>');
});

test("a node response over h2 is compressed for the client's Accept-Encoding", async () => {
  const plain = await h2(session, '/app.js/text');
  assert.equal(plain.headers['content-encoding'], undefined);
  for (const [encoding, decode] of [
    ['gzip', zlib.gunzipSync],
    ['br', zlib.brotliDecompressSync],
  ] as const) {
    const reply = await h2(session, '/app.js/text', { 'accept-encoding': encoding });
    assert.equal(reply.headers[':status'], 200);
    assert.equal(reply.headers['content-encoding'], encoding);
    assert.ok(reply.body.length < plain.body.length / 4, `${encoding}: ${reply.body.length} bytes`);
    assert.deepEqual(decode(reply.body), plain.body);
  }
});

test('an output-cache hit over h2 is answered without node', async () => {
  const first = await h2(session, '/cached/app.js?item=1');
  assert.equal(first.headers['x-nodehost-cache'], 'miss');
  assert.equal(first.body.toString(), 'request 1');
  const second = await h2(session, '/cached/app.js?item=1');
  assert.equal(second.headers[':status'], 200);
  assert.equal(second.headers['x-nodehost-cache'], 'hit');
  assert.equal(second.body.toString(), 'request 1');
  // The next miss is node's second request: the hit never reached it.
  const other = await h2(session, '/cached/app.js?item=2');
  assert.equal(other.body.toString(), 'request 2');
});

test('a 40 MB upload to an app that reads nothing yet: the host stops taking the body, its memory stays bounded; then every byte arrives', async () => {
  const total = 40 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 'u');
  const probe = open();
  const rssBefore = rssOf(host.child.pid!);
  const stream = session.request({ ':path': '/app.js/slow', ':method': 'POST' });
  const reply = new Promise<string>((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8').on('data', (piece: string) => (text += piece));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
  // handed: the bytes the client stream has taken; isBlocked: it waits for 'drain', which comes only as the host reads.
  let handed = 0;
  let isBlocked = false;
  const pump = () => {
    isBlocked = false;
    while (handed < total) {
      handed += chunk.length;
      if (!stream.write(chunk)) {
        isBlocked = true;
        stream.once('drain', pump);
        return;
      }
    }
    stream.end();
  };
  pump();
  // Each look is a request through the host on another connection; the upload's progress is read between them.
  const look = async () => {
    const reply = await h2(probe, '/real.txt');
    assert.equal(reply.headers[':status'], 200);
    return { handed, isBlocked };
  };
  // The host forwards the body from the moment the app has the request: wait for that first.
  for (let i = 0; i < 500 && !(JSON.parse((await h2(probe, '/app.js/state')).body.toString()) as { isHeld: boolean }).isHeld; i++) await look();
  let seen = await look();
  for (let i = 0; i < 500; i++) {
    const next = await look();
    const isSettled = next.isBlocked && next.handed === seen.handed;
    seen = next;
    if (isSettled) break;
  }
  assert.ok(seen.isBlocked, `the client was never held back: it handed over ${seen.handed} bytes`);
  // And it stays held back: ten more looks, nothing more taken.
  for (let i = 0; i < 10; i++) assert.deepEqual(await look(), seen);
  assert.ok(seen.handed <= 8 * 1024 * 1024, `the host took ${seen.handed} bytes that the app did not read`);
  const grown = rssOf(host.child.pid!) - rssBefore;
  assert.ok(grown < 16 * 1024 * 1024, `the host grew by ${grown} bytes while the app read nothing`);
  assert.equal((await h2(probe, '/app.js/release')).body.toString(), 'released');
  assert.deepEqual(JSON.parse(await reply), { bytes: total });
  probe.close();
});

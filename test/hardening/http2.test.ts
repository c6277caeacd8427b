/**
 * Hardening of the https port: HTTP/2 abuse written frame by frame (rapid reset, too many
 * streams, oversized header lists, CONTINUATION floods) and TLS that a public server meets
 * (old protocol versions, unknown SNI names, garbage instead of a handshake). Each attack is
 * followed by an ordinary request on a fresh connection: the host keeps serving.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { createTestCa, type TestCa } from '../helpers/certificates.js';
import {
  CANCEL,
  CONTINUATION,
  DATA,
  END_HEADERS,
  END_STREAM,
  ENHANCE_YOUR_CALM,
  INTERNAL_ERROR,
  HEADERS,
  RST_STREAM,
  RawH2,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  frame,
  headerBlock,
  requestBlock,
  u32,
} from '../helpers/h2-frames.js';
import { SITES, freePort, startNodehost, type RunningHost } from '../helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-hard-h2-'));
const NAME = 'site.example.test';

after(() => rmSync(DIR, { recursive: true, force: true }));

/** rssOf is a process's resident memory in bytes (Linux). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

/** statusOf reads the `:status` of a response HEADERS frame (the block starts with an indexed static entry, RFC 7541 Appendix A). */
function statusOf(h2: RawH2, streamId: number): number | undefined {
  const head = h2.framesOf(streamId).find((f) => f.type === HEADERS);
  if (head === undefined) return undefined;
  const statuses: Record<number, number> = { 136: 200, 137: 204, 138: 206, 139: 304, 140: 400, 141: 404, 142: 500 };
  const first = head.payload[0]!;
  if (statuses[first] !== undefined) return statuses[first];
  // A literal :status (name index 8): the three digits follow the length byte.
  return Number(head.payload.subarray(2, 5).toString('latin1'));
}

describe('HTTP/2 and TLS hardening', () => {
  let host: RunningHost;
  let ca: TestCa;
  let port: number;

  /** served proves the host still answers: a fresh connection gets the static file. */
  async function served(): Promise<void> {
    const h2 = await RawH2.open(port, NAME, ca.ca);
    h2.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, requestBlock(NAME, '/style.css')));
    await h2.until(() => h2.framesOf(1).some((f) => f.type === DATA && (f.flags & END_STREAM) !== 0));
    assert.equal(statusOf(h2, 1), 200);
    h2.close();
  }

  /** appCount is the worker's request counter (its `count` route), asked on a fresh connection. */
  async function appCount(): Promise<number> {
    const h2 = await RawH2.open(port, NAME, ca.ca);
    h2.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, requestBlock(NAME, '/xff/server.js/count')));
    await h2.until(() => h2.framesOf(1).some((f) => f.type === DATA && (f.flags & END_STREAM) !== 0));
    const body = Buffer.concat(
      h2
        .framesOf(1)
        .filter((f) => f.type === DATA)
        .map((f) => f.payload),
    ).toString();
    h2.close();
    return Number(body.split(' ')[1]);
  }

  before(async () => {
    ca = createTestCa(DIR);
    const cert = ca.issue('site', [NAME]);
    mkdirSync(join(DIR, 'sites'));
    cpSync(join(SITES, '_lib'), join(DIR, 'sites', '_lib'), { recursive: true });
    cpSync(join(SITES, 'main', 'xff'), join(DIR, 'sites', 'site', 'xff'), { recursive: true });
    // An application first asked by the reset test: its requests wait for its worker to start.
    cpSync(join(SITES, 'hardening'), join(DIR, 'sites', 'site', 'cold'), { recursive: true });
    writeFileSync(join(DIR, 'sites', 'site', 'style.css'), 'body { color: red }\n');
    port = await freePort();
    writeFileSync(
      join(DIR, 'nodehost.yml'),
      [
        'sites:',
        '  - name: site',
        '    root: sites/site',
        `    bindings: ["https://*:${port}"]`,
        `    tls: { certificate: ${cert.certificate}, key: ${cert.key} }`,
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
  });
  after(async () => {
    await host?.stop();
  });

  test('streams reset while they wait for a worker are the client leaving: no warning for each, never blamed on the worker', async () => {
    const h2 = await RawH2.open(port, NAME, ca.ca);
    const batch: Buffer[] = [];
    // The application has no worker yet: every stream is reset while its request waits for one.
    for (let id = 1; id < 100; id += 2)
      batch.push(frame(HEADERS, END_HEADERS | END_STREAM, id, requestBlock(NAME, '/cold/app.js/pid')), frame(RST_STREAM, 0, id, u32(CANCEL)));
    // A last stream after them, answered in full once the worker is up: the resets before it have been dealt with.
    batch.push(frame(HEADERS, END_HEADERS | END_STREAM, 101, requestBlock(NAME, '/cold/app.js/pid')));
    h2.write(Buffer.concat(batch));
    await h2.until(() => h2.framesOf(101).some((f) => f.type === DATA && (f.flags & END_STREAM) !== 0));
    assert.equal(statusOf(h2, 101), 200);
    // One more round trip to that worker on a fresh connection: what it answered for the reset streams is in.
    const again = await RawH2.open(port, NAME, ca.ca);
    again.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, requestBlock(NAME, '/cold/app.js/pid')));
    await again.until(() => again.framesOf(1).some((f) => f.type === DATA && (f.flags & END_STREAM) !== 0));
    again.close();
    h2.close();
    assert.doesNotMatch(host.stderr(), /request failed|NH_ERR_WORKER_CONNECTION_LOST/);
  });

  test('rapid reset (CVE-2023-44487): a flood of HEADERS+RST_STREAM ends in GOAWAY ENHANCE_YOUR_CALM and a closed connection after a bounded number of streams', async () => {
    const before = await appCount();
    const h2 = await RawH2.open(port, NAME, ca.ca);
    const pairs = 5000;
    let id = 1;
    while (id < 2 * pairs && h2.goaway() === undefined && !h2.isClosed) {
      const batch: Buffer[] = [];
      for (let k = 0; k < 100; k++, id += 2)
        batch.push(frame(HEADERS, END_HEADERS | END_STREAM, id, requestBlock(NAME, '/xff/server.js/count')), frame(RST_STREAM, 0, id, u32(CANCEL)));
      h2.write(Buffer.concat(batch));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await h2.until(() => h2.goaway() !== undefined);
    // nghttp2's own limit may speak first (INTERNAL_ERROR) when the flood arrives in one read.
    assert.ok([ENHANCE_YOUR_CALM, INTERNAL_ERROR].includes(h2.goaway()!), `GOAWAY ${h2.goaway()}`);
    // GOAWAY's last stream id: the host took a burst of about 500 streams, not all 5000.
    const lastStream = h2.frames.find((f) => f.type === 0x7)!.payload.readUInt32BE(0);
    assert.ok(lastStream < 2 * pairs - 1, `the host processed streams up to ${lastStream}`);
    await h2.until(() => h2.isClosed);
    h2.close();
    // What reached the worker is bounded by what the host took.
    const reached = (await appCount()) - before - 1;
    assert.ok(reached <= (lastStream + 1) / 2, `${reached} requests reached the worker`);
    await served();
  });

  test('concurrent streams: 128 advertised; a client that opens a 129th loses its connection, others are served', async () => {
    const h2 = await RawH2.open(port, NAME, ca.ca);
    assert.equal(h2.settings.get(SETTINGS_MAX_CONCURRENT_STREAMS), 128);
    // 128 streams held open: requests without END_STREAM to a route that answers its head at once
    // and ends only with the request body (a completed response would free its stream: node resets
    // a stream whose response ended before its request, RFC 9113 8.1).
    const batch: Buffer[] = [];
    for (let k = 0; k < 128; k++) batch.push(frame(HEADERS, END_HEADERS, 1 + 2 * k, requestBlock(NAME, '/xff/server.js/hold')));
    h2.write(Buffer.concat(batch));
    await h2.until(() => h2.frames.filter((f) => f.type === HEADERS).length === 128);
    assert.equal(h2.frames.filter((f) => f.type === HEADERS).length, 128);
    h2.write(frame(HEADERS, END_HEADERS, 257, requestBlock(NAME, '/style.css')));
    await h2.until(() => h2.isClosed);
    assert.ok(h2.isClosed);
    assert.equal(statusOf(h2, 257), undefined, 'the 129th stream was served');
    await served();
  });

  test('a header list over 32 KiB is refused (a stream error), a large one under it is served', async () => {
    const h2 = await RawH2.open(port, NAME, ca.ca);
    assert.equal(h2.settings.get(SETTINGS_MAX_HEADER_LIST_SIZE), 32 * 1024);
    // HEADERS and CONTINUATION frames of at most 16 KiB each (the default SETTINGS_MAX_FRAME_SIZE).
    const send = (streamId: number, block: Buffer) => {
      const pieces: Buffer[] = [];
      for (let at = 0; at < block.length; at += 16_000) pieces.push(block.subarray(at, at + 16_000));
      for (const [i, piece] of pieces.entries())
        h2.write(frame(i === 0 ? HEADERS : CONTINUATION, (i === 0 ? END_STREAM : 0) | (i === pieces.length - 1 ? END_HEADERS : 0), streamId, piece));
    };
    const fields = (kb: number) => Array.from({ length: kb }, (_, i) => [`x-filler-${i}`, 'f'.repeat(1000)] as const);
    send(1, requestBlock(NAME, '/style.css', fields(40)));
    await h2.until(() => h2.framesOf(1).length > 0);
    const refused = h2.framesOf(1)[0]!;
    assert.ok(refused.type === RST_STREAM || statusOf(h2, 1) === 431, `stream 1 got frame type ${refused.type}`);
    send(3, requestBlock(NAME, '/style.css', fields(20)));
    await h2.until(() => h2.framesOf(3).some((f) => f.type === DATA && (f.flags & END_STREAM) !== 0) || h2.isClosed);
    assert.equal(statusOf(h2, 3), 200);
    h2.close();
  });

  test('CONTINUATION floods (CVE-2024-27316-style): endless header blocks end the connection, memory stays bounded', async () => {
    const rssBefore = rssOf(host.child.pid!);
    for (const block of [headerBlock([['x-flood', 'b'.repeat(1000)]]), Buffer.alloc(0)]) {
      const h2 = await RawH2.open(port, NAME, ca.ca);
      h2.write(frame(HEADERS, END_STREAM, 1, requestBlock(NAME, '/style.css')));
      // Up to 20,000 CONTINUATION frames (20 MB of header block with the filled ones), never END_HEADERS.
      let sent = 0;
      while (sent < 20_000 && !h2.isClosed) {
        const batch: Buffer[] = [];
        for (let k = 0; k < 100; k++, sent++) batch.push(frame(CONTINUATION, 0, 1, block));
        h2.write(Buffer.concat(batch));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await h2.until(() => h2.isClosed);
      assert.ok(h2.isClosed);
      assert.equal(statusOf(h2, 1), undefined);
      h2.close();
    }
    const grown = rssOf(host.child.pid!) - rssBefore;
    assert.ok(grown < 20 * 1024 * 1024, `the host grew by ${grown} bytes`);
    await served();
  });

  /** handshake connects over TLS and resolves with the negotiated protocol and the certificate, or rejects with the error. */
  function handshake(options: { servername?: string; minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2'; maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' }) {
    return new Promise<{ protocol: string; certificate: PeerCertificate }>((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: ca.ca,
        // The client itself would not offer TLS 1.0/1.1 at OpenSSL's default security level.
        ciphers: 'DEFAULT@SECLEVEL=0',
        rejectUnauthorized: false,
        ...options,
      });
      socket.once('secureConnect', () => {
        resolve({ protocol: socket.getProtocol() ?? '', certificate: socket.getPeerCertificate() });
        socket.end();
      });
      socket.once('error', reject);
    });
  }

  test('TLS 1.0 and 1.1 are refused by the server (protocol_version alert); 1.2 and 1.3 are served', async () => {
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      await assert.rejects(handshake({ servername: NAME, minVersion: 'TLSv1', maxVersion: version }), /alert protocol version|SSL alert number 70/);
    }
    assert.equal((await handshake({ servername: NAME, maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
    assert.equal((await handshake({ servername: NAME })).protocol, 'TLSv1.3');
  });

  test('an SNI name no site has, or none at all, gets the default certificate', async () => {
    for (const servername of ['unknown.example.test', undefined]) {
      const { certificate } = await handshake(servername === undefined ? {} : { servername });
      assert.match(String(certificate.subjectaltname), /DNS:site\.example\.test/);
    }
  });

  test('garbage instead of a handshake costs its connection only', async () => {
    const inputs = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0xff, 0xfb]), // a ClientHello record that claims 64 KiB and stops
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    ];
    for (const bytes of inputs) {
      const socket = netConnect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.resume();
      socket.write(bytes);
      // The truncated record waits for more bytes: end the connection from this side then.
      if (bytes[0] === 0x16) socket.end();
      await new Promise((resolve) => socket.once('close', resolve));
    }
    assert.equal(host.child.exitCode, null);
    await served();
  });
});

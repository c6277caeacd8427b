/**
 * Large response bodies from a node app arrive byte for byte, whatever the client's pace. The
 * host reads each pooled connection to a worker into a buffer it reuses from read to read
 * (src/iisnode/upstream-connection.ts) while the bytes went on to the client's socket at once;
 * a slow client makes the host queue them, and the next read must then not overwrite them.
 * Every 4-byte word of a body holds its index (test/sites/bodies/bodies.js), so any piece lost,
 * repeated or overwritten changes the hash. A static file too large for the memory cache is
 * read from disk into one buffer per response, which a filter collecting the body must copy.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';

const MIB = 1024 * 1024;

/** expectedHash is the sha256 of the app's body of `mib` MiB with words starting at `seed` (as text: hex lines). */
function expectedHash(mib: number, seed: number, isText = false): string {
  const body = Buffer.alloc(mib * MIB);
  if (isText) for (let i = 0; i + 9 <= body.length; i += 9) body.write(`${((seed + i / 9) >>> 0).toString(16).padStart(8, '0')}\n`, i, 'latin1');
  else for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((seed + i / 4) >>> 0, i);
  return createHash('sha256').update(body).digest('hex');
}

interface Received {
  readonly status: number;
  readonly bytes: number;
  readonly hash: string;
  readonly framing: string;
}

/**
 * fetchBody reads one response with node's strict client; `pace` makes it a slow reader: after
 * each MiB it stops reading for `pauseMs`, so the host has to queue what follows.
 */
function fetchBody(port: number, target: string, pace?: { pauseMs: number }): Promise<Received> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, agent: false }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      let nextPause = MIB;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
        if (pace !== undefined && bytes >= nextPause) {
          nextPause += MIB;
          res.pause();
          setTimeout(() => res.resume(), pace.pauseMs);
        }
      });
      res.on('error', reject);
      res.on('end', () => {
        const framing = res.headers['content-length'] !== undefined ? 'content-length' : String(res.headers['transfer-encoding']);
        resolve({ status: res.statusCode!, bytes, hash: hash.digest('hex'), framing });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A copy of the site with a static text file (hex lines) over the memory cache's 4 MiB. */
const SITE = mkdtempSync(join(tmpdir(), 'nodehost-bodies-'));
const LARGE_TEXT_MIB = 6;

describe('large response bodies', () => {
  let host: RunningHost;

  before(async () => {
    cpSync(`${SITES}bodies`, SITE, { recursive: true });
    const text = Buffer.alloc(LARGE_TEXT_MIB * MIB);
    for (let i = 0; i + 9 <= text.length; i += 9) text.write(`${(7 + i / 9).toString(16).padStart(8, '0')}\n`, i, 'latin1');
    writeFileSync(join(SITE, 'large.txt'), text);
    host = await startNodehost(SITE);
  });

  after(async () => {
    assert.equal(await host.stop(), 0);
    rmSync(SITE, { recursive: true, force: true });
  });

  test('a client that reads as fast as it can gets every byte of 16 MiB, with a length and chunked', async () => {
    const fixed = await fetchBody(host.port, '/bodies.js?mib=16&seed=1');
    assert.deepEqual(fixed, { status: 200, bytes: 16 * MIB, hash: expectedHash(16, 1), framing: 'content-length' });
    const chunked = await fetchBody(host.port, '/bodies.js?mib=16&seed=2&chunked=1');
    assert.deepEqual(chunked, { status: 200, bytes: 16 * MIB, hash: expectedHash(16, 2), framing: 'chunked' });
  });

  test('a slow client gets every byte of 32 MiB: what the host queued for it is not overwritten by later reads', async () => {
    const fixed = await fetchBody(host.port, '/bodies.js?mib=32&seed=3', { pauseMs: 25 });
    assert.deepEqual(fixed, { status: 200, bytes: 32 * MIB, hash: expectedHash(32, 3), framing: 'content-length' });
    const chunked = await fetchBody(host.port, '/bodies.js?mib=32&seed=4&chunked=1', { pauseMs: 25 });
    assert.deepEqual(chunked, { status: 200, bytes: 32 * MIB, hash: expectedHash(32, 4), framing: 'chunked' });
  });

  test('a body the response chain collects whole (an outbound rule) is not overwritten by the reads that follow it', async () => {
    const fixed = await fetchBody(host.port, '/bodies.js?mib=4&seed=5&text=1');
    assert.deepEqual(fixed, { status: 200, bytes: 4 * MIB, hash: expectedHash(4, 5, true), framing: 'content-length' });
    const chunked = await fetchBody(host.port, '/bodies.js?mib=4&seed=6&text=1&chunked=1');
    assert.deepEqual(chunked, { status: 200, bytes: 4 * MIB, hash: expectedHash(4, 6, true), framing: 'content-length' });
  });

  test('a static file read from disk that an outbound rule collects whole arrives unchanged', async () => {
    const received = await fetchBody(host.port, '/large.txt');
    assert.deepEqual(received, { status: 200, bytes: LARGE_TEXT_MIB * MIB, hash: expectedHash(LARGE_TEXT_MIB, 7, true), framing: 'content-length' });
  });

  test('slow and fast clients at once, over the same worker, each get their own body', async () => {
    const targets = [0, 1, 2, 3, 4, 5].map((i) => ({ seed: 100 + i, mib: 8, isSlow: i % 2 === 0, isChunked: i % 3 === 0 }));
    const received = await Promise.all(
      targets.map(({ seed, mib, isSlow, isChunked }) =>
        fetchBody(host.port, `/bodies.js?mib=${mib}&seed=${seed}${isChunked ? '&chunked=1' : ''}`, isSlow ? { pauseMs: 25 } : undefined),
      ),
    );
    for (const [i, { seed, mib }] of targets.entries()) {
      assert.equal(received[i]!.bytes, mib * MIB, `request ${i}`);
      assert.equal(received[i]!.hash, expectedHash(mib, seed), `request ${i}: its body, unchanged`);
    }
  });
});

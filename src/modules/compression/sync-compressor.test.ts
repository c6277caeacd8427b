import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { SyncCompressor } from './sync-compressor.js';

const DECODE = { gzip: zlib.gunzipSync, deflate: zlib.inflateSync, br: zlib.brotliDecompressSync } as const;

test("node's zlib streams still have the synchronous step SyncCompressor relies on", () => {
  for (const stream of [zlib.createGzip(), zlib.createBrotliCompress()]) {
    const engine = stream as unknown as { _handle?: { writeSync?: unknown }; _writeState?: unknown };
    assert.equal(typeof engine._handle?.writeSync, 'function');
    assert.ok(engine._writeState instanceof Uint32Array);
    stream.close();
  }
});

test('a large piece spanning many output buffers decodes to the original', () => {
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  const compressor = new SyncCompressor('gzip');
  const out = Buffer.concat([compressor.write(big), compressor.finish()]);
  assert.deepEqual(zlib.gunzipSync(out), big);
});

for (const scheme of ['gzip', 'deflate', 'br'] as const) {
  test(`${scheme}: pieces written one by one decode to the original`, () => {
    const compressor = new SyncCompressor(scheme);
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.from(`{"row":${i},"name":"item ${i}","tags":["a","b","c"]}\n`));
    const out: Buffer[] = [];
    for (const piece of pieces) out.push(compressor.write(piece));
    out.push(compressor.finish());
    assert.deepEqual(DECODE[scheme](Buffer.concat(out)), Buffer.concat(pieces));
    // After finish the compressor is closed and gives nothing more.
    assert.equal(compressor.write(Buffer.from('x')).length, 0);
  });

  test(`${scheme}: a flushed piece decodes on its own, before the end`, () => {
    const compressor = new SyncCompressor(scheme);
    const first = compressor.writeFlushed(Buffer.from('data: one\n\n'));
    const partial =
      scheme === 'br'
        ? zlib.brotliDecompressSync(first, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH })
        : (scheme === 'gzip' ? zlib.gunzipSync : zlib.inflateSync)(first, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.equal(partial.toString(), 'data: one\n\n');
    compressor.close();
  });
}

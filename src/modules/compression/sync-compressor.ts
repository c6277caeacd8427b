/**
 * SyncCompressor encodes one body piece by piece, synchronously, so it fits the response
 * chain's streaming filter contract (http/response-filter.ts): each write returns the bytes
 * the encoder produced so far, a flush returns everything it holds back (a complete deflate or
 * brotli block the client can decode now), and finish returns the trailer.
 *
 * It keeps one node zlib stream object and drives its native handle's synchronous step,
 * `handle.writeSync(flushFlag, in, inOff, inLen, out, outOff, outLen)` with the counts left in
 * `_writeState`: the loop `zlib.gzipSync()` runs for a whole buffer (lib/zlib.js,
 * processChunkSync), minus the close at its end, so one encoder serves a whole response. It
 * is not documented API, so it is reached in this one place, and sync-compressor.test.ts fails
 * loudly if a node version changes it. Running on the event loop is deliberate: for the small
 * pieces a node response is made of, a hop to the libuv thread pool costs more than the
 * compression itself, and it is what keeps the chain's contract (and its framing decision)
 * synchronous.
 */
import zlib from 'node:zlib';
import type { CompressionScheme } from '../../config/types.js';

/** What SyncCompressor uses of a node zlib stream (see the file comment). */
interface ZlibEngine {
  readonly _handle: {
    writeSync(flushFlag: number, input: Buffer, inOff: number, inLen: number, output: Buffer, outOff: number, outLen: number): void;
  } | null;
  readonly _writeState: Uint32Array;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Output buffer size, node's default zlib chunk size. */
const OUT_BYTES = 16 * 1024;

const EMPTY = Buffer.alloc(0);
const {
  Z_NO_FLUSH,
  Z_SYNC_FLUSH,
  Z_FINISH,
  BROTLI_OPERATION_PROCESS,
  BROTLI_OPERATION_FLUSH,
  BROTLI_OPERATION_FINISH,
  BROTLI_PARAM_QUALITY,
  BROTLI_PARAM_LGWIN,
} = zlib.constants;

/** CompressorLevels are the effort settings of one kind of response. */
export interface CompressorLevels {
  /** gzip and deflate level, 1 to 9. */
  readonly zlibLevel: number;
  /** brotli quality, 0 to 11. */
  readonly brotliQuality: number;
  /** brotli window, log2 of bytes (10 to 24): it bounds the memory one stream holds. */
  readonly brotliWindowBits: number;
}

/**
 * DYNAMIC_LEVELS are used for node responses, compressed as they stream: brotli quality 4 and
 * gzip level 5 cost about as much CPU per byte as sending it, and a 256 KiB brotli window keeps
 * an open server-sent-events stream at a few hundred KiB of memory.
 */
export const DYNAMIC_LEVELS: CompressorLevels = Object.freeze({ zlibLevel: 5, brotliQuality: 4, brotliWindowBits: 18 });

export class SyncCompressor {
  readonly scheme: CompressionScheme;
  readonly #engine: ZlibEngine;
  #out: Buffer = Buffer.allocUnsafe(OUT_BYTES);
  #outOffset = 0;
  #error: Error | undefined = undefined;
  readonly #process: number;
  readonly #flush: number;
  readonly #finish: number;
  #isClosed = false;

  constructor(scheme: CompressionScheme, levels: CompressorLevels = DYNAMIC_LEVELS) {
    this.scheme = scheme;
    if (scheme === 'br') {
      this.#engine = zlib.createBrotliCompress({
        params: { [BROTLI_PARAM_QUALITY]: levels.brotliQuality, [BROTLI_PARAM_LGWIN]: levels.brotliWindowBits },
      }) as unknown as ZlibEngine;
      this.#process = BROTLI_OPERATION_PROCESS;
      this.#flush = BROTLI_OPERATION_FLUSH;
      this.#finish = BROTLI_OPERATION_FINISH;
    } else {
      const options = { level: levels.zlibLevel };
      this.#engine = (scheme === 'gzip' ? zlib.createGzip(options) : zlib.createDeflate(options)) as unknown as ZlibEngine;
      this.#process = Z_NO_FLUSH;
      this.#flush = Z_SYNC_FLUSH;
      this.#finish = Z_FINISH;
    }
    this.#engine.on('error', (err) => {
      this.#error = err;
    });
  }

  /** Runs the encoder over `input` with `flushFlag` and returns the bytes it produced. */
  #step(input: Buffer, flushFlag: number): Buffer {
    const handle = this.#engine._handle;
    if (handle === null) throw new Error('the zlib encoder is closed');
    const state = this.#engine._writeState;
    let inOff = 0;
    let inLen = input.length;
    let produced: Buffer[] | undefined;
    let first: Buffer = EMPTY;
    for (;;) {
      const outLen = this.#out.length - this.#outOffset;
      handle.writeSync(flushFlag, input, inOff, inLen, this.#out, this.#outOffset, outLen);
      if (this.#error !== undefined) throw this.#error;
      const outLeft = state[0]!;
      const inLeft = state[1]!;
      const have = outLen - outLeft;
      if (have > 0) {
        // Slices of one buffer, never written twice: the offset only moves forward.
        const piece = this.#out.subarray(this.#outOffset, this.#outOffset + have);
        this.#outOffset += have;
        if (first.length === 0) first = piece;
        else {
          produced ??= [first];
          produced.push(piece);
        }
      }
      if (outLeft === 0 || this.#outOffset >= this.#out.length) {
        this.#out = Buffer.allocUnsafe(OUT_BYTES);
        this.#outOffset = 0;
      }
      // A full output buffer means the encoder has more to give for this input.
      if (outLeft !== 0) break;
      inOff += inLen - inLeft;
      inLen = inLeft;
    }
    return produced === undefined ? first : Buffer.concat(produced);
  }

  /** write encodes a piece; the encoder may keep it all back (an empty result). */
  write(chunk: Buffer): Buffer {
    if (this.#isClosed || chunk.length === 0) return EMPTY;
    return this.#step(chunk, this.#process);
  }

  /** writeFlushed encodes a piece and flushes it: the result decodes to everything written so far. */
  writeFlushed(chunk: Buffer): Buffer {
    if (this.#isClosed) return EMPTY;
    return this.#step(chunk, this.#flush);
  }

  /** flush returns what the encoder holds back, as a block the client can decode now. */
  flush(): Buffer {
    return this.writeFlushed(EMPTY);
  }

  /** finish returns the rest of the encoding and the trailer, and frees the encoder. */
  finish(): Buffer {
    if (this.#isClosed) return EMPTY;
    const out = this.#step(EMPTY, this.#finish);
    this.close();
    return out;
  }

  /** close frees the encoder without finishing (a response cut short); idempotent. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#engine.close();
  }
}

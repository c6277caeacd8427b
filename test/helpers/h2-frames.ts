/**
 * A raw HTTP/2 client for hardening tests: frames written by hand over TLS (ALPN h2), so a
 * test can send what no well-behaved client would (floods of HEADERS+RST_STREAM, endless
 * CONTINUATION, too many streams) and read the server's frames back (RFC 9113 4, 6).
 * Header blocks are HPACK literals without indexing and without Huffman coding (RFC 7541 6.2.2).
 */
import { connect, type TLSSocket } from 'node:tls';

export const DATA = 0x0;
export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PING = 0x6;
export const GOAWAY = 0x7;
export const WINDOW_UPDATE = 0x8;
export const CONTINUATION = 0x9;

export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;

/** Error codes (RFC 9113 7). */
export const INTERNAL_ERROR = 0x2;
export const REFUSED_STREAM = 0x7;
export const CANCEL = 0x8;
export const ENHANCE_YOUR_CALM = 0xb;

/** SETTINGS identifiers (RFC 9113 6.5.2). */
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Frame is one frame read from the server. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** frame encodes one frame. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** u32 is a four-byte payload (RST_STREAM's error code, WINDOW_UPDATE's increment). */
export function u32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(value);
  return buf;
}

/** hpackInteger encodes an HPACK integer with an n-bit prefix whose high bits are `flags` (RFC 7541 5.1). */
function hpackInteger(value: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** headerBlock encodes header fields as literals without indexing (new names, no Huffman). */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(Buffer.from([0x00, ...hpackInteger(n.length, 7, 0)]), n, Buffer.from(hpackInteger(v.length, 7, 0)), v);
  }
  return Buffer.concat(parts);
}

/** requestBlock is the header block of a GET of `path` from `authority`. */
export function requestBlock(authority: string, path: string, extra: readonly (readonly [string, string])[] = []): Buffer {
  return headerBlock([[':method', 'GET'], [':scheme', 'https'], [':authority', authority], [':path', path], ...extra]);
}

/**
 * RawH2 is one raw HTTP/2 connection: it sends the preface and an empty SETTINGS, acknowledges
 * the server's SETTINGS, and collects every frame the server sends.
 */
export class RawH2 {
  readonly socket: TLSSocket;
  readonly frames: Frame[] = [];
  /** The server's first SETTINGS, as identifier → value. */
  readonly settings = new Map<number, number>();
  #pending = Buffer.alloc(0);
  #waiters: { test: () => boolean; resolve: () => void }[] = [];
  #isClosed = false;

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => {
      this.#isClosed = true;
      this.#check();
    });
    socket.on('error', () => undefined);
  }

  /** open connects over TLS with ALPN h2 and resolves once the server's SETTINGS arrived. */
  static async open(port: number, servername: string, ca: string): Promise<RawH2> {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['h2'] });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    if (socket.alpnProtocol !== 'h2') throw new Error(`ALPN chose ${socket.alpnProtocol}, not h2`);
    const h2 = new RawH2(socket);
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
    await h2.until(() => h2.frames.some((f) => f.type === SETTINGS && (f.flags & ACK) === 0));
    return h2;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** write sends raw bytes; false when the socket is gone. */
  write(bytes: Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(bytes);
  }

  /** until resolves when `test` holds (checked at each frame and at close). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  /** goaway is the server's GOAWAY error code, or undefined before one came. */
  goaway(): number | undefined {
    const f = this.frames.find((x) => x.type === GOAWAY);
    return f === undefined ? undefined : f.payload.readUInt32BE(4);
  }

  /** framesOf lists the frames of one stream. */
  framesOf(streamId: number): Frame[] {
    return this.frames.filter((f) => f.streamId === streamId);
  }

  close(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      const f: Frame = { type: buf[3]!, flags: buf[4]!, streamId: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + length) };
      buf = buf.subarray(9 + length);
      this.frames.push(f);
      if (f.type === SETTINGS && (f.flags & ACK) === 0) {
        if (this.settings.size === 0)
          for (let i = 0; i + 6 <= f.payload.length; i += 6) this.settings.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
        this.write(frame(SETTINGS, ACK, 0));
      }
    }
    this.#pending = Buffer.from(buf);
    this.#check();
  }

  #check(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (waiter.test() || this.#isClosed) waiter.resolve();
      else this.#waiters.push(waiter);
    }
  }
}

/**
 * The two pieces of HTTP/1.1 parsing the raw forwarder needs from a worker's response, and
 * nothing more (RFC 9112): the response head (status line, header list, framing) and the
 * chunked framing of a body, so the end of each response is known and the connection can be
 * reused. Header values are kept exactly as the worker sent them, in order, repeats separate.
 */
import { equalsIgnoreAsciiCase } from '../http/equals-ignore-ascii-case.js';
import { INVALID_FIELD_VALUE_CHAR, isHttpToken } from '../http/http-token.js';

/** ResponseHead is a parsed response head; fixed shape. `contentLength` is -1 when absent. */
export class ResponseHead {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Header list as sent: name, value, name, value, … (names keep their case). */
  readonly rawHeaders: string[];
  readonly contentLength: number;
  /** True when the last transfer coding is chunked. */
  readonly isChunked: boolean;
  /** True when the head has a Transfer-Encoding field (the transport refuses one that does not end with chunked). */
  readonly hasTransferEncoding: boolean;
  /** True when the worker asked to close the connection after this response (or spoke HTTP/1.0 without keep-alive). */
  readonly isClose: boolean;
  /** The `Keep-Alive: timeout=N` hint in ms, or -1 when absent. */
  readonly keepAliveMs: number;

  constructor(
    statusCode: number,
    statusMessage: string,
    rawHeaders: string[],
    contentLength: number,
    isChunked: boolean,
    hasTransferEncoding: boolean,
    isClose: boolean,
    keepAliveMs: number,
  ) {
    this.statusCode = statusCode;
    this.statusMessage = statusMessage;
    this.rawHeaders = rawHeaders;
    this.contentLength = contentLength;
    this.isChunked = isChunked;
    this.hasTransferEncoding = hasTransferEncoding;
    this.isClose = isClose;
    this.keepAliveMs = keepAliveMs;
  }
}

/** HeadParseError is why a response head was refused: 'malformed' (500.1014) or 'too-large' (500.1012). */
export type HeadParseError = 'malformed' | 'too-large';

const CR = 0x0d;
const LF = 0x0a;
/**
 * A reason phrase is tabs, spaces, visible and obs-text characters (RFC 9112 §4): a control
 * character in it makes the head malformed, as node's own responses refuse to send one.
 */
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

/** Cache of parsed `Keep-Alive` values: a worker sends the same one every time. */
let lastKeepAliveValue = '';
let lastKeepAliveMs = -1;

/**
 * findHeadEnd returns the offset just after the `\r\n\r\n` that ends a head in `buf`,
 * searching from `from`, or -1.
 */
export function findHeadEnd(buf: Buffer, from: number): number {
  const at = buf.indexOf('\r\n\r\n', from, 'latin1');
  return at === -1 ? -1 : at + 4;
}

/**
 * parseResponseHead parses the head in `buf[0, end)` (end just after the blank line). It
 * returns the head or why it is refused. It never throws.
 */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead | HeadParseError {
  const text = buf.toString('latin1', 0, end - 4);
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  const status = STATUS_LINE.exec(text.slice(0, lineEnd));
  if (status === null) return 'malformed';
  const isHttp10 = status[1] === '0';
  const statusCode = Number(status[2]);
  if (statusCode < 100) return 'malformed';
  const rawHeaders: string[] = [];
  let contentLength = -1;
  let isChunked = false;
  let hasTransferEncoding = false;
  let isClose = isHttp10;
  let keepAliveMs = -1;
  let pos = lineEnd + 2;
  while (pos < text.length) {
    let next = text.indexOf('\r\n', pos);
    if (next === -1) next = text.length;
    const colon = text.indexOf(':', pos);
    if (colon === -1 || colon >= next) return 'malformed';
    const name = text.slice(pos, colon);
    // Leading and trailing whitespace is not part of a value (RFC 9112 5.1).
    let vStart = colon + 1;
    let vEnd = next;
    while (vStart < vEnd && (text.charCodeAt(vStart) === 0x20 || text.charCodeAt(vStart) === 0x09)) vStart++;
    while (vEnd > vStart && (text.charCodeAt(vEnd - 1) === 0x20 || text.charCodeAt(vEnd - 1) === 0x09)) vEnd--;
    const value = text.slice(vStart, vEnd);
    if (!isHttpToken(name) || INVALID_FIELD_VALUE_CHAR.test(value)) return 'malformed';
    switch (name.length) {
      case 10: {
        if (equalsIgnoreAsciiCase(name, 'connection')) {
          const v = value.toLowerCase();
          if (v.includes('close')) isClose = true;
          else if (isHttp10 && v.includes('keep-alive')) isClose = false;
        } else if (equalsIgnoreAsciiCase(name, 'keep-alive')) {
          keepAliveMs = keepAliveHint(value);
        }
        break;
      }
      case 14:
        if (equalsIgnoreAsciiCase(name, 'content-length')) {
          if (!/^\d{1,15}$/.test(value)) return 'malformed';
          const n = Number(value);
          if (contentLength !== -1 && contentLength !== n) return 'malformed';
          contentLength = n;
        }
        break;
      case 17:
        if (equalsIgnoreAsciiCase(name, 'transfer-encoding')) {
          // Only the last coding decides the framing (RFC 9112 6.3).
          const v = value.toLowerCase();
          isChunked = v === 'chunked' || /(?:^|,)\s*chunked\s*$/.test(v);
          hasTransferEncoding = true;
          if (!isChunked) isClose = true;
        }
        break;
    }
    rawHeaders.push(name, value);
    pos = next + 2;
  }
  return new ResponseHead(statusCode, status[3] ?? '', rawHeaders, contentLength, isChunked, hasTransferEncoding, isClose, keepAliveMs);
}

function keepAliveHint(value: string): number {
  if (value === lastKeepAliveValue) return lastKeepAliveMs;
  const match = /timeout=(\d+)/i.exec(value);
  lastKeepAliveValue = value;
  lastKeepAliveMs = match === null ? -1 : Number(match[1]) * 1000;
  return lastKeepAliveMs;
}

/** ChunkSink receives the data of a chunked body, without its framing. */
export interface ChunkSink {
  onChunkData(data: Buffer): void;
}

const SIZE = 0;
const SIZE_EXT = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER_LINE_START = 6;
const TRAILER_LINE = 7;
const TRAILER_LF = 8;
const FINAL_LF = 9;
const DONE = 10;

/**
 * ChunkedDecoder strips the chunked framing of a response body (RFC 9112 7.1), passing data
 * slices (views into the input, never copies) to its sink, and tells where the body ends.
 * Trailer fields are skipped. One decoder per connection; `reset()` before each body.
 */
export class ChunkedDecoder {
  #state = SIZE;
  #size = 0;
  #sizeDigits = 0;
  #remaining = 0;

  /** reset prepares for a new body. */
  reset(): void {
    this.#state = SIZE;
    this.#size = 0;
    this.#sizeDigits = 0;
    this.#remaining = 0;
  }

  /**
   * push decodes `buf[from, buf.length)`. It returns the offset just after the body's last
   * byte when the body ended within `buf`, -1 when more input is needed, or -2 when the
   * framing is invalid.
   */
  push(buf: Buffer, from: number, sink: ChunkSink): number {
    let i = from;
    const length = buf.length;
    while (i < length) {
      switch (this.#state) {
        case SIZE: {
          const c = buf[i]!;
          const digit = hexValue(c);
          if (digit >= 0) {
            if (++this.#sizeDigits > 12) return -2;
            this.#size = this.#size * 16 + digit;
            i++;
          } else if (this.#sizeDigits === 0) {
            return -2;
          } else if (c === CR) {
            this.#state = SIZE_LF;
            i++;
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.#state = SIZE_EXT;
            i++;
          } else {
            return -2;
          }
          break;
        }
        case SIZE_EXT: {
          const cr = buf.indexOf(CR, i);
          if (cr === -1) return -1;
          this.#state = SIZE_LF;
          i = cr + 1;
          break;
        }
        case SIZE_LF:
          if (buf[i] !== LF) return -2;
          i++;
          this.#sizeDigits = 0;
          if (this.#size === 0) {
            this.#state = TRAILER_LINE_START;
          } else {
            this.#remaining = this.#size;
            this.#size = 0;
            this.#state = DATA;
          }
          break;
        case DATA: {
          const take = Math.min(this.#remaining, length - i);
          sink.onChunkData(buf.subarray(i, i + take));
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (buf[i] !== CR) return -2;
          i++;
          this.#state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[i] !== LF) return -2;
          i++;
          this.#state = SIZE;
          break;
        case TRAILER_LINE_START:
          if (buf[i] === CR) {
            this.#state = FINAL_LF;
          } else {
            this.#state = TRAILER_LINE;
          }
          i++;
          break;
        case TRAILER_LINE: {
          const cr = buf.indexOf(CR, i);
          if (cr === -1) return -1;
          this.#state = TRAILER_LF;
          i = cr + 1;
          break;
        }
        case TRAILER_LF:
          if (buf[i] !== LF) return -2;
          i++;
          this.#state = TRAILER_LINE_START;
          break;
        case FINAL_LF:
          if (buf[i] !== LF) return -2;
          this.#state = DONE;
          return i + 1;
        default:
          return -2;
      }
    }
    return -1;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * The answer to a request that node's HTTP/1 parser refuses (the server's 'clientError'), on
 * the connections it reads: those the fast path handed over, over http and https. Node's own
 * answer is 431 for any head over the limit; RFC 9112 §3 wants 414 when the request line
 * itself is too long (nginx does the same), as the fast path answers. The other answers are
 * node's: 400, 413 for too many chunk extension bytes, 408 for a late head, each with a
 * close, and nothing when a response has already begun.
 *
 * To tell the request line from a header line, a connection node reads keeps the first bytes
 * of the line being received (watchRequestLines): a request line starts with `method SP`, a
 * header line with `name:`. The bytes of the chunk being parsed are added up to the point
 * where the parser stopped.
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { isTokenCharCode } from '../http/http-token.js';

/** How many bytes of a line are kept: enough for any method and the space after it. */
const KEPT = 32;

/** LINE_START names, on a socket node reads, the first bytes of the line it is receiving. */
const LINE_START = Symbol('line start');
type WatchedSocket = Socket & { [LINE_START]?: Buffer; _httpMessage?: { _headerSent?: boolean } | null };

/**
 * watchRequestLines keeps, on a socket handed to node's server, the start of the line being
 * received. Its data listener makes node read the socket through 'data' events (rather than
 * straight from the handle): a cost only connections node reads pay.
 */
export function watchRequestLines(socket: Socket): void {
  (socket as WatchedSocket)[LINE_START] = Buffer.alloc(0);
  socket.on('data', onData);
}

function onData(this: WatchedSocket, chunk: Buffer): void {
  this[LINE_START] = lineStart(this[LINE_START] ?? Buffer.alloc(0), chunk);
}

/** lineStart gives the first bytes of the line being received after `chunk` follows a line that began with `start`. */
function lineStart(start: Buffer, chunk: Buffer): Buffer {
  const lf = chunk.lastIndexOf(10);
  if (lf !== -1) return Buffer.from(chunk.subarray(lf + 1, lf + 1 + KEPT));
  if (start.length >= KEPT) return start;
  return Buffer.concat([start, chunk.subarray(0, KEPT - start.length)]);
}

/** answerClientErrors installs the answer on `server` (an http server, or an HTTP/2 server's HTTP/1 fallback). */
export function answerClientErrors(server: EventEmitter): void {
  server.on('clientError', onClientError);
}

interface ParseError extends Error {
  code?: string;
  rawPacket?: Buffer;
  bytesParsed?: number;
}

function onClientError(err: ParseError, socket: WatchedSocket): void {
  const response = socket._httpMessage;
  // After a response has begun, any bytes would corrupt it: only the close is left.
  if (socket.writable && (response == null || response._headerSent !== true)) {
    socket.write(`HTTP/1.1 ${statusFor(err, socket)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy(err);
}

function statusFor(err: ParseError, socket: WatchedSocket): string {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return isInRequestLine(err, socket) ? '414 URI Too Long' : '431 Request Header Fields Too Large';
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return '413 Payload Too Large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return '408 Request Timeout';
    default:
      return '400 Bad Request';
  }
}

/** isInRequestLine tells whether the parser overflowed in a request line: the line it stopped in starts with `method SP`. */
function isInRequestLine(err: ParseError, socket: WatchedSocket): boolean {
  let start = socket[LINE_START] ?? Buffer.alloc(0);
  const packet = err.rawPacket;
  if (Buffer.isBuffer(packet)) start = lineStart(start, packet.subarray(0, err.bytesParsed ?? packet.length));
  return isRequestLineStart(start);
}

/** isRequestLineStart: `start` begins, after any CR and LF, with a method (an RFC 9110 token) and a space. */
function isRequestLineStart(start: Buffer): boolean {
  let i = 0;
  while (i < start.length && (start[i] === 0x0d || start[i] === 0x0a)) i++;
  const methodStart = i;
  while (i < start.length && isTokenCharCode(start[i]!)) i++;
  return i > methodStart && start[i] === 0x20;
}

/**
 * FastResponse is the fast path's HTTP/1.1 response: node's `ServerResponse` rules (the head
 * node would write, byte for byte: status line, headers in order, Date, Connection and
 * Keep-Alive, Content-Length or chunked framing, no body for HEAD, 204 and 304) without its
 * machinery. The head waits for the first body bytes and leaves with them in one socket write;
 * a response that is one `end(body)` is a single write. A head given as a frozen list is
 * rendered once and its bytes kept (prepared-head.ts): a hot static file goes out as one
 * buffer built before, with only its Date changed once a second. It is what makes a
 * node-written front keep up with nginx: node's ServerResponse costs more per request than the
 * rest of nodehost.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { equalsIgnoreAsciiCase } from '../../http/equals-ignore-ascii-case.js';
import { httpDate } from '../../http/http-date.js';
import type { HttpResponse } from '../../http/http-response.js';
import { findPreparedHead, isFrozenList, keepPreparedHead, PreparedHead } from './prepared-head.js';

/** ResponseOwner is the connection a response belongs to. */
export interface ResponseOwner {
  /** The response was written completely; `keepAlive` says whether the connection may carry another. */
  onResponseFinished(res: FastResponse, keepAlive: boolean): void;
}

type HeaderValue = number | string | readonly string[];
type Callback = (err?: Error | null) => void;

/**
 * A body at most this long is copied behind the head so both leave in one write; a longer one
 * goes in a corked second write (measured: copying 64 KiB bodies cost a quarter more CPU per
 * request, and for 4 KiB the two ways cost the same).
 */
const JOIN_MAX = 2048;
const RE_CONN_CLOSE = /(?:^|\W)close(?:$|\W)/i;
const RE_TE_CHUNKED = /(?:^|\W)chunked(?:$|\W)/i;
/** Characters node refuses in a status message (its checkInvalidHeaderChar). */
const INVALID_TEXT = /[^\t\x20-\x7e\x80-\xff]/;
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

export class FastResponse extends EventEmitter implements HttpResponse {
  readonly req: IncomingMessage;
  readonly socket: Socket;
  statusCode = 200;
  statusMessage = '';
  shouldKeepAlive: boolean;
  sendDate = true;
  writable = true;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  writableNeedDrain = false;
  destroyed = false;
  readonly #owner: ResponseOwner;
  readonly #keepAliveTimeoutSec: number;
  /** Headers set with setHeader, by lower-case name: [name as given, value]. */
  #headers: Map<string, [string, HeaderValue]> | undefined = undefined;
  /** The head, built by writeHead and not yet written. */
  #head: string | undefined = undefined;
  /** The head instead, when it was given as a frozen list: its kept bytes. */
  #prepared: PreparedHead | undefined = undefined;
  /** Where #buildHead put the Date value; -1 when it added none. */
  #dateOffset = -1;
  #hasBody: boolean;
  #isChunked = false;
  /** The connection closes after this response. */
  #isLast = false;
  #isClosed = false;
  /** The body length known when the head is built from `end(body)`; -1 otherwise. */
  #endLength = -1;
  #removedConnection = false;
  #removedContentLength = false;
  #removedTransferEncoding = false;
  /** What onClosed asked to call when the response closes. */
  #closeHook: ((arg: never) => void) | undefined = undefined;
  #closeArg: unknown = undefined;

  constructor(req: IncomingMessage, socket: Socket, owner: ResponseOwner, keepAlive: boolean, keepAliveTimeoutMs: number) {
    super();
    this.req = req;
    this.socket = socket;
    this.#owner = owner;
    this.shouldKeepAlive = keepAlive;
    this.#keepAliveTimeoutSec = Math.floor(keepAliveTimeoutMs / 1000);
    this.#hasBody = req.method !== 'HEAD';
  }

  get connection(): Socket {
    return this.socket;
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) throw headersSentError('set');
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
    this.#headers ??= new Map();
    this.#headers.set(name.toLowerCase(), [name, value]);
    return this;
  }

  appendHeader(name: string, value: string | readonly string[]): this {
    if (this.headersSent) throw headersSentError('append');
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
    const key = name.toLowerCase();
    this.#headers ??= new Map();
    const headers = this.#headers;
    const existing = headers.get(key);
    if (existing === undefined) {
      headers.set(key, [name, value]);
    } else {
      const before = existing[1];
      existing[1] = (Array.isArray(before) ? before : [String(before)]).concat(value as string | string[]);
    }
    return this;
  }

  getHeader(name: string): number | string | string[] | undefined {
    return this.#headers?.get(name.toLowerCase())?.[1] as number | string | string[] | undefined;
  }

  getHeaderNames(): string[] {
    return this.#headers === undefined ? [] : [...this.#headers.keys()];
  }

  getHeaders(): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    if (this.#headers !== undefined) for (const [key, [, value]] of this.#headers) out[key] = value as OutgoingHttpHeader;
    return out;
  }

  hasHeader(name: string): boolean {
    return this.#headers?.has(name.toLowerCase()) === true;
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw headersSentError('remove');
    const key = name.toLowerCase();
    switch (key) {
      case 'connection':
        this.#removedConnection = true;
        break;
      case 'content-length':
        this.#removedContentLength = true;
        break;
      case 'transfer-encoding':
        this.#removedTransferEncoding = true;
        break;
      case 'date':
        this.sendDate = false;
        break;
    }
    this.#headers?.delete(key);
  }

  writeHead(
    statusCode: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    if (this.headersSent) throw headersSentError('write');
    const code = statusCode | 0;
    if (code < 100 || code > 999) throw Object.assign(new RangeError(`Invalid status code: ${statusCode}`), { code: 'ERR_HTTP_INVALID_STATUS_CODE' });
    let headers = maybeHeaders;
    if (typeof reasonOrHeaders === 'string') {
      this.statusMessage = reasonOrHeaders;
    } else {
      this.statusMessage ||= STATUS_CODES[code] ?? 'unknown';
      headers ??= reasonOrHeaders;
    }
    this.statusCode = code;
    if (INVALID_TEXT.test(this.statusMessage)) throw Object.assign(new TypeError('Invalid character in statusMessage'), { code: 'ERR_INVALID_CHAR' });
    if (this.#headers !== undefined && this.#headers.size > 0 && headers !== undefined) {
      // Headers given here win over set ones of the same name, repeats kept (node's rule).
      if (Array.isArray(headers)) {
        const flat = headers as OutgoingHttpHeader[];
        for (let i = 0; i < flat.length; i += 2) this.removeHeader(String(flat[i]));
        for (let i = 0; i < flat.length; i += 2) if (flat[i]) this.appendHeader(String(flat[i]), flat[i + 1] as string);
      } else {
        for (const key of Object.keys(headers)) if (key) this.setHeader(key, (headers as OutgoingHttpHeaders)[key] as HeaderValue);
      }
      headers = undefined;
    }
    if (code === 204 || code === 304 || code < 200) this.#hasBody = false;
    if (headers !== undefined && isFrozenList(headers) && this.#isFresh()) this.#prepare(headers);
    else this.#head = this.#buildHead(headers);
    this.headersSent = true;
    return this;
  }

  /** isFresh: nothing but status, message and keep-alive shapes the head yet, so a kept rendering of a list applies. */
  #isFresh(): boolean {
    return this.sendDate && this.#endLength < 0 && !this.#removedConnection && !this.#removedContentLength && !this.#removedTransferEncoding;
  }

  /** prepare takes the kept head of `list` for this response's shape, rendering (and validating) it the first time. */
  #prepare(list: readonly string[]): void {
    const status = this.statusCode;
    const message = this.statusMessage;
    const isKeepAlive = this.shouldKeepAlive;
    const keepAliveSec = this.#keepAliveTimeoutSec;
    const hasBody = this.#hasBody;
    let prepared = findPreparedHead(list, status, message, isKeepAlive, keepAliveSec, hasBody);
    if (prepared === undefined) {
      const text = this.#buildHead(list as string[]);
      prepared = new PreparedHead(
        { status, message, isKeepAlive, keepAliveSec, hasBody },
        { text, dateOffset: this.#dateOffset, isLast: this.#isLast, isChunked: this.#isChunked, keepsAlive: this.shouldKeepAlive },
      );
      keepPreparedHead(list, prepared);
    } else {
      this.#isLast = prepared.isLast;
      this.#isChunked = prepared.isChunked;
      this.shouldKeepAlive = prepared.keepsAlive;
    }
    this.#prepared = prepared;
  }

  /** writableLength is what the socket still holds of what was written (0: the kernel took every byte). */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  flushHeaders(): void {
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (this.#head !== undefined || this.#prepared !== undefined) this.#send(undefined, undefined);
  }

  write(chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | Callback, callback?: Callback): boolean {
    const cb = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (this.writableEnded || this.destroyed) {
      if (cb !== undefined) process.nextTick(cb, new Error(this.destroyed ? 'Cannot call write after a stream was destroyed' : 'write after end'));
      return false;
    }
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (!this.#hasBody) {
      if (cb !== undefined) process.nextTick(cb);
      return true;
    }
    const data = toBuffer(chunk, typeof encodingOrCallback === 'string' ? encodingOrCallback : undefined);
    if (data.length === 0) {
      // Nothing to frame (an empty chunk would end a chunked body); a pending head still goes.
      if (this.#head !== undefined || this.#prepared !== undefined) this.#send(undefined, undefined);
      if (cb !== undefined) process.nextTick(cb);
      return true;
    }
    const ok = this.#isChunked ? this.#sendChunk(data, cb) : this.#send(data, cb);
    if (!ok) this.writableNeedDrain = true;
    return ok;
  }

  end(chunkOrCallback?: string | Uint8Array | (() => void), encodingOrCallback?: BufferEncoding | (() => void), callback?: () => void): this {
    let chunk: string | Uint8Array | undefined;
    let cb: (() => void) | undefined;
    let encoding: BufferEncoding | undefined;
    if (typeof chunkOrCallback === 'function') cb = chunkOrCallback;
    else {
      chunk = chunkOrCallback;
      if (typeof encodingOrCallback === 'function') cb = encodingOrCallback;
      else {
        encoding = encodingOrCallback;
        cb = callback;
      }
    }
    if (this.writableEnded || this.destroyed) {
      if (cb !== undefined) process.nextTick(cb);
      return this;
    }
    const data = chunk === undefined || chunk === null ? undefined : toBuffer(chunk, encoding);
    if (!this.headersSent) {
      this.#endLength = data === undefined ? 0 : data.length;
      this.writeHead(this.statusCode);
    }
    this.writableEnded = true;
    this.writable = false;
    if (cb !== undefined) this.once('finish', cb);
    let out: Buffer | undefined = this.#hasBody && data !== undefined && data.length > 0 ? data : undefined;
    if (this.#isChunked && this.#hasBody) out = out === undefined ? LAST_CHUNK : Buffer.concat([frameChunk(out), LAST_CHUNK]);
    // The caller's own buffer, whole, may be kept behind a prepared head (the same body next time).
    if (out !== undefined || this.#head !== undefined || this.#prepared !== undefined) this.#send(out, undefined, out === data);
    process.nextTick(finish, this);
    return this;
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.writable = false;
    this.socket.destroy(error);
    return this;
  }

  onClosed<T>(hook: (arg: T) => void, arg: T): void {
    this.#closeHook = hook as (arg: never) => void;
    this.#closeArg = arg;
  }

  /** onDrain: the socket took the bytes it had refused; a writer waiting on 'drain' may go on. */
  onDrain(): void {
    if (!this.writableNeedDrain) return;
    this.writableNeedDrain = false;
    this.emit('drain');
  }

  /** onSocketClose: the connection ended before (or just after) the response finished. */
  onSocketClose(): void {
    this.destroyed = true;
    this.writable = false;
    this.#emitClose();
  }

  /** finishWrite is the end of `end()`, one tick later like node: 'finish', the owner, 'close'. */
  finishWrite(): void {
    if (this.#isClosed) return;
    this.writableFinished = true;
    this.emit('finish');
    this.#owner.onResponseFinished(this, this.shouldKeepAlive && !this.#isLast);
    this.#emitClose();
  }

  #emitClose(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const hook = this.#closeHook;
    if (hook !== undefined) {
      this.#closeHook = undefined;
      (hook as (arg: unknown) => void)(this.#closeArg);
    }
    this.emit('close');
  }

  /**
   * send writes the pending head (if any) and `data` in as few socket writes as possible;
   * `isWhole`: `data` is the whole body as the caller gave it, which a prepared head may keep
   * joined behind it.
   */
  #send(data: Buffer | undefined, cb: Callback | undefined, isWhole = false): boolean {
    const socket = this.socket;
    const prepared = this.#prepared;
    if (prepared !== undefined) {
      this.#prepared = undefined;
      const date = httpDate();
      if (data === undefined || data.length === 0) return socket.write(prepared.headBytes(date), cb);
      const joined = isWhole ? prepared.joinedBytes(date, data) : undefined;
      if (joined !== undefined) return socket.write(joined, cb);
      return this.#sendAfter(prepared.headBytes(date), data, cb);
    }
    const head = this.#head;
    if (head === undefined) return data === undefined ? true : socket.write(data, cb);
    this.#head = undefined;
    if (data === undefined || data.length === 0) return socket.write(head, 'latin1', cb);
    return this.#sendAfter(head, data, cb);
  }

  /** sendAfter writes `head` and `data`: copied into one buffer when `data` is small, else in one corked write. */
  #sendAfter(head: string | Buffer, data: Buffer, cb: Callback | undefined): boolean {
    const socket = this.socket;
    if (data.length <= JOIN_MAX) {
      // The head is latin1 only (validated), so its length is its byte count.
      const joined = Buffer.allocUnsafe(head.length + data.length);
      if (typeof head === 'string') joined.write(head, 0, 'latin1');
      else head.copy(joined, 0);
      data.copy(joined, head.length);
      return socket.write(joined, cb);
    }
    socket.cork();
    if (typeof head === 'string') socket.write(head, 'latin1');
    else socket.write(head);
    const ok = socket.write(data, cb);
    socket.uncork();
    return ok;
  }

  /** sendChunk writes one chunk of a chunked body; a large one is not copied. */
  #sendChunk(data: Buffer, cb: Callback | undefined): boolean {
    if (data.length <= JOIN_MAX) return this.#send(frameChunk(data), cb);
    const socket = this.socket;
    socket.cork();
    this.#send(Buffer.from(data.length.toString(16) + '\r\n', 'latin1'), undefined);
    socket.write(data);
    const ok = socket.write('\r\n', 'latin1', cb);
    socket.uncork();
    return ok;
  }

  /** buildHead renders the head node would for the given headers (or the set ones). */
  #buildHead(given: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined): string {
    const state: HeadState = {
      head: `HTTP/1.1 ${this.statusCode} ${this.statusMessage}\r\n`,
      connection: false,
      contentLength: false,
      transferEncoding: false,
      date: false,
      keepAlive: false,
    };
    if (given === undefined) {
      if (this.#headers !== undefined) for (const [name, value] of this.#headers.values()) this.#addHeader(state, name, value, false);
    } else if (Array.isArray(given)) {
      const list = given as unknown[];
      if (list.length > 0 && Array.isArray(list[0])) {
        for (const entry of list as [string, HeaderValue][]) this.#addHeader(state, entry[0], entry[1], true);
      } else {
        if (list.length % 2 !== 0) throw Object.assign(new TypeError("The argument 'headers' is invalid"), { code: 'ERR_INVALID_ARG_VALUE' });
        for (let i = 0; i < list.length; i += 2) this.#addHeader(state, list[i] as string, list[i + 1] as HeaderValue, true);
      }
    } else {
      for (const key of Object.keys(given)) this.#addHeader(state, key, given[key] as HeaderValue, true);
    }
    let head = state.head;
    if (this.sendDate && !state.date) {
      this.#dateOffset = head.length + 6;
      head += 'Date: ' + httpDate() + '\r\n';
    }
    // node: a 204 or 304 with chunked framing gets no zero chunk, and the connection closes.
    if (this.#isChunked && (this.statusCode === 204 || this.statusCode === 304)) {
      this.#isChunked = false;
      this.shouldKeepAlive = false;
    }
    if (this.#removedConnection) {
      this.#isLast = !this.shouldKeepAlive;
    } else if (!state.connection) {
      if (this.shouldKeepAlive) {
        head += 'Connection: keep-alive\r\n';
        if (!state.keepAlive && this.#keepAliveTimeoutSec > 0) head += `Keep-Alive: timeout=${this.#keepAliveTimeoutSec}\r\n`;
      } else {
        this.#isLast = true;
        head += 'Connection: close\r\n';
      }
    }
    if (!state.contentLength && !state.transferEncoding) {
      if (!this.#hasBody) {
        this.#isChunked = false;
      } else if (!this.#removedContentLength && this.#endLength >= 0) {
        head += 'Content-Length: ' + this.#endLength + '\r\n';
      } else if (!this.#removedTransferEncoding) {
        head += 'Transfer-Encoding: chunked\r\n';
        this.#isChunked = true;
      } else {
        this.#isLast = true;
      }
    }
    return head + '\r\n';
  }

  #addHeader(state: HeadState, name: string, value: HeaderValue, validate: boolean): void {
    if (validate) validateHeaderName(name);
    if (Array.isArray(value)) {
      if (value.length < 2 || name.toLowerCase() !== 'cookie') {
        for (const item of value as readonly string[]) this.#addLine(state, name, item, validate);
        return;
      }
      value = (value as readonly string[]).join('; ');
    }
    this.#addLine(state, name, value as number | string, validate);
  }

  #addLine(state: HeadState, name: string, value: number | string, validate: boolean): void {
    if (validate) validateHeaderValue(name, value as string);
    state.head += name + ': ' + value + '\r\n';
    // Names are tokens (validated), so an ASCII comparison is toLowerCase's, without a new string per name.
    switch (name.length) {
      case 4:
        if (equalsIgnoreAsciiCase(name, 'date')) state.date = true;
        break;
      case 10:
        if (equalsIgnoreAsciiCase(name, 'connection')) {
          state.connection = true;
          this.#removedConnection = false;
          if (RE_CONN_CLOSE.test(String(value))) this.#isLast = true;
          else this.shouldKeepAlive = true;
        } else if (equalsIgnoreAsciiCase(name, 'keep-alive')) {
          state.keepAlive = true;
        }
        break;
      case 14:
        if (equalsIgnoreAsciiCase(name, 'content-length')) {
          state.contentLength = true;
          this.#removedContentLength = false;
        }
        break;
      case 17:
        if (equalsIgnoreAsciiCase(name, 'transfer-encoding')) {
          state.transferEncoding = true;
          this.#removedTransferEncoding = false;
          if (RE_TE_CHUNKED.test(String(value))) this.#isChunked = true;
        }
        break;
    }
  }
}

interface HeadState {
  head: string;
  connection: boolean;
  contentLength: boolean;
  transferEncoding: boolean;
  date: boolean;
  keepAlive: boolean;
}

function finish(res: FastResponse): void {
  res.finishWrite();
}

function toBuffer(chunk: string | Uint8Array, encoding: BufferEncoding | undefined): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** frameChunk wraps body bytes in one chunk of chunked framing. */
function frameChunk(data: Buffer): Buffer {
  const size = data.length.toString(16);
  const out = Buffer.allocUnsafe(size.length + 2 + data.length + 2);
  out.write(size + '\r\n', 0, 'latin1');
  data.copy(out, size.length + 2);
  out.write('\r\n', size.length + 2 + data.length, 'latin1');
  return out;
}

function headersSentError(verb: string): Error {
  return Object.assign(new Error(`Cannot ${verb} headers after they are sent to the client`), { code: 'ERR_HTTP_HEADERS_SENT' });
}

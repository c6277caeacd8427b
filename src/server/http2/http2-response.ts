/**
 * Http2Response is the pipeline's response (HttpResponse) over one HTTP/2 stream, standing in
 * for node's compat Http2ServerResponse as FastResponse stands in for ServerResponse:
 *
 * - headers are kept in one object by lower-case name (HTTP/2 sends no other case), checked
 *   once as they are set (node's rules and errors for names and values), and given to one
 *   `stream.respond(headers as OutgoingHttpHeaders, { endStream })` when the head goes: a response without body bytes
 *   is a single HEADERS frame with END_STREAM;
 * - the connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2: Connection, Keep-Alive,
 *   Proxy-Connection, Transfer-Encoding, Upgrade, TE, HTTP2-Settings) are dropped wherever they
 *   are set (node would throw on them); the reason phrase, which HTTP/2 does not carry, is kept
 *   on the response and not sent; HEAD, 204, 205 and 304 get no body (node's respond ends the
 *   stream for them);
 * - `write` returns the stream's answer and 'drain' follows the stream's; `writableLength` is
 *   what the stream still holds; `destroyed` follows the stream;
 * - when the stream closes (the response went out, or the client reset the stream, or the
 *   session is gone) the request is aborted if its body was still coming, then the response
 *   emits 'finish' (when it was ended and went out whole), its onClosed hook runs, and 'close'.
 *
 * The stream gets an 'error' listener here and a 'close' one from acceptStreams (which calls
 * onStreamClosed), two more for a request body ('data', 'end') and one for a writer that waits
 * ('drain', once per response); they are module-level functions that find the response on
 * the stream (STYLE 11).
 */
import { EventEmitter } from 'node:events';
import { validateHeaderName, validateHeaderValue, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';
import type { HttpResponse } from '../../http/http-response.js';
import { INVALID_FIELD_VALUE_CHAR, isHttpToken } from '../../http/http-token.js';
import type { Http2Request } from './http2-request.js';

type HeaderValue = number | string | readonly string[];
type Callback = (err?: Error | null) => void;
/** The response's headers by lower-case name; `:status` is set when they go. */
type HeaderStore = Record<string, HeaderValue>;

/** CONNECTION_HEADERS are the connection-specific header fields HTTP/2 forbids (RFC 9113 §8.2.2). */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);
/** NGHTTP2_NO_ERROR: the stream closed without an error (its rstCode). */
const NO_ERROR = 0;

/** kResponse names, on a stream, its response (for the shared stream listeners). */
const kResponse = Symbol('nodehost.h2Response');
type TaggedStream = ServerHttp2Stream & { [kResponse]?: Http2Response };

export class Http2Response extends EventEmitter implements HttpResponse {
  readonly req: Http2Request;
  readonly stream: ServerHttp2Stream;
  statusCode = 200;
  /** Kept for the pipeline (logs, filters); HTTP/2 has no reason phrase to send it in. */
  statusMessage = '';
  /** Set by the pipeline before shutdown; an HTTP/2 session is closed by the listener instead. */
  shouldKeepAlive = true;
  sendDate = true;
  writable = true;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  writableNeedDrain = false;
  #headers: HeaderStore | undefined = undefined;
  #hasBody: boolean;
  /** end() is writing the head of a response with no body bytes: it goes with END_STREAM. */
  #isEndingEmpty = false;
  #isDrainHeard = false;
  /** The stream's readable side ended; whether by END_STREAM or by a reset is known a moment later (see onBodyEnd). */
  #isBodyEnding = false;
  #isClosed = false;
  /** What onClosed asked to call when the response closes. */
  #closeHook: ((arg: never) => void) | undefined = undefined;
  #closeArg: unknown = undefined;

  constructor(req: Http2Request, stream: ServerHttp2Stream) {
    super();
    this.req = req;
    this.stream = stream;
    this.#hasBody = req.method !== 'HEAD';
    (stream as TaggedStream)[kResponse] = this;
    // An error of the stream (a reset by the client with an error code, a session torn down)
    // closes it; 'close' tells the response. Without a listener the error would be thrown.
    // The 'close' listener is acceptStreams' (http2-streams.ts): it calls onStreamClosed.
    stream.on('error', ignoreError);
    if (!stream.endAfterHeaders) {
      stream.on('data', onStreamData);
      stream.on('end', onStreamEnd);
    }
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  /** writableLength is what the stream still holds of what was written (not yet taken by the session, e.g. for flow control). */
  get writableLength(): number {
    return this.stream.writableLength;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) throw headersSentError();
    const key = name.toLowerCase();
    if (CONNECTION_HEADERS.has(key)) return this;
    checkHeader(name, value);
    this.#headers ??= newHeaderStore();
    this.#headers[key] = value;
    return this;
  }

  appendHeader(name: string, value: string | readonly string[]): this {
    if (this.headersSent) throw headersSentError();
    const key = name.toLowerCase();
    if (CONNECTION_HEADERS.has(key)) return this;
    checkHeader(name, value);
    this.#headers ??= newHeaderStore();
    const headers = this.#headers;
    const before = headers[key];
    if (before === undefined) headers[key] = value;
    else headers[key] = (Array.isArray(before) ? before : [String(before)]).concat(value as string | string[]);
    return this;
  }

  getHeader(name: string): number | string | string[] | undefined {
    return this.#headers?.[name.toLowerCase()] as number | string | string[] | undefined;
  }

  getHeaderNames(): string[] {
    const headers = this.#headers;
    if (headers === undefined) return [];
    const names = Object.keys(headers);
    return names[0] === ':status' ? names.slice(1) : names;
  }

  getHeaders(): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    for (const name of this.getHeaderNames()) out[name] = this.#headers![name] as OutgoingHttpHeader;
    return out;
  }

  hasHeader(name: string): boolean {
    return this.#headers?.[name.toLowerCase()] !== undefined;
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw headersSentError();
    const key = name.toLowerCase();
    if (key === 'date') this.sendDate = false;
    const headers = this.#headers;
    // Rare (a filter dropping Content-Length, an error page clearing a head): a delete is fine.
    if (headers !== undefined && headers[key] !== undefined) delete headers[key];
  }

  writeHead(
    statusCode: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const stream = this.stream;
    // As node's compat response: a head for a stream that is gone goes nowhere.
    if (stream.destroyed || stream.closed) return this;
    if (this.headersSent) throw headersSentError();
    let given = maybeHeaders;
    if (typeof reasonOrHeaders === 'string') this.statusMessage = reasonOrHeaders;
    // As node's own writeHead: (status, undefined, headers) is a head without a reason phrase.
    else given ??= reasonOrHeaders;
    if (given !== undefined && given !== null) this.#takeHeaders(given);
    const code = statusCode | 0;
    this.statusCode = code;
    if (code === 204 || code === 205 || code === 304) this.#hasBody = false;
    const headers = this.#headers ?? newHeaderStore();
    headers[':status'] = code;
    // Node checks the status (200 to 599) and single-value fields here, and throws before
    // anything is sent: the caller can still answer otherwise.
    // sendDate: false leaves out the Date node adds (node's option, missing from its types).
    const options = { endStream: this.#isEndingEmpty || !this.#hasBody, sendDate: this.sendDate };
    stream.respond(headers as OutgoingHttpHeaders, options as ServerStreamResponseOptions);
    this.headersSent = true;
    return this;
  }

  /** takeHeaders puts the headers given to writeHead on the response: they win over set ones of the same name, repeats kept (node's rule). */
  #takeHeaders(given: OutgoingHttpHeaders | OutgoingHttpHeader[]): void {
    if (!Array.isArray(given)) {
      for (const name of Object.keys(given)) {
        const value = (given as OutgoingHttpHeaders)[name];
        if (value !== undefined) this.setHeader(name, value);
      }
      return;
    }
    const list = given as unknown[];
    // [name, value] pairs, or a flat [name, value, ...] list.
    const flat = (list.length > 0 && Array.isArray(list[0]) ? list.flat() : list) as string[];
    if (flat.length % 2 !== 0) throw Object.assign(new TypeError("The argument 'headers' is invalid"), { code: 'ERR_INVALID_ARG_VALUE' });
    if (this.#headers !== undefined) for (let i = 0; i < flat.length; i += 2) this.removeHeader(String(flat[i]));
    for (let i = 0; i < flat.length; i += 2) this.appendHeader(String(flat[i]), flat[i + 1]!);
  }

  flushHeaders(): void {
    if (!this.headersSent) this.writeHead(this.statusCode);
  }

  write(chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | Callback, callback?: Callback): boolean {
    const cb = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    const stream = this.stream;
    if (this.writableEnded || stream.destroyed || stream.closed) {
      if (cb !== undefined) process.nextTick(cb, new Error(stream.destroyed ? 'Cannot call write after a stream was destroyed' : 'write after end'));
      return false;
    }
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (!this.#hasBody || stream.writableEnded || chunk.length === 0) {
      if (cb !== undefined) process.nextTick(cb);
      return true;
    }
    const ok = typeof encodingOrCallback === 'string' ? stream.write(chunk, encodingOrCallback, cb) : stream.write(chunk, cb);
    if (!ok) this.#waitForDrain();
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
    const stream = this.stream;
    if (this.writableEnded || stream.destroyed) {
      if (cb !== undefined) process.nextTick(cb);
      return this;
    }
    const hasBytes = chunk !== undefined && chunk !== null && chunk.length > 0;
    if (!this.headersSent) {
      this.#isEndingEmpty = !hasBytes;
      try {
        this.writeHead(this.statusCode);
      } finally {
        this.#isEndingEmpty = false;
      }
    }
    this.writableEnded = true;
    this.writable = false;
    if (cb !== undefined) this.once('finish', cb);
    // A stream closed meanwhile (its head went nowhere) has nothing more to end.
    if (stream.writableEnded || stream.destroyed || stream.closed) return this;
    if (hasBytes && this.#hasBody) {
      if (encoding !== undefined && typeof chunk === 'string') stream.end(chunk, encoding);
      else stream.end(chunk);
    } else stream.end();
    return this;
  }

  destroy(error?: Error): this {
    this.writable = false;
    if (!this.stream.destroyed) this.stream.destroy(error);
    return this;
  }

  onClosed<T>(hook: (arg: T) => void, arg: T): void {
    this.#closeHook = hook as (arg: never) => void;
    this.#closeArg = arg;
  }

  /** waitForDrain has the stream's next 'drain' reach the response's writers (one listener per response, when first needed). */
  #waitForDrain(): void {
    this.writableNeedDrain = true;
    if (this.#isDrainHeard) return;
    this.#isDrainHeard = true;
    this.stream.on('drain', onStreamDrain);
  }

  /** onDrain: the stream took what it had refused. */
  onDrain(): void {
    if (!this.writableNeedDrain) return;
    this.writableNeedDrain = false;
    this.emit('drain');
  }

  /**
   * onBodyEnd: the stream's readable side ended. Node ends it for the client's END_STREAM, but
   * also, just before it tells of the reset, for a RST_STREAM (or a lost session) in the middle
   * of a body: ending the request then would hand the worker a cut body as a whole one (a
   * chunked one gets its last chunk). So the end waits until node has dealt with the bytes it
   * read (setImmediate): a reset has closed the stream by then, and the request is aborted
   * instead (onStreamClosed).
   */
  onBodyEnd(): void {
    this.#isBodyEnding = true;
    setImmediate(endBody, this);
  }

  /** endBody ends the request's body unless the stream turned out to be cut. */
  endBody(): void {
    const req = this.req;
    const stream = this.stream;
    if (req.complete || req.destroyed || stream.aborted || stream.rstCode !== NO_ERROR) return;
    req.endBody();
  }

  /**
   * onStreamClosed ends the exchange: a request whose body was still coming is aborted (its
   * readers see 'aborted'), then the response emits 'finish' if it went out whole, runs its
   * onClosed hook and emits 'close', in that order, once.
   */
  onStreamClosed(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.writable = false;
    const req = this.req;
    const stream = this.stream;
    const isCut = stream.aborted || stream.rstCode !== NO_ERROR;
    if (!req.complete && !req.destroyed) {
      if (this.#isBodyEnding && !isCut) req.endBody();
      else req.destroy();
    }
    if (this.writableEnded && stream.rstCode === NO_ERROR) {
      this.writableFinished = true;
      this.emit('finish');
    }
    const hook = this.#closeHook;
    if (hook !== undefined) {
      this.#closeHook = undefined;
      (hook as (arg: unknown) => void)(this.#closeArg);
    }
    this.emit('close');
  }
}

function newHeaderStore(): HeaderStore {
  // `:status` first: it is always there when the head goes, and getHeaderNames skips it.
  return { __proto__: null, ':status': 200 } as unknown as HeaderStore;
}

/** checkHeader throws node's error for a header name or value node would refuse (the common case costs a table scan and one regular-expression test). */
function checkHeader(name: string, value: HeaderValue): void {
  if (typeof name !== 'string' || !isHttpToken(name)) validateHeaderName(name);
  if (typeof value === 'string') {
    if (INVALID_FIELD_VALUE_CHAR.test(value)) validateHeaderValue(name, value);
  } else if (typeof value !== 'number') {
    if (!Array.isArray(value)) validateHeaderValue(name, value as unknown as string);
    else for (const item of value as readonly string[]) validateHeaderValue(name, item);
  }
}

function headersSentError(): Error {
  return Object.assign(new Error('Response has already been initiated.'), { code: 'ERR_HTTP2_HEADERS_SENT' });
}

function ignoreError(): void {}

/** responseOf is the response of a stream (undefined before its Http2Response was made). */
export function responseOf(stream: ServerHttp2Stream): Http2Response | undefined {
  return (stream as TaggedStream)[kResponse];
}

function onStreamDrain(this: TaggedStream): void {
  this[kResponse]!.onDrain();
}

function onStreamData(this: TaggedStream, chunk: Buffer): void {
  // A full request buffer holds the stream (and so the client, by flow control) until it is read.
  if (!this[kResponse]!.req.push(chunk)) this.pause();
}

function onStreamEnd(this: TaggedStream): void {
  this[kResponse]!.onBodyEnd();
}

function endBody(res: Http2Response): void {
  res.endBody();
}

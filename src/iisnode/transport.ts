/**
 * How request bytes reach a worker, and nothing else (STYLE 8: Caddy's httptransport.go).
 * A raw HTTP/1.1 forwarder over the worker's Unix socket, the way iisnode did it: the request
 * head is written from the client's raw header list straight onto a pooled connection
 * (upstream-connection.ts); of the response only the head and the framing are parsed
 * (response-head-parser.ts: content-length, chunked, or until close), and body bytes pass
 * through unchanged, with backpressure both ways and nothing buffered beyond a socket read.
 * The client side is the site's response (HttpResponse): the response head goes out through
 * `res.writeHead` with the worker's header list (repeats and empty values kept, hop-by-hop
 * headers dropped), the body through `res.write`.
 *
 * Pools: one per worker, at most maxNamedPipeConnectionPoolSize idle connections, each reused
 * for at most maxNamedPipePooledConnectionAge ms after it went idle (less when the worker's
 * `Keep-Alive: timeout` hint is shorter: reuse stops a second before node's server would
 * close it). A request is retried once on a fresh connection only when a reused connection
 * closes before any response byte and the request has no body (nothing was consumed); whether
 * it then goes to another worker is the generation's call (generation.ts, isRetryable).
 * responseTimeout, when set, bounds the wait for the response head once the whole request is
 * with the worker: one timer per exchange, armed only then (STYLE 11: pay for what is set).
 *
 * Per request there is one Exchange object; event handlers are module-level functions that
 * find it through a symbol on the emitter (no per-request closures, STYLE 11).
 *
 * WebSocket upgrades are a later issue. Seam: the server will hand upgrade requests to a
 * separate `forwardUpgrade(exchange, socket, head)` here, which opens a connection to the
 * worker, writes the head, and pipes both sockets; the request stays active until both close.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { NodehostError, type ErrorCode } from '../errors.js';
import { equalsIgnoreAsciiCase } from '../http/equals-ignore-ascii-case.js';
import type { RequestContext } from '../http/request-context.js';
import type { HttpResponse } from '../http/http-response.js';
import { isHopByHopResponseHeader, type RequestHead } from './forward-headers.js';
import { ChunkedDecoder, findHeadEnd, parseResponseHead, type ChunkSink, type ResponseHead } from './response-head-parser.js';
import { UpstreamPool, type ConnectionHandler, type UpstreamConnection } from './upstream-connection.js';

/** UpstreamTarget is what the transport needs to know about a worker. */
export interface UpstreamTarget {
  readonly socketPath: string;
}

/** TransportSettings are read once per application. */
export interface TransportSettings {
  /** maxNamedPipeConnectionPoolSize: idle connections kept per worker. */
  readonly poolSize: number;
  /** maxNamedPipePooledConnectionAge: ms an idle connection may wait for reuse. */
  readonly maxIdleMs: number;
  /** maxRequestBufferSize: largest request head (500.1005) and response head (500.1012). */
  readonly maxHeadBytes: number;
  /** flushResponse: send the response head at once instead of with the first body bytes. */
  readonly flushResponse: boolean;
  /** responseTimeout: ms the worker may take to send its response head once it has the whole request (0: no limit). */
  readonly responseTimeoutMs: number;
}

/** ExchangeListener hears the end of each exchange, exactly once, and may add the debug header. */
export interface ExchangeListener {
  /**
   * onExchangeEnd: the exchange is over. `error` is undefined on success. When
   * `exchange.isHeadSent` is false the client response is untouched and the listener writes
   * the error page; otherwise the client response was already ended or destroyed.
   */
  onExchangeEnd(exchange: Exchange, error: NodehostError | undefined): void;
  /** debugHeader returns the `iisnode-debug` value for this response, or undefined for none. */
  debugHeader(exchange: Exchange): string | undefined;
}

const kExchange = Symbol('nodehost.exchange');

type WithExchange<T> = T & { [kExchange]?: Exchange };

/** Response phases of an exchange. */
const HEAD = 0;
const BODY_LENGTH = 1;
const BODY_CHUNKED = 2;
const BODY_UNTIL_CLOSE = 3;
const COMPLETE = 4;

/**
 * Exchange is one request forwarded to one worker; fixed shape (STYLE 11). The application
 * creates it, the transport drives it, the listener hears its end.
 */
export class Exchange implements ChunkSink {
  readonly ctx: RequestContext;
  readonly target: UpstreamTarget;
  readonly head: RequestHead;
  readonly listener: ExchangeListener;
  /** True when the client request has a body (Content-Length > 0 or Transfer-Encoding). */
  readonly hasBody: boolean;
  /** Fresh-connection retries used (0 or 1). */
  retries = 0;
  /** True when this exchange retries, on another worker, a request whose first worker died before answering. */
  isRetry = false;
  /** Fires when the response head is later than responseTimeout (armed only when that is set). */
  responseTimer: NodeJS.Timeout | undefined = undefined;
  /** performance.now() when the request head was handed to the connection, and when the response head came. */
  sentAt = 0;
  respondedAt = 0;
  /** True once the response head was written to the client: errors can then only cut the response. */
  isHeadSent = false;
  isDone = false;
  /** The connection carrying the exchange now. */
  connection: UpstreamConnection | undefined = undefined;
  /** The transport driving this exchange (set by forward). */
  transport: Transport | undefined = undefined;
  /** Free slot for the listener (e.g. to settle the promise of the request); the transport never reads it. */
  settle: (() => void) | undefined = undefined;
  /** Response parsing state. */
  phase = HEAD;
  /** Bytes of a partial response head (only when a head spans socket reads). */
  pendingHead: Buffer | undefined = undefined;
  /** The decoder of a chunked response body, made when one arrives. */
  chunked: ChunkedDecoder | undefined = undefined;
  /** Body bytes still expected (BODY_LENGTH). */
  remaining = 0;
  /** The worker will close the connection after this response (or must not be reused). */
  isConnectionSpent = false;
  /** The request is chunked upstream: body writes need framing. */
  isChunkedUp = false;
  /** The whole request (head and body) was handed to the connection. */
  isRequestSent = false;
  /** The client request is paused because the upstream connection is full. */
  isRequestPaused = false;
  /** The upstream socket is paused because the client response is full. */
  isResponsePaused = false;

  constructor(ctx: RequestContext, target: UpstreamTarget, head: RequestHead, listener: ExchangeListener) {
    this.ctx = ctx;
    this.target = target;
    this.head = head;
    this.listener = listener;
    this.hasBody = head.hasBody;
  }

  /** onChunkData passes one piece of a chunked response body to the client (ChunkSink). */
  onChunkData(data: Buffer): void {
    writeBody(this, data);
  }
}

/** Characters node refuses in a request target (its INVALID_PATH_REGEX). */
const INVALID_TARGET = /[^\u0021-\u00ff]/;
/** Characters a header value may not contain (node's checkInvalidHeaderChar). */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Transport forwards exchanges to workers. One per application; one connection pool per
 * worker, created on first use and closed by `dropTarget` when the worker is gone.
 * `close()` destroys every pooled connection; it is idempotent.
 */
export class Transport implements ConnectionHandler {
  readonly settings: TransportSettings;
  readonly #pools = new Map<UpstreamTarget, UpstreamPool>();

  constructor(settings: TransportSettings) {
    this.settings = settings;
  }

  /**
   * forward sends the exchange's request to its target and streams the response to the
   * client. The end is reported once through the exchange's listener. Never throws.
   */
  forward(exchange: Exchange): void {
    const ctx = exchange.ctx;
    const res = ctx.res as WithExchange<HttpResponse>;
    exchange.transport = this;
    // A retry on another worker reuses the client response, whose close is already heard.
    if (res[kExchange] === undefined) res.on('close', onClientClose);
    res[kExchange] = exchange;
    if (res.destroyed) {
      // Its 'close' came before this listener (an HTTP/2 stream reset with its HEADERS): the worker is not asked.
      endExchange(exchange, new NodehostError('NH_ERR_CLIENT_ABORTED', 'The client closed the connection before the request was forwarded.'));
      return;
    }
    if (exchange.head.size > this.settings.maxHeadBytes) {
      endExchange(
        exchange,
        new NodehostError(
          'NH_ERR_WORKER_REQUEST_HEAD_TOO_LARGE',
          `The request head (${exchange.head.size} bytes) is larger than maxRequestBufferSize (${this.settings.maxHeadBytes}).`,
        ),
      );
      return;
    }
    const invalid = invalidHeadPart(exchange);
    if (invalid !== undefined) {
      endExchange(exchange, new NodehostError('NH_ERR_WORKER_REQUEST_HEAD_TOO_LARGE', `The request head could not be serialised: ${invalid}`));
      return;
    }
    if (exchange.hasBody) {
      const req = ctx.req as WithExchange<IncomingMessage>;
      req[kExchange] = exchange;
      exchange.isChunkedUp = req.headers['transfer-encoding'] !== undefined;
    } else {
      exchange.isRequestSent = true;
    }
    this.#send(exchange, this.#poolFor(exchange.target).acquire());
  }

  /** dropTarget closes the pooled connections of a worker that is gone. */
  dropTarget(target: UpstreamTarget): void {
    const pool = this.#pools.get(target);
    if (pool === undefined) return;
    this.#pools.delete(target);
    pool.close();
  }

  /** close destroys every pooled connection. Idempotent. */
  close(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }

  /** connections counts the open connections to the workers: idle (kept for reuse) and busy (carrying an exchange, or closing). */
  connections(): { idle: number; busy: number } {
    let idle = 0;
    let open = 0;
    for (const pool of this.#pools.values()) {
      idle += pool.idle;
      open += pool.open;
    }
    return { idle, busy: open - idle };
  }

  /** retry sends the exchange again on a fresh, unpooled connection. */
  retry(exchange: Exchange): void {
    exchange.retries++;
    this.#send(exchange, this.#poolFor(exchange.target).fresh());
  }

  #poolFor(target: UpstreamTarget): UpstreamPool {
    let pool = this.#pools.get(target);
    if (pool === undefined) {
      pool = new UpstreamPool(target.socketPath, this, this.settings.poolSize, this.settings.maxIdleMs);
      this.#pools.set(target, pool);
    }
    return pool;
  }

  #send(exchange: Exchange, connection: UpstreamConnection): void {
    exchange.connection = connection;
    connection.user = exchange;
    exchange.phase = HEAD;
    exchange.pendingHead = undefined;
    exchange.sentAt = performance.now();
    connection.socket.write(serializeHead(exchange, connection.pool.isKeepAlive), 'latin1');
    if (exchange.isRequestSent) armResponseTimer(exchange);
    if (exchange.hasBody) {
      const req = exchange.ctx.req;
      req.on('data', onRequestData);
      req.on('end', onRequestEnd);
      req.on('error', onRequestError);
    }
  }

  onConnectionData(connection: UpstreamConnection, data: Buffer): boolean {
    const exchange = connection.user as Exchange;
    this.#consume(connection, data);
    // The bytes went on to the client's socket (filters copy what they keep), which took them
    // all unless it queued some, or the response cannot tell (undefined).
    return exchange.ctx.res.writableLength !== 0;
  }

  /** consume reads one piece of the worker's response: its head, body bytes or both. */
  #consume(connection: UpstreamConnection, data: Buffer): void {
    const exchange = connection.user as Exchange;
    if (exchange.isDone) {
      connection.user = undefined;
      connection.destroy();
      return;
    }
    let from = 0;
    if (exchange.phase === HEAD) {
      from = this.#readHead(exchange, connection, data);
      if (from < 0) return;
    }
    switch (exchange.phase) {
      case BODY_LENGTH: {
        const available = data.length - from;
        if (available === 0) return;
        if (available >= exchange.remaining) {
          const end = from + exchange.remaining;
          exchange.remaining = 0;
          if (end < data.length) exchange.isConnectionSpent = true; // bytes after the response: framing broken
          completeResponse(exchange, from === 0 && end === data.length ? data : data.subarray(from, end));
          return;
        }
        exchange.remaining -= available;
        writeBody(exchange, from === 0 ? data : data.subarray(from));
        return;
      }
      case BODY_CHUNKED: {
        const end = exchange.chunked!.push(data, from, exchange);
        if (end === -1) return;
        if (end === -2) {
          failAfterHead(exchange, new Error('invalid chunked framing'));
          return;
        }
        if (end < data.length) exchange.isConnectionSpent = true;
        completeResponse(exchange, undefined);
        return;
      }
      case BODY_UNTIL_CLOSE:
        if (from < data.length) writeBody(exchange, from === 0 ? data : data.subarray(from));
        return;
      case COMPLETE:
        if (from < data.length) exchange.isConnectionSpent = true;
        completeResponse(exchange, undefined);
        return;
    }
  }

  /**
   * readHead consumes the response head from `data`: it returns the offset of the first body
   * byte once the head was parsed and written to the client, or -1 when the head is not
   * complete yet or the exchange ended.
   */
  #readHead(exchange: Exchange, connection: UpstreamConnection, data: Buffer): number {
    const maxHead = this.settings.maxHeadBytes;
    let buf = data;
    let searchFrom = 0;
    if (exchange.pendingHead !== undefined) {
      searchFrom = Math.max(0, exchange.pendingHead.length - 3);
      buf = Buffer.concat([exchange.pendingHead, data]);
      exchange.pendingHead = undefined;
    }
    for (;;) {
      const end = findHeadEnd(buf, searchFrom);
      if (end === -1 || end > maxHead) {
        if (end !== -1 || buf.length > maxHead) {
          failBeforeHead(
            exchange,
            'NH_ERR_WORKER_RESPONSE_HEAD_TOO_LARGE',
            `The response head from the node process is larger than maxRequestBufferSize (${maxHead}).`,
          );
          return -1;
        }
        // A copy when it lies in the read itself: the connection reuses its read buffer.
        exchange.pendingHead = buf.buffer === data.buffer ? Buffer.from(buf) : buf;
        return -1;
      }
      const head = parseResponseHead(buf, end);
      if (typeof head === 'string') {
        failBeforeHead(
          exchange,
          head === 'too-large' ? 'NH_ERR_WORKER_RESPONSE_HEAD_TOO_LARGE' : 'NH_ERR_WORKER_BAD_RESPONSE',
          'The node process sent a response head that cannot be parsed.',
        );
        return -1;
      }
      const status = head.statusCode;
      if (status < 200 && status !== 101) {
        // An interim response (102, 103): not forwarded; the final head follows.
        buf = buf.subarray(end);
        searchFrom = 0;
        if (buf.length === 0) return -1;
        continue;
      }
      if (status === 101) {
        failBeforeHead(exchange, 'NH_ERR_WORKER_BAD_RESPONSE', 'The node process switched protocols on a request that did not ask for it.');
        return -1;
      }
      if (head.hasTransferEncoding && !head.isChunked) {
        // A coding other than chunked last leaves a body that only a close can end, which a
        // client cannot tell from a cut (and node's client refuses): refused like any response
        // nodehost cannot read, with iisnode's 500.1014 (nginx answers such an upstream 502).
        failBeforeHead(exchange, 'NH_ERR_WORKER_BAD_RESPONSE', 'The node process sent a Transfer-Encoding that does not end with chunked.');
        return -1;
      }
      if (head.keepAliveMs > 0) connection.idleLimitMs = Math.min(connection.pool.maxIdleMs, head.keepAliveMs - 1000);
      if (head.isClose) exchange.isConnectionSpent = true;
      if (!deliverHead(exchange, head)) return -1;
      const method = exchange.ctx.req.method;
      if (method === 'HEAD' || status === 204 || status === 304) {
        exchange.phase = COMPLETE;
      } else if (head.isChunked) {
        exchange.phase = BODY_CHUNKED;
        if (exchange.chunked === undefined) exchange.chunked = new ChunkedDecoder();
        else exchange.chunked.reset();
      } else if (head.contentLength >= 0) {
        exchange.remaining = head.contentLength;
        exchange.phase = head.contentLength === 0 ? COMPLETE : BODY_LENGTH;
      } else {
        exchange.phase = BODY_UNTIL_CLOSE;
        exchange.isConnectionSpent = true;
      }
      if (buf !== data) {
        // The head spanned reads: go on with what followed it in the combined buffer.
        this.#consume(connection, buf.subarray(end));
        return -1;
      }
      return end;
    }
  }

  onConnectionDrain(connection: UpstreamConnection): void {
    const exchange = connection.user as Exchange;
    if (exchange.isRequestPaused) {
      exchange.isRequestPaused = false;
      exchange.ctx.req.resume();
    }
  }

  onConnectionClose(connection: UpstreamConnection, error: NodeJS.ErrnoException | undefined): void {
    const exchange = connection.user as Exchange;
    connection.user = undefined;
    if (exchange.isDone || exchange.connection !== connection) return;
    exchange.connection = undefined;
    if (exchange.phase === BODY_UNTIL_CLOSE) {
      // The body ran until the worker closed the connection: that is its end.
      completeResponse(exchange, undefined);
      return;
    }
    if (exchange.phase !== HEAD) {
      failAfterHead(exchange, error ?? new Error('the connection closed'));
      return;
    }
    // A pooled connection that the worker had closed (keep-alive race) fails before any byte of
    // the response; only then is a retry on a fresh connection safe. Requests with a body are
    // never retried: part of the body may already have been read from the client.
    if (connection.served > 0 && exchange.retries === 0 && !exchange.hasBody && exchange.pendingHead === undefined) {
      this.retry(exchange);
      return;
    }
    const reason = error?.message ?? 'the connection closed';
    endExchange(
      exchange,
      new NodehostError(
        'NH_ERR_WORKER_CONNECTION_LOST',
        `The connection to the node process failed before its response head arrived: ${reason}`,
        error === undefined ? undefined : { cause: error },
      ),
    );
  }
}

/** serializeHead renders the request head for the worker. */
function serializeHead(exchange: Exchange, isKeepAlive: boolean): string {
  const headers = exchange.head.headers;
  let text = (exchange.ctx.req.method ?? 'GET') + ' ' + exchange.head.target + ' HTTP/1.1\r\n';
  for (let i = 0; i < headers.length; i += 2) text += headers[i] + ': ' + headers[i + 1] + '\r\n';
  return isKeepAlive ? text + 'Connection: keep-alive\r\n\r\n' : text + 'Connection: close\r\n\r\n';
}

/**
 * invalidHeadPart checks the parts of the request head that did not come from node's parser
 * (a target taken from X-Original-URL, promoted server variables such as the decoded URL):
 * a character that cannot go on the wire would corrupt the head. Returns why, or undefined.
 */
function invalidHeadPart(exchange: Exchange): string | undefined {
  const head = exchange.head;
  if (head.target !== exchange.ctx.rawUrl && (head.target === '' || INVALID_TARGET.test(head.target)))
    return 'the request target contains characters that cannot be sent';
  // Values from the client passed node's parser already (X-Forwarded-For and Host are built
  // from them and from socket addresses); only promoted server variables (X-iisnode-<NAME>,
  // e.g. the decoded URL) can carry a CR, LF or other character that cannot go on the wire.
  const headers = head.headers;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length > 10 && name.charCodeAt(9) === 0x2d && name.startsWith('X-iisnode-') && INVALID_VALUE.test(headers[i + 1]!))
      return `the value of ${name} contains characters that cannot be sent`;
  }
  return undefined;
}

/**
 * deliverHead writes the worker's response head to the client. Returns false when node
 * refused it (the exchange then ended with 500.1014).
 */
function deliverHead(exchange: Exchange, head: ResponseHead): boolean {
  const ctx = exchange.ctx;
  const res = ctx.res;
  if (res.destroyed) {
    // The client left before the head (an HTTP/2 stream reset while the request was on its way, its 'close' already past).
    dropConnection(exchange);
    endExchange(exchange, new NodehostError('NH_ERR_CLIENT_ABORTED', 'The client closed the connection before the response head arrived.'));
    return false;
  }
  exchange.respondedAt = performance.now();
  disarmResponseTimer(exchange);
  const raw = head.rawHeaders;
  // An HTTP/1.0 client cannot receive chunked framing: node's response closes the connection instead.
  const isHttp10 = ctx.req.httpVersionMinor === 0 && ctx.req.httpVersionMajor === 1;
  // Exactly one framing goes to the client (RFC 9110 §8.6, RFC 9112 §6.3), whatever the worker
  // sent: chunked overrides Content-Length, which is dropped; of equal repeated Content-Length
  // lines one is kept (different ones never parse).
  let hasLength = false;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (isHopByHopResponseHeader(name)) continue;
    if (name.length === 17 && isHttp10 && equalsIgnoreAsciiCase(name, 'transfer-encoding')) continue;
    if (name.length === 14 && equalsIgnoreAsciiCase(name, 'content-length')) {
      if (head.isChunked || hasLength) continue;
      hasLength = true;
    }
    headers.push(name, raw[i + 1]!);
  }
  const debug = exchange.listener.debugHeader(exchange);
  if (debug !== undefined) headers.push('iisnode-debug', debug);
  try {
    if (res.getHeaderNames().length === 0) {
      // No module set a header: node serialises the list as it is, repeats included.
      res.writeHead(head.statusCode, head.statusMessage, headers);
    } else {
      for (let i = 0; i < headers.length; i += 2) res.appendHeader(headers[i]!, headers[i + 1]!);
      res.writeHead(head.statusCode, head.statusMessage);
    }
  } catch (err) {
    // Node rejected a header or status from the worker: nothing was sent to the client yet.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    failBeforeHead(exchange, 'NH_ERR_WORKER_BAD_RESPONSE', `The node process sent a response head nodehost cannot forward: ${(err as Error).message}`, err);
    return false;
  }
  exchange.isHeadSent = true;
  if (ctx.status === 0) ctx.status = head.statusCode;
  // flushResponse: the client sees the head now, not with the first body bytes (streaming, SSE).
  if (exchange.transport?.settings.flushResponse === true) res.flushHeaders();
  return true;
}

/** writeBody passes body bytes to the client, pausing the worker's socket when the client is slow. */
function writeBody(exchange: Exchange, data: Buffer): void {
  const res = exchange.ctx.res;
  if (!res.write(data) && !exchange.isResponsePaused && exchange.connection !== undefined) {
    exchange.isResponsePaused = true;
    exchange.connection.socket.pause();
    res.once('drain', onClientDrain);
  }
}

function onClientDrain(this: WithExchange<HttpResponse>): void {
  const exchange = this[kExchange];
  if (exchange === undefined || !exchange.isResponsePaused) return;
  exchange.isResponsePaused = false;
  exchange.connection?.socket.resume();
}

/**
 * completeResponse ends the client response (with `last` as its final bytes), gives the
 * connection back to the pool when it can carry another exchange, and ends the exchange.
 */
function completeResponse(exchange: Exchange, last: Buffer | undefined): void {
  exchange.phase = COMPLETE;
  const connection = exchange.connection;
  exchange.connection = undefined;
  if (connection !== undefined) {
    if (exchange.isResponsePaused) {
      exchange.isResponsePaused = false;
      connection.socket.resume();
    }
    if (exchange.isConnectionSpent || !exchange.isRequestSent) {
      // The worker answered before reading the whole request, or framing is off: the
      // connection cannot carry another exchange.
      connection.user = undefined;
      connection.destroy();
    } else {
      connection.pool.release(connection);
    }
  }
  if (!exchange.isRequestSent) stopRequestBody(exchange);
  if (last === undefined) exchange.ctx.res.end();
  else exchange.ctx.res.end(last);
  endExchange(exchange, undefined);
}

function onRequestData(this: WithExchange<IncomingMessage>, data: Buffer): void {
  const exchange = this[kExchange]!;
  const connection = exchange.connection;
  if (connection === undefined || exchange.isDone) return;
  const socket = connection.socket;
  let isFull: boolean;
  if (exchange.isChunkedUp) {
    if (data.length === 0) return; // a zero-size chunk would end the body
    socket.cork();
    socket.write(data.length.toString(16) + '\r\n', 'latin1');
    socket.write(data);
    isFull = !socket.write('\r\n', 'latin1');
    socket.uncork();
  } else {
    isFull = !socket.write(data);
  }
  if (isFull) {
    exchange.isRequestPaused = true;
    this.pause();
  }
}

function onRequestEnd(this: WithExchange<IncomingMessage>): void {
  const exchange = this[kExchange]!;
  stopRequestBody(exchange);
  exchange.isRequestSent = true;
  if (exchange.isDone || exchange.connection === undefined) return;
  if (exchange.isChunkedUp) exchange.connection.socket.write('0\r\n\r\n', 'latin1');
  if (exchange.phase === HEAD) armResponseTimer(exchange);
}

/**
 * armResponseTimer starts the responseTimeout clock once the worker has the whole request (a
 * slow upload is the client's time, not the worker's). Module-level callback, no closure.
 */
function armResponseTimer(exchange: Exchange): void {
  const ms = exchange.transport?.settings.responseTimeoutMs ?? 0;
  if (ms <= 0) return;
  disarmResponseTimer(exchange);
  exchange.responseTimer = setTimeout(onResponseTimeout, ms, exchange);
}

function disarmResponseTimer(exchange: Exchange): void {
  if (exchange.responseTimer === undefined) return;
  clearTimeout(exchange.responseTimer);
  exchange.responseTimer = undefined;
}

/** onResponseTimeout: the worker holds the request without answering; 504, and its connection is closed so the app sees the abort. */
function onResponseTimeout(exchange: Exchange): void {
  exchange.responseTimer = undefined;
  if (exchange.isDone || exchange.phase !== HEAD) return;
  const ms = exchange.transport?.settings.responseTimeoutMs ?? 0;
  failBeforeHead(exchange, 'NH_ERR_WORKER_RESPONSE_TIMEOUT', `The node process sent no response head within responseTimeout (${ms} ms).`);
}

function onRequestError(this: WithExchange<IncomingMessage>): void {
  const exchange = this[kExchange]!;
  if (exchange.isDone) return;
  exchange.connection?.destroy();
  // The client side is gone; onClientClose (or the close of the upstream) ends the exchange.
}

/** stopRequestBody detaches the request body from the exchange. */
function stopRequestBody(exchange: Exchange): void {
  const req = exchange.ctx.req;
  req.off('data', onRequestData);
  req.off('end', onRequestEnd);
  req.off('error', onRequestError);
  if (exchange.isRequestPaused) exchange.isRequestPaused = false;
}

function onClientClose(this: WithExchange<HttpResponse>): void {
  const exchange = this[kExchange]!;
  if (exchange.isDone) return;
  // The client went away (or the response was destroyed): stop the upstream side too, so the
  // worker sees the abort and the connection is not reused half-read.
  dropConnection(exchange);
  endExchange(
    exchange,
    exchange.isHeadSent ? new NodehostError('NH_ERR_CLIENT_ABORTED', 'The client closed the connection before the response was complete.') : undefined,
  );
}

function dropConnection(exchange: Exchange): void {
  const connection = exchange.connection;
  exchange.connection = undefined;
  if (connection !== undefined) {
    connection.user = undefined;
    connection.destroy();
  }
}

function failBeforeHead(exchange: Exchange, code: ErrorCode, message: string, cause?: unknown): void {
  dropConnection(exchange);
  endExchange(exchange, new NodehostError(code, message, cause === undefined ? undefined : { cause }));
}

function failAfterHead(exchange: Exchange, err: Error): void {
  dropConnection(exchange);
  if (exchange.isHeadSent) {
    exchange.ctx.res.destroy();
    endExchange(exchange, new NodehostError('NH_ERR_WORKER_RESPONSE_BODY', `The response from the node process was cut short: ${err.message}`, { cause: err }));
  } else {
    endExchange(exchange, new NodehostError('NH_ERR_WORKER_CONNECTION_LOST', `The connection to the node process failed: ${err.message}`, { cause: err }));
  }
}

function endExchange(exchange: Exchange, error: NodehostError | undefined): void {
  if (exchange.isDone) return;
  exchange.isDone = true;
  disarmResponseTimer(exchange);
  const req = exchange.ctx.req;
  if (exchange.hasBody && !req.complete) {
    // The worker will not read the rest of the body: drain it, so the client connection can
    // carry the error page and stay usable.
    stopRequestBody(exchange);
    req.resume();
  }
  exchange.listener.onExchangeEnd(exchange, error);
}

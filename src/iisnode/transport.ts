/**
 * How request bytes reach a worker, and nothing else (STYLE 8: Caddy's httptransport.go).
 * HTTP/1.1 over the worker's Unix socket through node:http with one keep-alive Agent per
 * worker: at most maxNamedPipeConnectionPoolSize idle connections, an idle connection older
 * than maxNamedPipePooledConnectionAge is closed instead of reused (node's Agent also honours
 * the `Keep-Alive: timeout=5` hint of node's server, 1 s early, which avoids most reuse races).
 * Bodies stream both ways through pipe() with backpressure; nothing is buffered.
 *
 * The file is self-contained so a leaner raw forwarder can replace it: the rest of nodehost
 * only calls `Transport.forward(exchange)` and hears `ExchangeListener.onExchangeEnd`.
 *
 * Per request there is one Exchange object; event handlers are module-level functions that
 * find it through a symbol on the emitter (no per-request closures, STYLE 11).
 *
 * WebSocket upgrades are a later issue. Seam: the server will hand upgrade requests to a
 * separate `forwardUpgrade(exchange, socket, head)` here, which opens a connection to the
 * worker, writes the head, and pipes both sockets; the request stays active until both close.
 */
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { NodehostError, type ErrorCode } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import { isHopByHopResponseHeader, type RequestHead } from './forward-headers.js';

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

/**
 * Exchange is one request forwarded to one worker; fixed shape (STYLE 11). The application
 * creates it, the transport drives it, the listener hears its end.
 */
export class Exchange {
  readonly ctx: RequestContext;
  readonly target: UpstreamTarget;
  readonly head: RequestHead;
  readonly listener: ExchangeListener;
  /** True when the client request has a body (Content-Length > 0 or Transfer-Encoding). */
  readonly hasBody: boolean;
  /** Fresh-connection retries used (0 or 1). */
  retries = 0;
  /** performance.now() when the request head was handed to the connection, and when the response head came. */
  sentAt = 0;
  respondedAt = 0;
  /** True once the response head was written to the client: errors can then only cut the response. */
  isHeadSent = false;
  isDone = false;
  upstreamRequest: ClientRequest | undefined = undefined;
  upstreamResponse: IncomingMessage | undefined = undefined;
  /** The transport driving this exchange (set by forward). */
  transport: Transport | undefined = undefined;
  /** Free slot for the listener (e.g. to settle the promise of the request); the transport never reads it. */
  settle: (() => void) | undefined = undefined;

  constructor(ctx: RequestContext, target: UpstreamTarget, head: RequestHead, listener: ExchangeListener) {
    this.ctx = ctx;
    this.target = target;
    this.head = head;
    this.listener = listener;
    this.hasBody = head.hasBody;
  }
}

/**
 * Transport forwards exchanges to workers. One per application; one keep-alive Agent per
 * worker, created on first use and destroyed by `dropTarget` when the worker is gone.
 * `close()` destroys every pooled connection; it is idempotent.
 */
export class Transport {
  readonly settings: TransportSettings;
  readonly #agents = new Map<UpstreamTarget, http.Agent>();

  constructor(settings: TransportSettings) {
    this.settings = settings;
  }

  /**
   * forward sends the exchange's request to its target and streams the response to the
   * client. The end is reported once through the exchange's listener. Never throws.
   */
  forward(exchange: Exchange): void {
    const ctx = exchange.ctx;
    const res = ctx.res as WithExchange<ServerResponse>;
    exchange.transport = this;
    res[kExchange] = exchange;
    res.on('close', onClientClose);
    if (exchange.head.size > this.settings.maxHeadBytes) {
      endExchange(exchange, new NodehostError('NH_ERR_WORKER_REQUEST_HEAD_TOO_LARGE', `The request head (${exchange.head.size} bytes) is larger than maxRequestBufferSize (${this.settings.maxHeadBytes}).`));
      return;
    }
    this.#send(exchange, this.#agentFor(exchange.target));
  }

  /** dropTarget closes the pooled connections of a worker that is gone. */
  dropTarget(target: UpstreamTarget): void {
    const agent = this.#agents.get(target);
    if (agent === undefined) return;
    this.#agents.delete(target);
    agent.destroy();
  }

  /** close destroys every pooled connection. Idempotent. */
  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  /** retry sends the exchange again on a fresh, unpooled connection. */
  retry(exchange: Exchange): void {
    exchange.retries++;
    this.#send(exchange, false);
  }

  #agentFor(target: UpstreamTarget): http.Agent {
    let agent = this.#agents.get(target);
    if (agent === undefined) {
      const { poolSize, maxIdleMs } = this.settings;
      const keepAlive = poolSize > 0 && maxIdleMs > 0;
      agent = new http.Agent({ keepAlive, maxFreeSockets: Math.max(1, poolSize), timeout: keepAlive ? maxIdleMs : undefined, scheduling: 'lifo' });
      this.#agents.set(target, agent);
    }
    return agent;
  }

  #send(exchange: Exchange, agent: http.Agent | false): void {
    const ctx = exchange.ctx;
    let upstream: WithExchange<ClientRequest>;
    try {
      upstream = http.request({
        agent,
        socketPath: exchange.target.socketPath,
        method: ctx.req.method,
        path: exchange.head.target,
        headers: exchange.head.headers,
        maxHeaderSize: this.settings.maxHeadBytes,
      });
    } catch (err) {
      // A target or header value node refuses to serialise (e.g. a space in X-Original-URL).
      endExchange(exchange, new NodehostError('NH_ERR_WORKER_REQUEST_HEAD_TOO_LARGE', `The request head could not be serialised: ${(err as Error).message}`, { cause: err }));
      return;
    }
    upstream[kExchange] = exchange;
    exchange.upstreamRequest = upstream;
    exchange.sentAt = performance.now();
    upstream.on('response', onUpstreamResponse);
    upstream.on('error', onUpstreamError);
    if (exchange.hasBody) {
      ctx.req.pipe(upstream);
    } else {
      upstream.end();
    }
  }
}

function onUpstreamResponse(this: WithExchange<ClientRequest>, upstreamResponse: IncomingMessage): void {
  const exchange = this[kExchange]!;
  const res = exchange.ctx.res;
  if (exchange.isDone || res.destroyed) {
    upstreamResponse.destroy();
    return;
  }
  exchange.upstreamResponse = upstreamResponse;
  exchange.respondedAt = performance.now();
  (upstreamResponse as WithExchange<IncomingMessage>)[kExchange] = exchange;
  upstreamResponse.on('error', onUpstreamBodyError);
  const raw = upstreamResponse.rawHeaders;
  // An HTTP/1.0 client cannot receive chunked framing: node's response closes the connection instead.
  const isHttp10 = exchange.ctx.req.httpVersionMinor === 0 && exchange.ctx.req.httpVersionMajor === 1;
  try {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (isHopByHopResponseHeader(name)) continue;
      if (isHttp10 && name.length === 17 && name.toLowerCase() === 'transfer-encoding') continue;
      res.appendHeader(name, raw[i + 1]);
    }
    const debug = exchange.listener.debugHeader(exchange);
    if (debug !== undefined) res.setHeader('iisnode-debug', debug);
    res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.statusMessage);
  } catch (err) {
    // Node rejected a header or status from the worker: nothing was sent to the client yet.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    upstreamResponse.destroy();
    endExchange(exchange, new NodehostError('NH_ERR_WORKER_BAD_RESPONSE', `The node process sent a response head nodehost cannot forward: ${(err as Error).message}`, { cause: err }));
    return;
  }
  exchange.isHeadSent = true;
  if (exchange.ctx.status === 0) exchange.ctx.status = upstreamResponse.statusCode ?? 0;
  // flushResponse: the client sees the head now, not with the first body bytes (streaming,
  // SSE); each body chunk is then written as it arrives (pipe never batches).
  if (exchange.transport?.settings.flushResponse === true) res.flushHeaders();
  upstreamResponse.pipe(res);
}

function onUpstreamError(this: WithExchange<ClientRequest>, err: NodeJS.ErrnoException): void {
  const exchange = this[kExchange]!;
  if (exchange.isDone || exchange.upstreamRequest !== this) return;
  if (exchange.upstreamResponse !== undefined) {
    // The response was under way: nothing to answer any more, just cut the client response.
    failAfterHead(exchange, err);
    return;
  }
  // A pooled connection that the worker had closed (keep-alive race) fails before any byte of
  // the request was accepted; only then is a retry on a fresh connection safe. Requests with a
  // body are never retried: part of the body may already have been read from the client.
  if (this.reusedSocket && exchange.retries === 0 && !exchange.hasBody && isConnectionReset(err)) {
    const transport = exchange.transport;
    if (transport !== undefined) {
      transport.retry(exchange);
      return;
    }
  }
  endExchange(exchange, upstreamError(err));
}

function onUpstreamBodyError(this: WithExchange<IncomingMessage>, err: Error): void {
  const exchange = this[kExchange]!;
  if (!exchange.isDone) failAfterHead(exchange, err);
}

function onClientClose(this: WithExchange<ServerResponse>): void {
  const exchange = this[kExchange]!;
  if (exchange.isDone) return;
  if (this.writableFinished) {
    endExchange(exchange, undefined);
    return;
  }
  // The client went away (or the response was destroyed): stop the upstream side too, so the
  // worker sees the abort and the connection is not reused half-read.
  exchange.upstreamRequest?.destroy();
  exchange.upstreamResponse?.destroy();
  endExchange(exchange, exchange.isHeadSent ? new NodehostError('NH_ERR_WORKER_RESPONSE_BODY', 'The client closed the connection before the response was complete.') : undefined);
}

function failAfterHead(exchange: Exchange, err: Error): void {
  exchange.upstreamRequest?.destroy();
  if (exchange.isHeadSent) {
    exchange.ctx.res.destroy();
    endExchange(exchange, new NodehostError('NH_ERR_WORKER_RESPONSE_BODY', `The response from the node process was cut short: ${err.message}`, { cause: err }));
  } else {
    endExchange(exchange, upstreamError(err as NodeJS.ErrnoException));
  }
}

function endExchange(exchange: Exchange, error: NodehostError | undefined): void {
  if (exchange.isDone) return;
  exchange.isDone = true;
  const req = exchange.ctx.req;
  if (error !== undefined && exchange.hasBody && !req.complete) {
    // The worker will not read the rest of the body: drain it, so the client connection can
    // carry the error page and stay usable.
    req.unpipe();
    req.resume();
  }
  exchange.listener.onExchangeEnd(exchange, error);
}

function isConnectionReset(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNRESET' || err.code === 'EPIPE';
}

/** upstreamError maps a failure before the response head to the iisnode status it gets. */
function upstreamError(err: NodeJS.ErrnoException): NodehostError {
  let code: ErrorCode = 'NH_ERR_WORKER_CONNECTION_LOST';
  if (err.code === 'HPE_HEADER_OVERFLOW') code = 'NH_ERR_WORKER_RESPONSE_HEAD_TOO_LARGE';
  else if (typeof err.code === 'string' && err.code.startsWith('HPE_')) code = 'NH_ERR_WORKER_BAD_RESPONSE';
  return new NodehostError(code, `The connection to the node process failed before its response head arrived: ${err.message}`, { cause: err });
}

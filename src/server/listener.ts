/**
 * Listener owns one listening port and the sites bound to it (IIS's bindings): it chooses the
 * site of each request by its host name (exact name, then the longest `*.domain`), then by the
 * connection's local address (IP-literal bindings), then `*`, then the server's defaultSite
 * (none: 404 NH_ERR_SERVER_NO_SITE through the error step).
 *
 *   http://   net ─▶ FastPath ─▶ (node's http server for what it does not read)  ─▶ route ─▶ SiteHost
 *   https://  TLS (SNI: certificates.ts) ─┬─ ALPN h2 ─▶ node's http2 session ─▶ http2/ (streams) ─▶ route ─▶ SiteHost
 *                                          └─ http/1.1 ─▶ FastPath ─▶ (node's http/1.1)  ─▶ route ─▶ SiteHost
 *
 * An https port is one `http2.createSecureServer({ allowHTTP1: true })`: HTTP/1.1 clients keep
 * the fast path (it reads the TLS socket after the handshake), HTTP/2 clients get node's http2
 * streams, served by nodehost's own request and response (http2/http2-streams.ts; node's
 * compat API is not used). Upgrades (WebSocket) stay on HTTP/1.1.
 *
 * nodehost.yml `limits` apply to every listener: maxConnections at accept (HTTP/2 sessions
 * included), the head, body and request deadlines to HTTP/1.x (the fast path's and node's own);
 * an HTTP/2 stream has no slow head to guard against, its session is bounded by node's and
 * closed after idleTimeout without a stream; the session ticket key is replaced every ticketKeyRotation.
 * On the connections node's HTTP/1 parser reads, a begun head is ended by the head deadline
 * only (node-idle-timeout.ts) and a refused head gets the fast path's statuses (client-error.ts).
 * maxHeaderCount is enforced by the fast path for its requests and here for node's (HTTP/1.x
 * and HTTP/2, header-count.ts); halfClose by the fast path and node's httpAllowHalfOpen.
 */
import { createServer, type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Binding, HostLimits } from '../config/host-config.js';
import { NodehostError } from '../errors.js';
import type { HostLog } from '../host-log.js';
import { fail } from '../http/error-outcome.js';
import type { HttpResponse } from '../http/http-response.js';
import { RequestContext } from '../http/request-context.js';
import { errorStep } from '../pipeline/error-step.js';
import type { ChallengeAnswers } from './acme/challenge-answers.js';
import type { ListenerMetrics } from '../control/metrics.js';
import type { Certificates } from './certificates.js';
import { FastPath } from './fast-path/fast-path.js';
import { acceptStreams } from './http2/http2-streams.js';
import type { Http2Request } from './http2/http2-request.js';
import type { Http2Response } from './http2/http2-response.js';
import { watchStreams } from './http2-stream-watch.js';
import { isOverHeaderCount, nodeMaxHeadersCount, refuseHeaderCount, refuseUpgradeHeaderCount } from './header-count.js';
import { closeOnlyIdleConnections, noteResponseEnd } from './node-idle-timeout.js';
import { answerClientErrors, watchRequestLines } from './client-error.js';
import type { SiteHost } from './site-host.js';
import { rotateTicketKeys, type TicketKeyRotation } from './ticket-keys.js';
import { lazyRequire } from '../lazy-require.js';

// Loaded by the first https listener: a host with http bindings only never loads it.
const http2 = lazyRequire<typeof import('node:http2')>('node:http2');

/** Idle keep-alive client connections close after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 5000;

/**
 * HTTP2_SETTINGS are what an https listener advertises to HTTP/2 clients and enforces: at most
 * 128 streams at once on a connection (nginx's http2_max_concurrent_streams; node's default is
 * unlimited), extra ones refused with RST_STREAM; header lists up to 32 KiB (nginx's 4 × 8 KiB
 * large_client_header_buffers), larger ones refused. Floods of HEADERS+RST_STREAM (rapid
 * reset) are bounded by http2-stream-watch.ts.
 */
export const HTTP2_SETTINGS = { maxConcurrentStreams: 128, maxHeaderListSize: 32 * 1024 } as const;

/**
 * HTTP2_MAX_HEADER_LIST_PAIRS is how many header fields (pseudo-headers included) node's HTTP/2
 * server collects for a stream before it resets it: as many as a 32 KiB list can hold, each
 * field counted at 32 bytes more than its name and value (RFC 9113 §6.5.2). Node's default, 128,
 * would reset a stream before limits.maxHeaderCount could answer 431.
 */
const HTTP2_MAX_HEADER_LIST_PAIRS = HTTP2_SETTINGS.maxHeaderListSize / 32;

/** Route is one binding of a site on this listener. */
export interface Route {
  readonly binding: Binding;
  readonly site: SiteHost;
  /** redirectToHttps: the port of the site's https binding, for 301s from http bindings. */
  readonly httpsPort?: number | undefined;
  /** Strict-Transport-Security value for https responses. */
  readonly hsts?: string | undefined;
}

export interface ListenerOptions {
  readonly address: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
  readonly routes: readonly Route[];
  /** Serves the requests whose host name no route has; undefined: 404. */
  readonly defaultSite?: Route | undefined;
  /** The certificates of an https listener. */
  readonly certificates?: Certificates | undefined;
  /** The ACME challenges under way (HTTP-01 on http listeners, TLS-ALPN-01 on https ones); undefined: no site has `tls: { acme: true }`. */
  readonly acmeChallenges?: ChallengeAnswers | undefined;
  /** Client timeouts and the connection cap (nodehost.yml `limits`). */
  readonly limits: HostLimits;
  readonly log: HostLog;
}

/** hostNameOf is the lower-case host name of a Host header or `:authority`, without its port. */
export function hostNameOf(host: string | undefined): string {
  if (host === undefined) return '';
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.indexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** RouteTable is a listener's routes by host name: exact names, `*.domain` suffixes (longest first), `*`, the default site. */
class RouteTable {
  readonly exact = new Map<string, Route>();
  /** IP-literal bindings by local address: any host name on connections to that address. */
  readonly byAddress = new Map<string, Route>();
  /** [".domain", route], longest first. */
  readonly wildcards: [string, Route][] = [];
  readonly any: Route | undefined;
  readonly defaultSite: Route | undefined;
  readonly all: readonly Route[];

  constructor(routes: readonly Route[], defaultSite: Route | undefined) {
    this.all = routes;
    for (const route of routes) {
      const host = route.binding.host;
      if (route.binding.address !== undefined) this.byAddress.set(route.binding.address, route);
      else if (host.startsWith('*.')) this.wildcards.push([host.slice(1), route]);
      else if (host !== '*') this.exact.set(host, route);
    }
    this.wildcards.sort((a, b) => b[0].length - a[0].length);
    this.any = routes.find((route) => route.binding.host === '*');
    this.defaultSite = defaultSite;
  }
}

export class Listener {
  readonly #options: ListenerOptions;
  readonly #isHttps: boolean;
  readonly #server: Server | Http2SecureServer;
  readonly #fastPath: FastPath;
  /** Replaced whole when the host configuration is re-read (update). */
  #routes: RouteTable;
  #certificates: Certificates | undefined;
  readonly #sessions = new Set<Http2Session>();
  /** Requests that arrived before release(): the server has not dropped its privileges yet. */
  #held: (() => void)[] | undefined = [];
  #url = '';
  /** Connections closed at accept because maxConnections were open; reported at most every 10 s. */
  #dropped = 0;
  #droppedReportedAt = 0;
  /** TLS handshakes completed: with a new session, and resuming one (a session ticket). */
  readonly #handshakes = { full: 0, resumed: 0 };
  #ticketKeys: TicketKeyRotation | undefined;

  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#isHttps = options.protocol === 'https';
    const limits = options.limits;
    const fastPathLimits = {
      headerTimeoutMs: limits.headerTimeoutMs,
      bodyTimeoutMs: limits.bodyTimeoutMs,
      requestTimeoutMs: limits.requestTimeoutMs,
      maxHeaderCount: limits.maxHeaderCount,
      respondsToHalfClosed: limits.halfClose === 'respond',
    };
    this.#routes = new RouteTable(options.routes, options.defaultSite);
    this.#certificates = options.certificates;
    if (this.#isHttps) {
      const certificates = options.certificates!;
      const server = http2().createSecureServer({
        ...certificates.defaultOptions,
        // As node's http server does: a response written in pieces is not held for the client's delayed ACK.
        noDelay: true,
        allowHTTP1: true,
        // Through the field, so a re-read host configuration's certificates take over.
        SNICallback: (servername, callback) => this.#certificates!.sniCallback(servername, callback),
        settings: HTTP2_SETTINGS,
        maxHeaderListPairs: HTTP2_MAX_HEADER_LIST_PAIRS,
      });
      certificates.onDefaultChange = (next) => server.setSecureContext(next);
      this.#ticketKeys = rotateTicketKeys(server, limits.ticketKeyRotationMs, options.log);
      server.on('session', (session: Http2Session) => {
        this.#sessions.add(session);
        watchStreams(session, limits.idleTimeoutMs);
        session.once('close', () => this.#sessions.delete(session));
      });
      // A client that breaks HTTP/2 framing costs its session only.
      server.on('sessionError', () => undefined);
      server.on('tlsClientError', () => undefined);
      options.acmeChallenges?.answerTlsAlpn(server);
      // Node's HTTP/1 fallback of an HTTP/2 server reads these as its http server does (the
      // checking interval when it starts listening); without keepAliveTimeout it would never
      // close an idle connection it reads.
      Object.assign(server, {
        headersTimeout: limits.headerTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        connectionsCheckingInterval: checkingIntervalMs(limits),
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        ...nodeParserLimits(limits),
      });
      this.#server = server;
      this.#fastPath = new FastPath({
        server,
        event: 'secureConnection',
        takes: (socket) => (socket as TLSSocket).alpnProtocol !== 'h2',
        keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
        ...fastPathLimits,
        onRequest: this.#onRequest,
        onHandOff: watchRequestLines,
      });
      // After the fast path, which stands in for node's single listener of the event.
      server.on('secureConnection', (socket: TLSSocket) => {
        if (socket.isSessionReused()) this.#handshakes.resumed++;
        else this.#handshakes.full++;
      });
      // Node's HTTP/1 fallback (connections the fast path hands over) emits 'request'.
      server.on('request', this.#onRequest);
      acceptStreams(server, this.#onStream);
    } else {
      const server = createServer(
        {
          keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
          // Node's own deadlines for the connections it reads (0 turns them off); its check runs
          // on this interval, so a short configured timeout is honoured closely.
          headersTimeout: limits.headerTimeoutMs,
          requestTimeout: limits.requestTimeoutMs,
          connectionsCheckingInterval: checkingIntervalMs(limits),
        },
        this.#onRequest,
      );
      Object.assign(server, nodeParserLimits(limits));
      this.#server = server;
      this.#fastPath = new FastPath({
        server,
        keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
        ...fastPathLimits,
        onRequest: this.#onRequest,
        onHandOff: watchRequestLines,
      });
    }
    this.#server.on('upgrade', this.#onUpgrade);
    closeOnlyIdleConnections(this.#server, limits.headerTimeoutMs);
    answerClientErrors(this.#server);
    if (limits.maxConnections > 0) {
      this.#server.maxConnections = limits.maxConnections;
      this.#server.on('drop', this.#onDrop);
    }
  }

  /** serves tells whether one of the listener's bindings is `site`'s. */
  serves(site: SiteHost): boolean {
    return this.#routes.all.some((route) => route.site === site);
  }

  readonly #onDrop = (): void => {
    this.#dropped++;
    const now = Date.now();
    if (now - this.#droppedReportedAt < 10_000) return;
    this.#droppedReportedAt = now;
    this.#options.log.warn('connection limit reached: new connections are closed', {
      port: this.#options.port,
      maxConnections: this.#options.limits.maxConnections,
      dropped: this.#dropped,
    });
  };

  get url(): string {
    return this.#url;
  }

  /** metrics is the listener's part of a /metrics scrape: its handshakes and the expiry of its certificates (https). */
  metrics(): ListenerMetrics {
    return {
      port: (this.#server.address() as AddressInfo | null)?.port ?? this.#options.port,
      protocol: this.#options.protocol,
      handshakes: { ...this.#handshakes },
      certificates: this.#certificates?.expiries ?? [],
    };
  }

  get protocol(): 'http' | 'https' {
    return this.#options.protocol;
  }

  /** address is the local address the listener binds. */
  get address(): string {
    return this.#options.address;
  }

  /** start listens and resolves with the listener's URL. */
  start(): Promise<string> {
    const { address, port } = this.#options;
    return new Promise((resolvePromise, reject) => {
      const onError = (err: Error) => reject(new NodehostError('NH_ERR_SERVER_LISTEN', `cannot listen on ${address}:${port}: ${err.message}`, { cause: err }));
      this.#server.once('error', onError);
      this.#server.listen(port, address, () => {
        this.#server.off('error', onError);
        const bound = this.#server.address() as AddressInfo;
        const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
        this.#url = `${this.#options.protocol}://${host}:${bound.port}/`;
        this.#certificates?.watch();
        resolvePromise(this.#url);
      });
    });
  }

  /** release lets requests through (those held since start first); the server calls it once every port is bound and privileges are dropped. */
  release(): void {
    const held = this.#held;
    this.#held = undefined;
    for (const run of held ?? []) run();
  }

  /** reloadCertificates reads an https listener's certificate files again now (an ACME certificate was just issued). */
  reloadCertificates(): void {
    this.#certificates?.reload();
  }

  /**
   * update takes a re-read host configuration's routes (and certificates, for https): requests
   * from now on, on open connections too, are routed by them; new handshakes use the new
   * certificates. Nothing is closed.
   */
  update(routes: readonly Route[], defaultSite: Route | undefined, certificates: Certificates | undefined): void {
    this.#routes = new RouteTable(routes, defaultSite);
    if (certificates === undefined || certificates === this.#certificates) return;
    const server = this.#server as Http2SecureServer;
    this.#certificates?.close();
    this.#certificates = certificates;
    certificates.onDefaultChange = (next) => server.setSecureContext(next);
    server.setSecureContext(certificates.defaultOptions);
    certificates.watch();
  }

  /** stop takes no new connections and closes idle ones (HTTP/2 sessions finish their streams). */
  stop(): void {
    this.#certificates?.close();
    this.#ticketKeys?.stop();
    this.#server.close();
    if ('closeIdleConnections' in this.#server) this.#server.closeIdleConnections();
    this.#fastPath.closeIdle();
    for (const session of this.#sessions) session.close();
  }

  /** destroyAll ends every connection still open (after the graceful timeout). */
  destroyAll(): void {
    if ('closeAllConnections' in this.#server) this.#server.closeAllConnections();
    this.#fastPath.closeAll();
    for (const session of this.#sessions) session.destroy();
  }

  /**
   * routeFor chooses the route of a host name on a connection (see the file comment). The
   * connection's local address is read only when a binding names an IP address: it costs a
   * getsockname call, and an address object node keeps on the socket.
   */
  routeFor(hostName: string, socket: { readonly localAddress?: string | undefined }): Route | undefined {
    const routes = this.#routes;
    const exact = routes.exact.get(hostName);
    if (exact !== undefined) return exact;
    for (const [suffix, route] of routes.wildcards) {
      if (hostName.endsWith(suffix) && hostName.length > suffix.length) return route;
    }
    const localAddress = routes.byAddress.size > 0 ? socket.localAddress : undefined;
    if (localAddress !== undefined) {
      const byAddress = routes.byAddress.get(localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress);
      if (byAddress !== undefined) return byAddress;
    }
    return routes.any ?? routes.defaultSite;
  }

  /** onRequest takes an HTTP/1.x request: the fast path's, or one node's server read (HTTP, and HTTPS's HTTP/1 fallback). */
  readonly #onRequest = (req: IncomingMessage, res: HttpResponse): void => {
    if (this.#held !== undefined) {
      this.#held.push(() => this.#onRequest(req, res));
      return;
    }
    // Node's own response (a connection node's server reads): its end starts the idle time.
    if (res instanceof ServerResponse) noteResponseEnd(res);
    if (isOverHeaderCount(req.rawHeaders.length / 2, this.#options.limits.maxHeaderCount)) {
      refuseHeaderCount(res);
      return;
    }
    // A body read by node's server (chunked, HTTP/1.0) gets the same bodyTimeout as the fast
    // path's: the socket's idle timer, which node's server answers by destroying the socket.
    const bodyTimeoutMs = this.#options.limits.bodyTimeoutMs;
    if (!req.complete && bodyTimeoutMs > 0 && req.headers['transfer-encoding'] !== undefined) watchBody(req, bodyTimeoutMs);
    if (!this.#isHttps && this.#options.acmeChallenges?.answerHttp(req, res) === true) return;
    this.#route(req, res);
  };

  /** onStream takes an HTTP/2 request (an https listener's streams, http2/http2-streams.ts). */
  readonly #onStream = (req: Http2Request, res: Http2Response): void => {
    if (this.#held !== undefined) {
      this.#held.push(() => this.#onStream(req, res));
      return;
    }
    if (isOverHeaderCount(req.fieldCount, this.#options.limits.maxHeaderCount)) {
      refuseHeaderCount(res);
      return;
    }
    this.#route(req, res);
  };

  /** route hands a request to the site its host name (and the connection) chooses. */
  #route(req: IncomingMessage, res: HttpResponse): void {
    const route = this.routeFor(hostNameOf(req.headers.host), req.socket);
    if (route === undefined) {
      const ctx = new RequestContext(req, res, { root: '', name: '' }, this.#isHttps, errorStep);
      errorStep.respond(ctx, fail('NH_ERR_SERVER_NO_SITE'));
      return;
    }
    if (route.httpsPort !== undefined && !this.#isHttps && !cameOverHttps(req, route.site)) {
      const name = hostNameOf(req.headers.host) || (req.socket.localAddress ?? 'localhost');
      res.statusCode = 301;
      res.setHeader('Location', `https://${name}${route.httpsPort === 443 ? '' : `:${route.httpsPort}`}${req.url ?? '/'}`);
      res.setHeader('Content-Length', 0);
      res.end();
      return;
    }
    if (route.hsts !== undefined && this.#isHttps) res.setHeader('Strict-Transport-Security', route.hsts);
    route.site.handleRequest(req, res, this.#isHttps);
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (this.#held !== undefined) {
      this.#held.push(() => this.#onUpgrade(req, socket, head));
      return;
    }
    if (isOverHeaderCount(req.rawHeaders.length / 2, this.#options.limits.maxHeaderCount)) {
      refuseUpgradeHeaderCount(socket);
      return;
    }
    const route = this.routeFor(hostNameOf(req.headers.host), req.socket);
    if (route === undefined) {
      (socket as Socket).destroy();
      return;
    }
    route.site.handleUpgrade(req, socket, head, this.#isHttps);
  };
}

/** checkingIntervalMs is how often node's server checks its connections' head and request deadlines: a quarter of the shortest (50 ms to 30 s). */
function checkingIntervalMs(limits: HostLimits): number {
  const shortest = Math.min(limits.headerTimeoutMs || Infinity, limits.requestTimeoutMs || Infinity);
  return shortest === Infinity ? 30_000 : Math.max(50, Math.min(30_000, Math.floor(shortest / 4)));
}

/**
 * nodeParserLimits are the settings of node's HTTP/1 server (and of an HTTP/2 server's
 * fallback, which reads the same properties) for limits.maxHeaderCount and limits.halfClose.
 * httpAllowHalfOpen has node answer a request whose client sent its FIN, then close; without
 * it node ends the connection at the FIN, which aborts the request.
 */
function nodeParserLimits(limits: HostLimits): { maxHeadersCount: number; httpAllowHalfOpen: boolean } {
  return { maxHeadersCount: nodeMaxHeadersCount(limits.maxHeaderCount), httpAllowHalfOpen: limits.halfClose === 'respond' };
}

/** cameOverHttps tells whether a trusted balancer in front (`trustedProxies`) says, by X-Forwarded-Proto, that it took the request over HTTPS: no redirect then, or it would loop. */
function cameOverHttps(req: IncomingMessage, site: SiteHost): boolean {
  return site.site.trustedProxies?.client(req.socket.remoteAddress ?? '', false, req.headers).isHttps === true;
}

/** watchBody arms the socket's idle timer while a request body read by node's server is arriving. */
function watchBody(req: IncomingMessage, timeoutMs: number): void {
  req.socket.setTimeout(timeoutMs);
  req.once('end', onBodyEnd);
}

function onBodyEnd(this: IncomingMessage): void {
  this.socket?.setTimeout(0);
}

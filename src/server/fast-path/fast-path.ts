/**
 * FastPath reads the client connections of a site's HTTP server before node's HTTP server
 * does. Plain requests (a complete HTTP/1.1 head, no body or a Content-Length one, see
 * request-head.ts) it parses itself and answers through FastResponse; the first request it
 * does not take hands the connection to node's server for good, with every byte read so far
 * put back, so chunked bodies, upgrades, HTTP/1.0 and malformed input keep node's full
 * handling. A Content-Length body is passed to the request as it arrives; one the app did not
 * read is dropped after the response, as node's server does.
 *
 *   accept ─▶ FastPath ── plain request ──▶ onRequest(IncomingMessage, FastResponse)
 *                  │                           (keep-alive: next request back here)
 *                  └── anything else ──▶ node's http server (the rest of the connection)
 *
 * One FastConnection per socket; its listeners are bound once per connection, nothing is
 * allocated per request beyond the request, its response and the header list.
 */
import type { EventEmitter } from 'node:events';
import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpResponse } from '../../http/http-response.js';
import { FastResponse, type ResponseOwner } from './fast-response.js';
import { BAD_REQUEST, HANDOFF, MAX_HEAD_BYTES, NEEDS_MORE, readRequestHead, TOO_MANY_HEADERS, URI_TOO_LONG, type RequestHead } from './request-head.js';

export interface FastPathOptions {
  /** The node server that takes the connections the fast path does not read (http, or an HTTPS/HTTP/2 server). */
  readonly server: EventEmitter & { readonly headersTimeout?: number };
  /** The server event that brings a client connection: `connection` (HTTP), `secureConnection` (TLS, once the handshake is done). */
  readonly event?: 'connection' | 'secureConnection';
  /** Connections this returns false for go to node's server at once (HTTP/2 ones). */
  readonly takes?: (socket: Socket) => boolean;
  /** Idle keep-alive connections close after this long (as node's keepAliveTimeout). */
  readonly keepAliveTimeoutMs: number;
  /**
   * A request head must be complete this long after its first byte (after the connection
   * opened, for the first request), or the connection gets 408 and closes: a total deadline,
   * not an inactivity timer, so a head sent a byte at a time is cut off too (slowloris). 0: none.
   */
  readonly headerTimeoutMs: number;
  /** A request body from which nothing arrives for this long (while nodehost wants more) closes the connection. 0: none. */
  readonly bodyTimeoutMs: number;
  /** The whole request, head and body, must arrive within this long, or the connection closes. 0: none. */
  readonly requestTimeoutMs: number;
  /** A head with more header fields than this gets 431 and a close. 0: none. */
  readonly maxHeaderCount: number;
  /**
   * A client's FIN while its request runs lets the request finish and its response go out,
   * then closes (nodehost.yml `limits.halfClose: respond`); false: the FIN aborts it.
   */
  readonly respondsToHalfClosed: boolean;
  readonly onRequest: (req: IncomingMessage, res: HttpResponse) => void;
  /** Called with each connection handed to node's server, once node listens to it. */
  readonly onHandOff?: (socket: Socket) => void;
}

type ConnectionListener = (socket: Socket) => void;

function ignoreError(): void {}

/** CONNECTION names, on a socket the fast path reads, its FastConnection (for the shared listeners). */
const CONNECTION = Symbol('fast-path connection');
type TaggedSocket = Socket & { [CONNECTION]?: FastConnection | undefined };

/** IncomingMessage#_addHeaderLines is how node's own parser hands a header list to a request. */
type WithHeaderLines = IncomingMessage & { _addHeaderLines(headers: string[], count: number): void };

export class FastPath {
  readonly #options: FastPathOptions;
  readonly #nodeListener: ConnectionListener;
  readonly #connections = new Set<FastConnection>();
  #isClosing = false;
  /** One coarse timer checks every connection's deadlines (STYLE 11: timeouts share one timer). */
  readonly #sweep: NodeJS.Timeout | undefined;

  /** The constructor puts the fast path in place of the server's own connection listener. */
  constructor(options: FastPathOptions) {
    this.#options = options;
    const server = options.server;
    const event = options.event ?? 'connection';
    const listeners = server.listeners(event) as ConnectionListener[];
    if (listeners.length !== 1) throw new Error(`the server has no single ${event} listener to stand in front of`);
    this.#nodeListener = listeners[0]!;
    server.removeListener(event, this.#nodeListener);
    server.on(event, this.#onConnection);
    const timeouts = [options.headerTimeoutMs, options.bodyTimeoutMs, options.requestTimeoutMs, options.keepAliveTimeoutMs];
    const shortest = Math.min(...timeouts.filter((ms) => ms > 0));
    // A deadline is kept to within a quarter of the shortest timeout (at most a second late).
    if (shortest !== Infinity) this.#sweep = setInterval(this.#onSweep, Math.max(50, Math.min(1000, shortest / 4))).unref();
  }

  readonly #onSweep = (): void => {
    const now = Date.now();
    const { headerTimeoutMs, bodyTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = this.#options;
    for (const connection of this.#connections) connection.checkDeadlines(now, headerTimeoutMs, bodyTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs);
  };

  /** closeIdle closes the connections between requests; later responses close theirs (shutdown). */
  closeIdle(): void {
    this.#isClosing = true;
    for (const connection of this.#connections) if (connection.res === undefined) connection.socket.destroy();
  }

  /** closeAll destroys every connection the fast path still reads. */
  closeAll(): void {
    this.#isClosing = true;
    clearInterval(this.#sweep);
    for (const connection of this.#connections) connection.socket.destroy();
  }

  /** maxHeaderCount and respondsToHalfClosed are the options' (FastConnection reads them). */
  get maxHeaderCount(): number {
    return this.#options.maxHeaderCount;
  }

  get respondsToHalfClosed(): boolean {
    return this.#options.respondsToHalfClosed;
  }

  readonly #onConnection = (socket: Socket): void => {
    if (this.#isClosing || (this.#options.takes !== undefined && !this.#options.takes(socket))) {
      this.#nodeListener.call(this.#options.server, socket);
      return;
    }
    // A TLS socket ends its own writing side at the client's FIN unless it allows half-open
    // connections (a TCP one of node's http server does): the response could not go out,
    // here or on node's parser after a hand-off.
    if (this.#options.respondsToHalfClosed) socket.allowHalfOpen = true;
    this.#connections.add(new FastConnection(this, socket));
  };

  /** dispatch runs one request read by a connection; `bytes` holds its head and the first body bytes. */
  dispatch(connection: FastConnection, head: RequestHead, bytes: Buffer): void {
    const socket = connection.socket;
    const req = new IncomingMessage(socket) as WithHeaderLines;
    req.method = head.method;
    req.url = head.url;
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.httpVersion = '1.1';
    req._addHeaderLines(head.rawHeaders, head.rawHeaders.length);
    if (head.bodyLength === 0) {
      req.complete = true;
      req.push(null);
    } else {
      connection.startBody(req, head.bodyLength, bytes.subarray(head.headLength));
    }
    const res = new FastResponse(req, socket, connection, !head.wantsClose && !this.#isClosing, this.#options.keepAliveTimeoutMs);
    connection.res = res;
    this.#options.onRequest(req, res);
  }

  /** handOff gives the connection to node's server, `bytes` first. */
  handOff(connection: FastConnection, bytes: Buffer | undefined): void {
    this.#connections.delete(connection);
    connection.detach();
    const socket = connection.socket;
    if (bytes !== undefined && bytes.length > 0) socket.unshift(bytes);
    this.#nodeListener.call(this.#options.server, socket);
    this.#options.onHandOff?.(socket);
  }

  forget(connection: FastConnection): void {
    this.#connections.delete(connection);
  }
}

/** FastConnection is one client connection while the fast path reads it. */
class FastConnection implements ResponseOwner {
  readonly fastPath: FastPath;
  readonly socket: Socket;
  /** The response in progress; undefined between requests. */
  res: FastResponse | undefined = undefined;
  /** Bytes of a head not complete yet, or bytes that came while a response was running. */
  #pending: Buffer | undefined = undefined;
  /** The request whose body is still arriving (undefined once its response ended: the rest is dropped). */
  #body: IncomingMessage | undefined = undefined;
  /** Body bytes still to come from the client. */
  #bodyRemaining = 0;
  /** The client sent its FIN: no request follows the current one. */
  #isClientDone = false;
  /**
   * Date.now() of the connection's last activity (a response ended, bytes read) once its first
   * response has ended; 0 before. Between responses the keep-alive timeout counts from it, as a
   * socket timeout would.
   */
  #activeAt = 0;
  /** Date.now() when the head being read began (the connection's start for the first); 0 while no head is read. */
  #headStartedAt: number;
  /** Date.now() when the current request began, while its head or body is still arriving; 0 otherwise. */
  #requestStartedAt: number;
  /** Date.now() of the last body bytes read (or of the last check while the body was paused by its reader). */
  #bodyReadAt = 0;

  constructor(fastPath: FastPath, socket: Socket) {
    this.fastPath = fastPath;
    this.socket = socket;
    this.#headStartedAt = Date.now();
    this.#requestStartedAt = this.#headStartedAt;
    (socket as TaggedSocket)[CONNECTION] = this;
    socket.on('data', FastConnection.#onData);
    socket.on('drain', FastConnection.#onDrain);
    socket.on('end', FastConnection.#onEnd);
    // 'close' follows an error; the response (if any) hears it there.
    socket.on('error', ignoreError);
    socket.on('close', FastConnection.#onClose);
    // No timer of its own: the fast path's sweep checks every deadline, the keep-alive one
    // included. A socket timeout would cost a timer object and a bound callback per open
    // connection, and a timer refresh on every read and write.
  }

  /**
   * checkDeadlines closes the connection when its head, its body or its whole request is late
   * (see FastPathOptions), or when it has waited for a next request longer than the keep-alive
   * timeout. A late head gets 408 (node's and nginx's answer); a late body cuts the request the
   * app is reading (it sees 'aborted'), as node's server does; an idle connection just closes.
   * Once bytes of a head have come, the head deadline alone ends it (with 408), so which of the
   * two deadlines comes first never decides what the client gets.
   */
  checkDeadlines(now: number, headerTimeoutMs: number, bodyTimeoutMs: number, requestTimeoutMs: number, keepAliveTimeoutMs: number): void {
    const isHeadBegun = this.#pending !== undefined && headerTimeoutMs > 0;
    if (this.res === undefined && !isHeadBegun && this.#activeAt > 0 && keepAliveTimeoutMs > 0 && now - this.#activeAt >= keepAliveTimeoutMs) {
      this.socket.destroy();
      return;
    }
    if (this.#headStartedAt > 0 && headerTimeoutMs > 0 && now - this.#headStartedAt >= headerTimeoutMs) {
      this.#endLateHead();
      return;
    }
    if (this.#bodyRemaining > 0 && bodyTimeoutMs > 0) {
      // A body paused by its reader (backpressure) is not the client's delay.
      if (this.socket.isPaused()) this.#bodyReadAt = now;
      else if (now - this.#bodyReadAt >= bodyTimeoutMs) {
        this.socket.destroy();
        return;
      }
    }
    if (this.#requestStartedAt > 0 && requestTimeoutMs > 0 && now - this.#requestStartedAt >= requestTimeoutMs) {
      if (this.res === undefined) this.#endLateHead();
      else this.socket.destroy();
    }
  }

  /**
   * endLateHead answers a head that began but did not complete in time with 408; a connection
   * that sent no byte of a request is closed without an answer (as nginx does): there is no
   * request to answer, and the idle timer of the same length would do the same.
   */
  #endLateHead(): void {
    if (this.#pending === undefined) this.socket.destroy();
    else this.refuse('408 Request Timeout');
  }

  /** refuse answers the head being read with a bodiless error status and closes the connection (no request reaches the site). */
  refuse(status: string): void {
    this.#headStartedAt = 0;
    this.#requestStartedAt = 0;
    this.#pending = undefined;
    const socket = this.socket;
    this.fastPath.forget(this);
    this.detach();
    socket.on('error', ignoreError);
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    else socket.destroy();
  }

  /** detach removes the fast path's listeners (the connection goes to node's server). */
  detach(): void {
    const socket = this.socket;
    socket.removeListener('data', FastConnection.#onData);
    socket.removeListener('drain', FastConnection.#onDrain);
    socket.removeListener('end', FastConnection.#onEnd);
    socket.removeListener('error', ignoreError);
    socket.removeListener('close', FastConnection.#onClose);
    (socket as TaggedSocket)[CONNECTION] = undefined;
  }

  /** startBody feeds the next `length` bytes of the connection to `req`, starting with `first`. */
  startBody(req: IncomingMessage, length: number, first: Buffer): void {
    this.#body = req;
    this.#bodyRemaining = length;
    this.#bodyReadAt = Date.now();
    // readRequestHead let no more than the body follow the head.
    if (first.length > 0) this.#takeBody(first);
  }

  onResponseFinished(res: FastResponse, keepAlive: boolean): void {
    if (this.res !== res) return;
    this.res = undefined;
    const socket = this.socket;
    if (this.#bodyRemaining > 0) {
      // Answered before its body was read (node's server does the same): the rest is
      // read and dropped, and the connection goes on after it.
      this.#body = undefined;
      socket.resume();
    }
    if (!keepAlive || this.#isClientDone) {
      socket.end();
      return;
    }
    // From the first response on, an idle connection waits only the keep-alive timeout.
    this.#activeAt = Date.now();
    const pending = this.#pending;
    if (pending !== undefined) {
      // A request sent before this response ended (pipelining): read it now.
      this.#pending = undefined;
      socket.resume();
      this.#read(pending);
    }
  }

  /**
   * The socket listeners are shared by every connection (`this` is the socket, which names its
   * connection): one set of functions for all rather than six closures per open connection.
   * They are on the socket only while it is tagged (detach removes both).
   */
  static readonly #onData = function (this: TaggedSocket, chunk: Buffer): void {
    this[CONNECTION]!.#data(chunk);
  };
  static readonly #onDrain = function (this: TaggedSocket): void {
    this[CONNECTION]!.res?.onDrain();
  };
  static readonly #onEnd = function (this: TaggedSocket): void {
    this[CONNECTION]!.#end();
  };
  static readonly #onClose = function (this: TaggedSocket): void {
    this[CONNECTION]!.#close();
  };

  #data(chunk: Buffer): void {
    if (this.#activeAt > 0) this.#activeAt = Date.now();
    if (this.#bodyRemaining > 0) {
      const rest = this.#takeBody(chunk);
      if (rest === undefined) return;
      chunk = rest;
    }
    if (this.res !== undefined) {
      // The client is ahead of the response: keep the bytes for after it, within bounds.
      this.#pending = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
      if (this.#pending.length > MAX_HEAD_BYTES) this.socket.pause();
      return;
    }
    if (this.#pending !== undefined) {
      chunk = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    this.#read(chunk);
  }

  /** takeBody passes body bytes of `chunk` to the request; returns the bytes after the body, if any. */
  #takeBody(chunk: Buffer): Buffer | undefined {
    const size = Math.min(this.#bodyRemaining, chunk.length);
    this.#bodyRemaining -= size;
    this.#bodyReadAt = Date.now();
    if (this.#bodyRemaining === 0) this.#requestStartedAt = 0;
    const req = this.#body;
    if (req !== undefined) {
      const isFull = !req.push(size === chunk.length ? chunk : chunk.subarray(0, size));
      if (this.#bodyRemaining === 0) {
        // Complete: no pause here, since an ended request never asks for more (the next
        // request's bytes would wait forever).
        this.#body = undefined;
        req.complete = true;
        req.push(null);
      } else if (isFull) {
        // A full request buffer pauses the socket; node's IncomingMessage resumes it when read.
        this.socket.pause();
      }
    }
    return size === chunk.length ? undefined : chunk.subarray(size);
  }

  #read(bytes: Buffer): void {
    if (this.#headStartedAt === 0) {
      this.#headStartedAt = Date.now();
      this.#requestStartedAt = this.#headStartedAt;
    }
    const head = readRequestHead(bytes, this.fastPath.maxHeaderCount);
    switch (head) {
      case NEEDS_MORE:
        this.#pending = bytes;
        return;
      case HANDOFF:
        this.fastPath.handOff(this, bytes);
        return;
      case BAD_REQUEST:
        this.refuse('400 Bad Request');
        return;
      case URI_TOO_LONG:
        this.refuse('414 URI Too Long');
        return;
      case TOO_MANY_HEADERS:
        this.refuse('431 Request Header Fields Too Large');
        return;
    }
    this.#headStartedAt = 0;
    if (head.bodyLength === 0) this.#requestStartedAt = 0;
    this.fastPath.dispatch(this, head, bytes);
  }

  /**
   * The client half-closed (the server is allowHalfOpen): abort the response in progress (unless
   * respondsToHalfClosed: it goes out, then the connection closes), or close an idle connection.
   */
  #end(): void {
    if (this.#bodyRemaining > 0 || (this.res !== undefined && !this.fastPath.respondsToHalfClosed)) {
      // The client stopped in the middle of a request body, or is gone while its response is
      // still being made: nobody will read the answer, so the request is aborted and the
      // worker's slot freed (node's server and nginx's proxy_ignore_client_abort off do the
      // same), and a shutdown does not wait for it.
      this.socket.destroy();
      return;
    }
    this.#isClientDone = true;
    // Ending twice would cost node an error object (with its stack) for nothing.
    if (this.res === undefined && !this.socket.writableEnded) this.socket.end();
  }

  #close(): void {
    this.fastPath.forget(this);
    const res = this.res;
    this.res = undefined;
    if (res !== undefined) {
      res.onSocketClose();
      if (!res.req.destroyed) res.req.destroy();
    }
  }
}

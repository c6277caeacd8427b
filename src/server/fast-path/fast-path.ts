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
import { HANDOFF, MAX_HEAD_BYTES, NEEDS_MORE, readRequestHead, type RequestHead } from './request-head.js';

export interface FastPathOptions {
  /** The node server that takes the connections the fast path does not read (http, or an HTTPS/HTTP/2 server). */
  readonly server: EventEmitter & { readonly headersTimeout?: number };
  /** The server event that brings a client connection: `connection` (HTTP), `secureConnection` (TLS, once the handshake is done). */
  readonly event?: 'connection' | 'secureConnection';
  /** Connections this returns false for go to node's server at once (HTTP/2 ones). */
  readonly takes?: (socket: Socket) => boolean;
  /** Idle keep-alive connections close after this long (as node's keepAliveTimeout). */
  readonly keepAliveTimeoutMs: number;
  /** A new connection closes when no request comes within this long (as node's headersTimeout). */
  readonly firstRequestTimeoutMs: number;
  readonly onRequest: (req: IncomingMessage, res: HttpResponse) => void;
}

type ConnectionListener = (socket: Socket) => void;

/** IncomingMessage#_addHeaderLines is how node's own parser hands a header list to a request. */
type WithHeaderLines = IncomingMessage & { _addHeaderLines(headers: string[], count: number): void };

export class FastPath {
  readonly #options: FastPathOptions;
  readonly #nodeListener: ConnectionListener;
  readonly #connections = new Set<FastConnection>();
  #isClosing = false;

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
  }

  /** closeIdle closes the connections between requests; later responses close theirs (shutdown). */
  closeIdle(): void {
    this.#isClosing = true;
    for (const connection of this.#connections) if (connection.res === undefined) connection.socket.destroy();
  }

  /** closeAll destroys every connection the fast path still reads. */
  closeAll(): void {
    this.#isClosing = true;
    for (const connection of this.#connections) connection.socket.destroy();
  }

  readonly #onConnection = (socket: Socket): void => {
    if (this.#isClosing || (this.#options.takes !== undefined && !this.#options.takes(socket))) {
      this.#nodeListener.call(this.#options.server, socket);
      return;
    }
    this.#connections.add(new FastConnection(this, socket, this.#options.firstRequestTimeoutMs, this.#options.keepAliveTimeoutMs));
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
  /** The idle timeout after the first response; 0 once it is in place. */
  #keepAliveTimeoutMs: number;

  constructor(fastPath: FastPath, socket: Socket, firstRequestTimeoutMs: number, keepAliveTimeoutMs: number) {
    this.fastPath = fastPath;
    this.socket = socket;
    this.#keepAliveTimeoutMs = keepAliveTimeoutMs;
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('timeout', this.#onTimeout);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.setTimeout(firstRequestTimeoutMs);
  }

  /** detach removes the fast path's listeners (the connection goes to node's server). */
  detach(): void {
    const socket = this.socket;
    socket.removeListener('data', this.#onData);
    socket.removeListener('drain', this.#onDrain);
    socket.removeListener('timeout', this.#onTimeout);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('error', this.#onError);
    socket.removeListener('close', this.#onClose);
    socket.setTimeout(0);
  }

  /** startBody feeds the next `length` bytes of the connection to `req`, starting with `first`. */
  startBody(req: IncomingMessage, length: number, first: Buffer): void {
    this.#body = req;
    this.#bodyRemaining = length;
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
    if (this.#keepAliveTimeoutMs > 0) {
      // From the first response on, an idle connection waits only the keep-alive timeout.
      socket.setTimeout(this.#keepAliveTimeoutMs);
      this.#keepAliveTimeoutMs = 0;
    }
    const pending = this.#pending;
    if (pending !== undefined) {
      // A request sent before this response ended (pipelining): read it now.
      this.#pending = undefined;
      socket.resume();
      this.#read(pending);
    }
  }

  readonly #onData = (chunk: Buffer): void => {
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
  };

  /** takeBody passes body bytes of `chunk` to the request; returns the bytes after the body, if any. */
  #takeBody(chunk: Buffer): Buffer | undefined {
    const size = Math.min(this.#bodyRemaining, chunk.length);
    this.#bodyRemaining -= size;
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
    const head = readRequestHead(bytes);
    if (head === NEEDS_MORE) {
      this.#pending = bytes;
      return;
    }
    if (head === HANDOFF) {
      this.fastPath.handOff(this, bytes);
      return;
    }
    this.fastPath.dispatch(this, head, bytes);
  }

  readonly #onDrain = (): void => {
    this.res?.onDrain();
  };

  /** An idle connection closes after the keep-alive timeout; a running response is never cut by it. */
  readonly #onTimeout = (): void => {
    if (this.res === undefined) this.socket.destroy();
  };

  /** The client half-closed (the server is allowHalfOpen): finish the response in progress, then close. */
  readonly #onEnd = (): void => {
    if (this.#bodyRemaining > 0) {
      // The client stopped in the middle of a request body: that request can never complete
      // (node's server destroys the connection too).
      this.socket.destroy();
      return;
    }
    this.#isClientDone = true;
    // Ending twice would cost node an error object (with its stack) for nothing.
    if (this.res === undefined && !this.socket.writableEnded) this.socket.end();
  };

  readonly #onError = (): void => {
    // 'close' follows; the response (if any) hears it there.
  };

  readonly #onClose = (): void => {
    this.fastPath.forget(this);
    const res = this.res;
    this.res = undefined;
    if (res !== undefined) {
      res.onSocketClose();
      if (!res.req.destroyed) res.req.destroy();
    }
  };
}

/**
 * The idle timer of the connections node's http server reads (after the fast path handed them
 * over): node closes such a connection when its keep-alive timer fires, even when the next
 * request's head has begun to arrive, so a partial head got a silent close or a 408 depending
 * on which of that timer and the head deadline came first. Here the keep-alive timer closes
 * only a connection that is really idle, with no byte of a next request; once a head has
 * begun, node's headersTimeout (limits.headerTimeout) alone ends it, with 408, as the fast
 * path does.
 *
 *   response finished ── bytesRead noted ──▶ keep-alive timer fires
 *        no byte since ──▶ closed (idle)          bytes since, no response ──▶ left to the head deadline (408)
 */
import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Socket } from 'node:net';

/** BYTES_AT_END names, on a socket, how many bytes it had read when its last response finished. */
const BYTES_AT_END = Symbol('bytes read at the last response end');
type NotedSocket = Socket & { [BYTES_AT_END]?: number; _httpMessage?: unknown };

/**
 * closeOnlyIdleConnections takes over node's 'timeout' handling on `server` (an http server, or
 * an HTTP/2 server's HTTP/1 fallback): a timed-out socket is destroyed, as node does, unless a
 * request head has begun since its last response and `headerTimeoutMs` is on to end it.
 */
export function closeOnlyIdleConnections(server: EventEmitter, headerTimeoutMs: number): void {
  if (headerTimeoutMs <= 0) return;
  server.on('timeout', onTimeout);
}

function onTimeout(socket: unknown): void {
  // HTTP/2 sessions have their own idle timer (http2-stream-watch.ts).
  if (!(socket instanceof Socket)) return;
  const noted = socket as NotedSocket;
  const isHeadBegun = noted._httpMessage == null && socket.bytesRead > (noted[BYTES_AT_END] ?? 0);
  if (!isHeadBegun) socket.destroy();
}

/** noteResponseEnd records, when a response node's server wrote finishes, how much its connection had read. */
export function noteResponseEnd(res: ServerResponse): void {
  res.once('finish', onFinish);
}

function onFinish(this: ServerResponse): void {
  // Node has detached the response from its socket by now; the request still names it.
  const socket = this.req.socket as NotedSocket | null;
  if (socket !== null) socket[BYTES_AT_END] = socket.bytesRead;
}

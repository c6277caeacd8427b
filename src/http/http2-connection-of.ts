/**
 * What an HTTP/2 request carries of its connection. A connection's byte counters live on its
 * socket; over HTTP/1.1 that is `req.socket`, but the streams of an HTTP/2 session each have a
 * `req.socket` of their own (src/server/http2/stream-socket.ts) while they share one session
 * socket, which the request names as `h2Connection` (src/server/http2/http2-request.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** Http2ConnectionFacts are an HTTP/2 session's facts a request can read: whether it is gone, and its own socket. */
export interface Http2ConnectionFacts {
  readonly destroyed: boolean;
  readonly socket: Socket;
}

/** http2ConnectionOf is the session of an HTTP/2 request (undefined over HTTP/1.x). */
export function http2ConnectionOf(req: IncomingMessage): Http2ConnectionFacts | undefined {
  return req.httpVersionMajor === 2 ? (req as IncomingMessage & { readonly h2Connection?: Http2ConnectionFacts }).h2Connection : undefined;
}

/**
 * acceptStreams serves an HTTP/2 server's streams with nodehost's own request and response
 * (Http2Request, Http2Response) instead of node's compat API, whose request and response cost
 * a dozen stream listeners, a Proxy socket and a second pass of header validation per request.
 *
 *   secureConnection (ALPN h2) ─▶ node's session ─▶ 'session': Http2Connection (facts read once)
 *                                                └▶ 'stream':  Http2Request + Http2Response ─▶ onExchange
 *
 * What node's compat server did before its 'request' event is kept: CONNECT gets 405 (no
 * tunnels), `Expect: 100-continue` gets its interim 100 at once, any other expectation 417.
 * The HTTP/1 fallback (allowHTTP1) still emits 'request' on the server, and adding a 'request'
 * listener makes node install its compat 'stream' listener: call this after adding it, it takes
 * that listener away.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Http2SecureServer, Http2Session, ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { Http2Connection } from './http2-connection.js';
import { Http2Request } from './http2-request.js';
import { noteStreamClose, noteStreamOpen } from '../http2-stream-watch.js';
import { Http2Response, responseOf } from './http2-response.js';

/** kConnection names, on a session, its Http2Connection. */
const kConnection = Symbol('nodehost.h2Connection');
type Tagged = Http2Session & { [kConnection]?: Http2Connection };

/** acceptStreams makes `onExchange` the receiver of every HTTP/2 request of `server` (see the file comment). */
export function acceptStreams(server: Http2SecureServer, onExchange: (req: Http2Request, res: Http2Response) => void): void {
  // Node's connection listener makes the session and emits 'session' at once, from within
  // 'secureConnection': the socket seen here first is that session's (node only has a proxy of it).
  let arriving: TLSSocket | undefined;
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    arriving = socket.alpnProtocol === 'h2' ? socket : undefined;
  });
  server.on('session', (session: Http2Session) => {
    (session as Tagged)[kConnection] = new Http2Connection(session, arriving ?? (session.socket as TLSSocket));
    arriving = undefined;
  });
  for (const listener of server.listeners('stream')) server.removeListener('stream', listener as (...args: unknown[]) => void);
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    const session = stream.session as Tagged;
    // Every session passed 'session' first; a stream of one that did not has its proxy read once.
    session[kConnection] ??= new Http2Connection(session, session.socket as TLSSocket);
    const connection = session[kConnection];
    noteStreamOpen(session, stream);
    const req = new Http2Request(stream, connection, headers, rawHeaders);
    const res = new Http2Response(req, stream);
    stream.on('close', onStreamClose);
    if (req.method === 'CONNECT') {
      res.statusCode = 405;
      res.end();
      return;
    }
    const expect = headers.expect;
    if (expect !== undefined) {
      if (expect !== '100-continue') {
        res.statusCode = 417;
        res.end();
        return;
      }
      stream.additionalHeaders({ ':status': 100 });
    }
    onExchange(req, res);
  });
}

/** onStreamClose is every stream's one 'close' listener: its response first, then the session's stream watch. */
function onStreamClose(this: ServerHttp2Stream): void {
  responseOf(this)!.onStreamClosed();
  noteStreamClose(this);
}

/**
 * Http2Request is an HTTP/2 request as node's HTTP/1.1 server would have made it: a node
 * `IncomingMessage` (the pipeline, its modules and the iisnode forwarder are written for one),
 * built from a stream's HEADERS the way the fast path builds one from a request head.
 *
 * - `rawHeaders` (what is forwarded to a worker) has no pseudo-headers; `:authority` becomes
 *   `Host` when the client sent none; a body without `content-length` (HTTP/2 frames it by
 *   DATA frames and END_STREAM) is marked `Transfer-Encoding: chunked`, so the forwarder frames
 *   it to the worker;
 * - `headers` is node's header object of the stream (pseudo-headers included, as node's compat
 *   request had it), with `host` and `transfer-encoding` added as above: node built it already;
 * - `method` and `url` come from `:method` and `:path`; `httpVersion` is 2.0;
 * - the body is pushed from the stream's DATA as it arrives; a full request buffer pauses the
 *   stream (so HTTP/2 flow control holds the client back), and reading it resumes the stream
 *   (through `socket.resume`, see StreamSocket).
 */
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Http2Connection } from './http2-connection.js';
import { StreamSocket } from './stream-socket.js';

/** IncomingMessage#_addHeaderLines is how node's own parser hands a header list to a request. */
type WithHeaderLines = { _addHeaderLines(headers: string[], count: number): void };

export class Http2Request extends IncomingMessage {
  readonly stream: ServerHttp2Stream;
  /** The stream's session and its socket, kept past the stream's end (node forgets the session then): /metrics counts bytes on it. */
  readonly h2Connection: Http2Connection;
  /** How many header fields the client sent, pseudo-headers aside (rawHeaders may have gained Host and Transfer-Encoding). */
  readonly fieldCount: number;

  constructor(stream: ServerHttp2Stream, connection: Http2Connection, headers: IncomingHttpHeaders, raw: readonly string[]) {
    super(new StreamSocket(stream, connection) as unknown as Socket);
    this.stream = stream;
    this.h2Connection = connection;
    this.method = headers[':method'] as string;
    this.url = headers[':path'] as string;
    this.httpVersionMajor = 2;
    this.httpVersionMinor = 0;
    this.httpVersion = '2.0';
    const rawHeaders = http1Headers(stream, headers, raw);
    (this as unknown as WithHeaderLines)._addHeaderLines(rawHeaders, rawHeaders.length);
    // Node parsed the list into this object already; IncomingMessage would build another from rawHeaders.
    this.headers = headers;
    // Pseudo-headers come first (RFC 9113 §8.3, which nghttp2 enforces).
    let pseudo = 0;
    while (pseudo < raw.length && raw[pseudo]!.charCodeAt(0) === 58 /* ':' */) pseudo += 2;
    this.fieldCount = (raw.length - pseudo) / 2;
    if (stream.endAfterHeaders) {
      this.complete = true;
      this.push(null);
    }
  }

  /** endBody: the stream's END_STREAM came (the whole body has been pushed). */
  endBody(): void {
    this.complete = true;
    this.push(null);
  }

  /**
   * _destroy is node's (the 'aborted' event for a request cut short, an 'error' only for a
   * listener of it) except that the stream, not a connection, is what an aborted request resets.
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.readableEnded || !this.complete) {
      this.aborted = true;
      this.emit('aborted');
    }
    if (this.aborted && !this.stream.destroyed) this.stream.destroy(error ?? undefined);
    process.nextTick(onDestroyed, this, error, callback);
  }
}

function onDestroyed(req: Http2Request, error: Error | null, callback: (error?: Error | null) => void): void {
  // As node's IncomingMessage: an error is emitted only when someone listens for it.
  callback(req.listenerCount('error') === 0 ? undefined : error);
}

/**
 * http1Headers is the header list of an HTTP/2 request as HTTP/1.1 has it: no pseudo-headers,
 * `Host` from `:authority`, chunked framing for a body of unknown length (`headers` follows).
 */
function http1Headers(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: readonly string[]): string[] {
  const rawHeaders: string[] = [];
  let authority: string | undefined;
  let hasHost = false;
  let hasLength = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':authority') authority = raw[i + 1];
      continue;
    }
    // nghttp2 hands header names over in lower case (RFC 9113 §8.2.1 makes others malformed).
    if (name === 'host') hasHost = true;
    else if (name === 'content-length') hasLength = true;
    rawHeaders.push(name, raw[i + 1]!);
  }
  if (!hasHost && authority !== undefined) {
    rawHeaders.unshift('Host', authority);
    headers.host = authority;
  }
  if (!hasLength && !stream.endAfterHeaders) {
    rawHeaders.push('Transfer-Encoding', 'chunked');
    headers['transfer-encoding'] = 'chunked';
  }
  return rawHeaders;
}

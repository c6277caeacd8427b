/**
 * StreamSocket is what an HTTP/2 request has as `req.socket`: the pipeline reads the
 * connection's facts from it (remote and local address and port, the byte counters), and
 * `destroy()` aborts the request. On HTTP/2 that is the stream, not the connection, which
 * carries other requests: it resets this stream only, as node's compat API did.
 *
 * One small object per stream with fixed fields; everything else is a getter over the
 * session's Http2Connection or the stream (STYLE 11). The properties node's IncomingMessage
 * reads of its socket (readableHighWaterMark, readable, resume) are here too: `resume` is how a
 * request whose buffer was full asks its stream for more of the body.
 */
import type { ServerHttp2Stream } from 'node:http2';
import type { Http2Connection } from './http2-connection.js';

export class StreamSocket {
  readonly stream: ServerHttp2Stream;
  readonly connection: Http2Connection;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  constructor(stream: ServerHttp2Stream, connection: Http2Connection) {
    this.stream = stream;
    this.connection = connection;
    this.remoteAddress = connection.remoteAddress;
    this.remotePort = connection.remotePort;
  }

  get localAddress(): string | undefined {
    return this.connection.localAddress;
  }

  get localPort(): number | undefined {
    return this.connection.localPort;
  }

  get encrypted(): boolean {
    return true;
  }

  get alpnProtocol(): string | false | null {
    return this.connection.socket.alpnProtocol;
  }

  get servername(): string | false | null {
    return this.connection.socket.servername;
  }

  /** bytesRead and bytesWritten are the connection's (every stream of the session shares it). */
  get bytesRead(): number {
    return this.connection.socket.bytesRead;
  }

  get bytesWritten(): number {
    return this.connection.socket.bytesWritten;
  }

  get readableHighWaterMark(): number {
    return this.stream.readableHighWaterMark;
  }

  get readable(): boolean {
    return this.stream.readable;
  }

  get writable(): boolean {
    return this.stream.writable;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  /** resume lets the stream's body flow again (IncomingMessage calls it when read). */
  resume(): this {
    this.stream.resume();
    return this;
  }

  /** destroy resets the stream (the request is aborted); the session and its other streams go on. */
  destroy(error?: Error): this {
    this.stream.destroy(error);
    return this;
  }

  /** setTimeout is the stream's (as node's compat request had it). */
  setTimeout(ms: number, callback?: () => void): this {
    this.stream.setTimeout(ms, callback);
    return this;
  }
}

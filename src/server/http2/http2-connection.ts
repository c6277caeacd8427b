/**
 * Http2Connection holds what every stream of one HTTP/2 session shares: the session, its TLS
 * socket and the facts about the connection the pipeline asks each request for (the client's
 * address and port, the server's end, the TLS server name). They are read from the socket
 * once per session, not per request through node's http2 socket proxy (a Proxy over the
 * session whose every property read is a trap, and whose methods come back bound anew).
 */
import type { Http2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Http2ConnectionFacts } from '../../http/http2-connection-of.js';

export class Http2Connection implements Http2ConnectionFacts {
  readonly session: Http2Session;
  /** The session's own TLS socket (not node's proxy of it): the byte counters of /metrics and the access log read it. */
  readonly socket: TLSSocket;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** The server's end, read when first asked for (a getsockname call most requests never need). */
  #localAddress: string | undefined = undefined;
  #localPort: number | undefined = undefined;

  constructor(session: Http2Session, socket: TLSSocket) {
    this.session = session;
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
  }

  /** destroyed tells whether the session is gone (its socket's counters no longer move). */
  get destroyed(): boolean {
    return this.session.destroyed;
  }

  get localAddress(): string | undefined {
    if (this.#localPort === undefined) this.#readLocalEnd();
    return this.#localAddress;
  }

  get localPort(): number | undefined {
    if (this.#localPort === undefined) this.#readLocalEnd();
    return this.#localPort;
  }

  /** readLocalEnd keeps both halves: node answers neither once the socket is closed. */
  #readLocalEnd(): void {
    this.#localAddress = this.socket.localAddress;
    this.#localPort = this.socket.localPort ?? 0;
  }
}

/**
 * ChallengeAnswers holds the answers to the ACME challenges under way and gives them:
 *   HTTP-01 (RFC 8555 §8.3): GET /.well-known/acme-challenge/<token> on an http binding is
 *     answered with the key authorization, before any site's pipeline (node never sees it);
 *   TLS-ALPN-01 (RFC 8737): a handshake on an https binding that offers ALPN `acme-tls/1`
 *     gets the challenge certificate of its SNI name and is closed after the handshake.
 * Only while a TLS-ALPN-01 challenge is under way are the first bytes of https connections
 * read here (to see the ALPN offer); otherwise connections go straight to TLS.
 */
import type { IncomingMessage } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { alpnOfClientHello } from './client-hello.js';
import { lazyRequire } from '../../lazy-require.js';

// Loaded by the first TLS-ALPN-01 challenge: a host without ACME never loads it.
const tlsModule = lazyRequire<typeof import('node:tls')>('node:tls');

const HTTP_PREFIX = '/.well-known/acme-challenge/';
export const ACME_TLS_PROTOCOL = 'acme-tls/1';
/** A ClientHello fits one record (16 KiB); a connection that sends more without one is passed on. */
const MAX_HELLO_BYTES = 16 * 1024 + 5;
const HELLO_TIMEOUT_MS = 10_000;

/** The part of a response ChallengeAnswers writes (node's ServerResponse and the fast path's HttpResponse both have it). */
interface ChallengeResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body?: string): unknown;
}

export class ChallengeAnswers {
  /** HTTP-01: token → key authorization. */
  readonly #tokens = new Map<string, string>();
  /** TLS-ALPN-01: lower-case name → challenge certificate. */
  readonly #alpn = new Map<string, SecureContext>();

  setHttp(token: string, keyAuthorization: string): void {
    this.#tokens.set(token, keyAuthorization);
  }

  deleteHttp(token: string): void {
    this.#tokens.delete(token);
  }

  setTlsAlpn(name: string, context: SecureContext): void {
    this.#alpn.set(name.toLowerCase(), context);
  }

  deleteTlsAlpn(name: string): void {
    this.#alpn.delete(name.toLowerCase());
  }

  /** answerHttp answers an HTTP-01 request and says so; false: not a challenge path, the request goes on as usual. */
  answerHttp(req: IncomingMessage, res: ChallengeResponse): boolean {
    const url = req.url ?? '';
    if (!url.startsWith(HTTP_PREFIX)) return false;
    const answer = this.#tokens.get(url.slice(HTTP_PREFIX.length));
    if (answer === undefined) return false;
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', Buffer.byteLength(answer));
    res.end(answer);
    return true;
  }

  /**
   * answerTlsAlpn puts itself before the TLS server's own connection handler: while a
   * TLS-ALPN-01 challenge is under way, a connection whose ClientHello offers `acme-tls/1` is
   * answered here; every other connection goes on to the server with its bytes unread.
   */
  answerTlsAlpn(server: NetServer): void {
    const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    const handOn = (socket: Socket) => {
      for (const handler of handlers) handler.call(server, socket);
    };
    server.on('connection', (socket: Socket) => {
      if (this.#alpn.size === 0) {
        handOn(socket);
        return;
      }
      let bytes = Buffer.alloc(0);
      // A client that sends nothing is not kept waiting here for ever (TLS's own handshake timeout starts later).
      socket.setTimeout(HELLO_TIMEOUT_MS, () => socket.destroy());
      const onData = (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        const protocols = alpnOfClientHello(bytes);
        if (protocols === 'more' && bytes.length < MAX_HELLO_BYTES) return;
        socket.off('data', onData);
        socket.setTimeout(0);
        socket.pause();
        // The TLS socket reads what is buffered first (node's TLSSocket takes a socket's unread data).
        socket.unshift(bytes);
        if (protocols !== 'more' && protocols.includes(ACME_TLS_PROTOCOL)) this.#answerChallenge(socket);
        else handOn(socket);
      };
      socket.on('data', onData);
      socket.on('error', () => undefined);
    });
  }

  #answerChallenge(socket: Socket): void {
    const tls = new (tlsModule().TLSSocket)(socket, {
      isServer: true,
      ALPNProtocols: [ACME_TLS_PROTOCOL],
      SNICallback: (name, callback) => {
        const context = this.#alpn.get(name.toLowerCase());
        callback(context === undefined ? new Error(`no TLS-ALPN-01 challenge for ${name}`) : null, context);
      },
    });
    tls.on('secure', () => tls.end());
    tls.on('error', () => socket.destroy());
  }
}

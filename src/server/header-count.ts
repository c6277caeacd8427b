/**
 * The limit on a request's header fields (nodehost.yml `limits.maxHeaderCount`) for the
 * requests node's parsers read: the HTTP/1.x connections the fast path handed over (it refuses
 * its own, request-head.ts), upgrades, and HTTP/2 streams. Node has no answer of its own for
 * this: its maxHeadersCount keeps the first fields and drops the rest silently. So its parser
 * is told to keep one field more than the limit, and a request that has it gets 431.
 */
import type { Duplex } from 'node:stream';
import type { HttpResponse } from '../http/http-response.js';

/** TOO_MANY_HEADERS is the fast path's answer, word for word, for the sockets that have no response object (upgrades). */
const TOO_MANY_HEADERS = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** nodeMaxHeadersCount is the maxHeadersCount node's HTTP/1 parser gets for a limit: one more, so that going over it shows; 0 (node: none) for none. */
export function nodeMaxHeadersCount(maxHeaderCount: number): number {
  return maxHeaderCount === 0 ? 0 : maxHeaderCount + 1;
}

/** isOverHeaderCount tells whether `fields` header fields are more than `maxHeaderCount` allows (0: no limit). */
export function isOverHeaderCount(fields: number, maxHeaderCount: number): boolean {
  return maxHeaderCount > 0 && fields > maxHeaderCount;
}

/**
 * refuseHeaderCount answers 431 with a close (HTTP/2: on its stream only, the connection has
 * no head to resynchronise). Through the response object, so an answer still being written
 * on the connection (pipelining) goes first; no request reaches the site.
 */
export function refuseHeaderCount(res: HttpResponse): void {
  res.statusCode = 431;
  res.setHeader('Connection', 'close');
  res.setHeader('Content-Length', 0);
  res.end();
}

/** refuseUpgradeHeaderCount answers an upgrade request's raw socket with 431 and closes it. */
export function refuseUpgradeHeaderCount(socket: Duplex): void {
  socket.on('error', ignore);
  socket.end(TOO_MANY_HEADERS, () => socket.destroy());
}

function ignore(): void {}

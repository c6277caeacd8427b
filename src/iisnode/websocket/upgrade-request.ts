/**
 * Upgrade requests (`Connection: Upgrade`, spec 2.6) arrive on the server's 'upgrade' event
 * with the raw client socket instead of a response. To run them through the same pipeline as
 * every other request (filtering, handler mapping, the iisnode handler, error pages), the
 * server wraps the socket in a ServerResponse and records the socket here; the iisnode handler
 * asks `upgradeOf(req)` and tunnels instead of forwarding an ordinary exchange.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** PendingUpgrade is the raw side of one upgrade request. */
export class PendingUpgrade {
  readonly socket: Duplex;
  /** Bytes the client sent after the request head (the first bytes of the upgraded protocol). */
  readonly head: Buffer;
  /** True once the socket belongs to a tunnel; the response object no longer owns it. */
  isTunnelled = false;

  constructor(socket: Duplex, head: Buffer) {
    this.socket = socket;
    this.head = head;
  }
}

const pending = new WeakMap<IncomingMessage, PendingUpgrade>();

/** upgradeOf returns the raw socket of an upgrade request, or undefined for an ordinary request. */
export function upgradeOf(req: IncomingMessage): PendingUpgrade | undefined {
  return pending.get(req);
}

/**
 * createUpgradeResponse records `req` as an upgrade request and returns a ServerResponse
 * bound to its socket, so pipeline modules answer it like any request (a 404, a 503, a
 * redirect). Such an answer closes the connection once written; a tunnel takes the socket over
 * instead (see PendingUpgrade.isTunnelled). Socket errors are swallowed here: the tunnel or
 * the response reports them.
 */
export function createUpgradeResponse(req: IncomingMessage, socket: Duplex, head: Buffer): ServerResponse {
  const upgrade = new PendingUpgrade(socket, head);
  pending.set(req, upgrade);
  socket.on('error', ignore);
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as never);
  res.once('finish', () => {
    if (!upgrade.isTunnelled) socket.end();
  });
  socket.once('close', () => {
    if (!upgrade.isTunnelled && !res.writableFinished) res.destroy();
  });
  return res;
}

function ignore(): void {}

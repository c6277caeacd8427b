/**
 * Upgrade requests (`Connection: Upgrade`, spec 2.6) arrive on the server's 'upgrade' event
 * with the raw client socket instead of a response. To run them through the same pipeline as
 * every other request (filtering, handler mapping, the iisnode handler, error pages), the
 * server wraps the socket in a ServerResponse and hands the raw side to the request context
 * (`ctx.upgrade`); the iisnode handler then tunnels instead of forwarding an ordinary exchange.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PendingUpgrade } from '../http/pending-upgrade.js';

/**
 * createUpgradeResponse returns the raw side of an upgrade request and a ServerResponse
 * bound to its socket, so pipeline modules answer it like any request (a 404, a 503, a
 * redirect). Such an answer closes the connection once written; a tunnel takes the socket over
 * instead (see PendingUpgrade.isTunnelled). Socket errors are swallowed here: the tunnel or
 * the response reports them.
 */
export function createUpgradeResponse(req: IncomingMessage, socket: Duplex, head: Buffer): { res: ServerResponse; upgrade: PendingUpgrade } {
  const upgrade = new PendingUpgrade(socket, head);
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
  return { res, upgrade };
}

function ignore(): void {}

/**
 * Tunnel pipes an upgraded connection both ways (spec 2.6: after the 101, raw bytes in both
 * directions until either side closes). The upstream side is opened with node's HTTP client
 * (a fresh connection, never pooled), so a worker that answers the upgrade with an ordinary
 * response (400, 404, a redirect) is framed correctly and forwarded as such.
 *
 * ```
 *  client ──upgrade──▶ openTunnel ──request head──▶ upstream (worker socket or inspector port)
 *     ◀── non-101 response, then the client connection closes ◀──┤
 *     ◀── 101 head (+ extra headers) ─────────────────────────────┘ then:
 *  client ⇄ upstream   client→upstream: pipe(); upstream→client: pump with FrameBoundary
 *  end on one side ▶ end (FIN) on the other; close ▶ the other ends once flushed;
 *  error ▶ both destroyed; both closed ▶ onEnd (the worker's request is released)
 * ```
 *
 * Backpressure holds in both directions: a slow reader pauses the other side, so the host
 * never buffers more than a socket's high-water mark per direction.
 *
 * A worker that takes the client socket itself (handoff.ts) ends the tunnel before it starts:
 * the upstream request is dropped and the hand-off owns the connection from then on.
 *
 * Open tunnels are registered under a key (the worker), so a drain can close them all at the
 * end of gracefulShutdownTimeout with a WebSocket close frame 1001 "going away" (when the
 * worker-to-client stream is at a frame boundary), or a plain TCP close otherwise.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { NodehostError, type ErrorCode } from '../../errors.js';
import type { RequestContext } from '../../http/request-context.js';
import { isHopByHopResponseHeader } from '../forward-headers.js';
import { FrameBoundary, closeFrame } from './frame-boundary.js';
import type { PendingUpgrade } from '../../http/pending-upgrade.js';
import type { UpgradeHandoff } from './handoff.js';

/** TunnelRequest says where to open the upstream side and what to send. */
export interface TunnelRequest {
  /** A Unix socket path (worker) or a TCP host and port (inspector). */
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
  readonly method: string;
  /** The request target, sent as is. */
  readonly path: string;
  /** The raw header list (name, value, ...), including Connection and Upgrade. */
  readonly headers: string[];
  /** Largest response head accepted from upstream (maxRequestBufferSize). */
  readonly maxHeadBytes: number;
  /** Registry key of the tunnel (the worker), for closeTunnels. */
  readonly key: object | undefined;
  /** Header lines added to the 101 response (e.g. Set-Cookie of sticky sessions): name, value, ... */
  readonly extraHeaders: readonly string[];
  /**
   * The hand-off offered to the worker with this request, if any: when the worker takes the
   * client socket, the upstream request is dropped and `onEnd` is left to the hand-off.
   */
  readonly handoff?: UpgradeHandoff | undefined;
  /**
   * onEnd is called exactly once: with an error when the upstream failed before its response
   * head (the client response is untouched: the caller answers it), else with undefined when
   * the ordinary response was forwarded or the tunnel has closed on both sides.
   */
  readonly onEnd: (error: NodehostError | undefined) => void;
}

const tunnelsByKey = new Map<object, Set<Tunnel>>();

/** closeTunnels closes every open tunnel registered under `key`; returns how many it closed. */
export function closeTunnels(key: object, reason = 'going away'): number {
  const set = tunnelsByKey.get(key);
  if (set === undefined) return 0;
  const tunnels = [...set];
  for (const tunnel of tunnels) tunnel.close(1001, reason);
  return tunnels.length;
}

/** countTunnels tells how many tunnels are open under `key`. */
export function countTunnels(key: object): number {
  return tunnelsByKey.get(key)?.size ?? 0;
}

/**
 * closeTunnelsAfter arms one timer that closes the tunnels of `keys` after `ms` (the drain's
 * gracefulShutdownTimeout). The timer does not keep the process alive.
 */
export function closeTunnelsAfter(keys: readonly object[], ms: number, reason = 'going away'): void {
  if (!keys.some((key) => countTunnels(key) > 0)) return;
  const timer = setTimeout(
    () => {
      for (const key of keys) closeTunnels(key, reason);
    },
    Math.max(0, ms),
  );
  timer.unref();
}

/**
 * Tunnel is one upgraded connection, from the 101 until both sockets are closed. `close`
 * ends it from the host's side; it is idempotent.
 */
export class Tunnel {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly key: object | undefined;
  /** Frame tracking of the upstream-to-client direction; undefined for non-WebSocket upgrades. */
  readonly #frames: FrameBoundary | undefined;
  readonly #onEnd: (error: NodehostError | undefined) => void;
  #closedSides = 0;
  #isEnded = false;
  #isClosing = false;

  constructor(client: Socket, upstream: Socket, key: object | undefined, isWebSocket: boolean, onEnd: (error: NodehostError | undefined) => void) {
    this.client = client;
    this.upstream = upstream;
    this.key = key;
    this.#frames = isWebSocket ? new FrameBoundary() : undefined;
    this.#onEnd = onEnd;
  }

  /** start writes the first bytes of each direction and pipes both ways. */
  start(toClient: Buffer, upstreamHead: Buffer, clientHead: Buffer): void {
    const { client, upstream } = this;
    if (this.key !== undefined) {
      let set = tunnelsByKey.get(this.key);
      if (set === undefined) {
        set = new Set();
        tunnelsByKey.set(this.key, set);
      }
      set.add(this);
    }
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.write(toClient);
    if (upstreamHead.length > 0) this.#toClient(upstreamHead);
    if (clientHead.length > 0) upstream.write(clientHead);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!this.#toClient(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    upstream.on('end', () => client.end());
    client.on('error', () => this.#destroy());
    upstream.on('error', () => this.#destroy());
    client.on('close', () => this.#onSideClosed(upstream));
    upstream.on('close', () => this.#onSideClosed(client));
    client.resume();
    upstream.resume();
  }

  /**
   * close ends the tunnel from the host: a WebSocket close frame with `code` goes to the
   * client first when the stream from upstream is at a frame boundary; then both sockets are
   * ended (TCP close once flushed).
   */
  close(code: number, reason: string): void {
    if (this.#isClosing || this.#isEnded) return;
    this.#isClosing = true;
    this.upstream.pause();
    this.client.unpipe(this.upstream);
    if (this.#frames?.isAtBoundary === true && this.client.writable) this.client.write(closeFrame(code, reason));
    this.client.destroySoon();
    this.upstream.destroy();
  }

  #toClient(chunk: Buffer): boolean {
    if (this.#isClosing) return true;
    this.#frames?.feed(chunk);
    return this.client.write(chunk);
  }

  #onSideClosed(other: Socket): void {
    this.#closedSides++;
    // One side is gone: the other gets what is already queued, then a FIN.
    if (!other.destroyed) other.destroySoon();
    if (this.#closedSides === 2) this.#finish();
  }

  #destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  #finish(): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    if (this.key !== undefined) {
      const set = tunnelsByKey.get(this.key);
      set?.delete(this);
      if (set?.size === 0) tunnelsByKey.delete(this.key);
    }
    this.#onEnd(undefined);
  }
}

/**
 * openTunnel sends the upgrade request upstream on a fresh connection. On 101 the head
 * (with `extraHeaders`) goes to the client and a Tunnel pipes both ways; any other response is
 * forwarded to the client through ctx.res and the client connection closes after it. Resolves
 * once the client has its answer (101 or the response head) or the attempt failed. Never rejects.
 */
export function openTunnel(ctx: RequestContext, upgrade: PendingUpgrade, request: TunnelRequest): Promise<void> {
  return new Promise<void>((resolve) => {
    let isSettled = false;
    const settle = (error: NodehostError | undefined): void => {
      if (isSettled) return;
      isSettled = true;
      request.onEnd(error);
    };
    let upstream: http.ClientRequest;
    try {
      upstream = http.request({
        agent: false,
        ...(request.socketPath !== undefined ? { socketPath: request.socketPath } : { host: request.host, port: request.port }),
        method: request.method,
        path: request.path,
        headers: request.headers,
        maxHeaderSize: request.maxHeadBytes,
      });
    } catch (err) {
      settle(
        new NodehostError('NH_ERR_WORKER_REQUEST_HEAD_TOO_LARGE', `The upgrade request head could not be serialised: ${(err as Error).message}`, {
          cause: err,
        }),
      );
      resolve();
      return;
    }
    const client = upgrade.socket as Socket;
    const onClientGone = (): void => {
      upstream.destroy();
    };
    client.once('close', onClientGone);
    const handoff = request.handoff;
    if (handoff !== undefined) {
      handoff.onSent = () => {
        isSettled = true;
        client.off('close', onClientGone);
        upstream.destroy();
        resolve();
      };
    }
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      client.off('close', onClientGone);
      handoff?.withdraw();
      settle(upstreamError(err));
      resolve();
    });
    upstream.on('upgrade', (res: IncomingMessage, socket: Socket, upstreamHead: Buffer) => {
      client.off('close', onClientGone);
      handoff?.withdraw();
      if (client.destroyed) {
        socket.destroy();
        settle(undefined);
        resolve();
        return;
      }
      upgrade.isTunnelled = true;
      // Upgrade requests always come through node's server: the response is its ServerResponse.
      (ctx.res as http.ServerResponse).detachSocket(client);
      ctx.status = 101;
      const isWebSocket = /^websocket$/i.test(String(res.headers.upgrade ?? ''));
      const tunnel = new Tunnel(client, socket, request.key, isWebSocket, settle);
      tunnel.start(Buffer.from(responseHead(res, request.extraHeaders), 'latin1'), upstreamHead, upgrade.head);
      resolve();
    });
    upstream.on('response', (res: IncomingMessage) => {
      client.off('close', onClientGone);
      handoff?.withdraw();
      forwardResponse(ctx, res, settle);
      resolve();
    });
    upstream.end();
  });
}

/** responseHead serialises the 101 head as received (Connection and Upgrade included) plus the extra headers. */
function responseHead(res: IncomingMessage, extraHeaders: readonly string[]): string {
  let head = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  for (let i = 0; i < extraHeaders.length; i += 2) head += `${extraHeaders[i]}: ${extraHeaders[i + 1]}\r\n`;
  return head + '\r\n';
}

/** forwardResponse sends an ordinary (non-101) answer to an upgrade request to the client. */
function forwardResponse(ctx: RequestContext, upstreamResponse: IncomingMessage, settle: (error: NodehostError | undefined) => void): void {
  const res = ctx.res;
  const raw = upstreamResponse.rawHeaders;
  try {
    for (let i = 0; i < raw.length; i += 2) {
      if (!isHopByHopResponseHeader(raw[i])) res.appendHeader(raw[i], raw[i + 1]);
    }
    res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.statusMessage);
  } catch (err) {
    upstreamResponse.destroy();
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    settle(
      new NodehostError('NH_ERR_WORKER_BAD_RESPONSE', `The node process sent a response head nodehost cannot forward: ${(err as Error).message}`, {
        cause: err,
      }),
    );
    return;
  }
  ctx.status = upstreamResponse.statusCode ?? 0;
  upstreamResponse.pipe(res);
  upstreamResponse.on('error', () => res.destroy());
  const done = (): void => {
    upstreamResponse.destroy();
    settle(undefined);
  };
  res.once('finish', done);
  res.once('close', done);
}

function upstreamError(err: NodeJS.ErrnoException): NodehostError {
  let code: ErrorCode = 'NH_ERR_WORKER_CONNECTION_LOST';
  if (err.code === 'HPE_HEADER_OVERFLOW') code = 'NH_ERR_WORKER_RESPONSE_HEAD_TOO_LARGE';
  else if (typeof err.code === 'string' && err.code.startsWith('HPE_')) code = 'NH_ERR_WORKER_BAD_RESPONSE';
  return new NodehostError(code, `The upgrade request to the upstream failed before its response head arrived: ${err.message}`, { cause: err });
}

/** isSocket narrows a Duplex to a net.Socket (the server always hands those to 'upgrade'). */
export function isSocket(stream: Duplex): stream is Socket {
  return typeof (stream as Socket).setNoDelay === 'function';
}

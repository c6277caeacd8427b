/**
 * UpgradeHandoff is the host's side of handing an upgraded client connection to the worker
 * (the worker's side and the messages are drawn in handoff-preload.cjs): the upgrade request
 * goes to the worker over its Unix socket as before, with `X-Nodehost-Handoff: <id>`; when the
 * preload claims it, the host sends the client socket itself over the IPC channel, with the
 * bytes it already read after the head, and drops the Unix connection. From then on bytes flow
 * client ⇄ worker without the host. The host keeps what it owes: the connection stays an
 * active request of the worker until the worker reports its close (release), the access log
 * gets its line then, and the worker closes it with 1001 at the end of a recycle's grace
 * period (worker.ts). A request the worker does not claim is piped as before (tunnel.ts).
 *
 * ```
 *  offered ──claim from its worker──▶ sent ──{handoff-end} or the worker gone──▶ ended
 *     └──the tunnel or an ordinary response took over (withdraw)──▶ ended
 * ```
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../../http/request-context.js';
import type { PendingUpgrade } from '../../http/pending-upgrade.js';
import type { Worker } from '../worker.js';

/** HANDOFF_HEADER carries the hand-off id to the worker's preload, which removes it. */
export const HANDOFF_HEADER = 'X-Nodehost-Handoff';

/** A random prefix per host process, so an id cannot be guessed from another request's. */
const ID_PREFIX = randomBytes(12).toString('hex');
let nextId = 1;
/** Offers and handed-off connections not yet ended, by id. */
const handoffs = new Map<string, UpgradeHandoff>();

/**
 * canHandOff tells whether the client connection of `upgrade` can move to `worker`: a plain
 * TCP socket (a TLS socket's state cannot move to another process) and a worker whose preload
 * takes sockets over an open IPC channel.
 */
export function canHandOff(upgrade: PendingUpgrade, worker: Worker): boolean {
  const socket = upgrade.socket as Socket & { _handle?: unknown };
  return worker.canTakeSockets && (socket as Partial<TLSSocket>).encrypted !== true && socket._handle != null && !socket.destroyed;
}

/** endHandoffs ends the hand-offs of a worker that is gone: each is released and logged once. */
export function endHandoffs(worker: Worker): void {
  for (const handoff of [...handoffs.values()]) if (handoff.worker === worker) handoff.end();
}

export class UpgradeHandoff {
  readonly id: string;
  readonly worker: Worker;
  readonly #ctx: RequestContext;
  readonly #upgrade: PendingUpgrade;
  readonly #extraHeaders: readonly string[];
  readonly #onEnd: () => void;
  /** Called once the socket has been sent: the tunnel drops its upstream request. */
  #onSent: (() => void) | undefined = undefined;
  #state: 'offered' | 'sent' | 'ended' = 'offered';

  /**
   * The offer is registered at once; `onEnd` is called exactly once when a handed-off
   * connection has ended (never when the offer is withdrawn).
   */
  constructor(ctx: RequestContext, upgrade: PendingUpgrade, worker: Worker, extraHeaders: readonly string[], onEnd: () => void) {
    this.id = `${ID_PREFIX}.${nextId++}`;
    this.worker = worker;
    this.#ctx = ctx;
    this.#upgrade = upgrade;
    this.#extraHeaders = extraHeaders;
    this.#onEnd = onEnd;
    handoffs.set(this.id, this);
    worker.onLinkMessage = onLinkMessage;
  }

  /** isSent tells whether the client socket now belongs to the worker. */
  get isSent(): boolean {
    return this.#state !== 'offered';
  }

  /** onSent sets what to do once the socket has been sent. */
  set onSent(callback: () => void) {
    this.#onSent = callback;
  }

  /** withdraw forgets an offer the worker did not claim (the tunnel or a response answered it). */
  withdraw(): void {
    if (this.#state !== 'offered') return;
    this.#state = 'ended';
    handoffs.delete(this.id);
  }

  /** claim sends the client socket to the worker; false (the offer is withdrawn) when it cannot. */
  claim(): boolean {
    if (this.#state !== 'offered') return false;
    const client = this.#upgrade.socket as Socket & { _handle?: { reading?: boolean; readStop(): number } | null; server?: unknown };
    if (client.destroyed || client._handle == null) {
      this.withdraw();
      return false;
    }
    // Take what the host has read already, then stop reading (read() may start it again;
    // nothing arrives before the next turn of the loop): once sent, whatever the host's handle
    // read would be lost to both sides.
    client.pause();
    const chunks = [this.#upgrade.head];
    for (let chunk = client.read() as Buffer | null; chunk !== null; chunk = client.read() as Buffer | null) chunks.push(chunk);
    const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const handle = client._handle;
    if (handle.reading === true) {
      handle.reading = false;
      handle.readStop();
    }
    // Without its server, node does not track the socket across processes (a server close
    // would otherwise wait for the worker's sockets), and counts its close once, below.
    const server = client.server;
    client.server = null;
    const message = { nodehost: 'handoff', id: this.id, head: head.toString('base64'), headers: this.#extraHeaders };
    const isSent = this.worker.send(message, client, () => {
      // node took the handle out of the socket object once written (or closed it on failure):
      // what is left is freed. A send still queued keeps its handle (see end).
      if (client._handle == null) client.destroy();
    });
    if (!isSent) {
      client.server = server;
      this.withdraw();
      return false;
    }
    this.#state = 'sent';
    this.#upgrade.isTunnelled = true;
    (this.#ctx.res as ServerResponse).detachSocket(client);
    this.#ctx.status = 101;
    this.worker.handedOff++;
    this.#onSent?.();
    return true;
  }

  /** status records the status line the app wrote (for the access log). */
  status(code: number): void {
    if (code > 0) this.#ctx.status = code;
  }

  /** end: the connection closed in the worker, or the worker is gone. Idempotent. */
  end(): void {
    if (this.#state !== 'sent') return;
    this.#state = 'ended';
    handoffs.delete(this.id);
    this.worker.handedOff--;
    // A socket whose send never happened (the worker went away first) still holds its handle: close it, the client must not hang.
    const client = this.#upgrade.socket as Socket & { _handle?: unknown };
    if (client._handle != null) client.destroy();
    this.#onEnd();
  }
}

function onLinkMessage(worker: Worker, message: unknown): void {
  const { nodehost, id, status } = message as { nodehost: string; id?: unknown; status?: unknown };
  const handoff = typeof id === 'string' ? handoffs.get(id) : undefined;
  // Only the worker that was offered a connection may claim or report it.
  const mine = handoff !== undefined && handoff.worker === worker ? handoff : undefined;
  switch (nodehost) {
    case 'handoff-claim':
      if (mine === undefined || !mine.claim()) worker.send({ nodehost: 'handoff-refused', id });
      return;
    case 'handoff-status':
      if (typeof status === 'number') mine?.status(status);
      return;
    case 'handoff-end':
      mine?.end();
      return;
  }
}

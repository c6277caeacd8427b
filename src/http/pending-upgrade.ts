/**
 * The raw side of an upgrade request, carried by its request context (`ctx.upgrade`).
 */
import type { Duplex } from 'node:stream';

/** PendingUpgrade is the raw side of one upgrade request: the client socket and the bytes after its head. */
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

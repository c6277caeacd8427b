/**
 * Sticky sessions (`nodeProcessStickySessions`, spec 2.5): the cookie
 * `iisnode.session.cookie=<n>` pins a client to process n (n mod the process count), so
 * socket.io's long-polling handshake and its later upgrade land on the same process. The
 * first response of a client gets `Set-Cookie: iisnode.session.cookie=<chosen index>` (no
 * other attributes, as iisnode sent it). When process n is not ready (it exited and its slot
 * is restarting) another is chosen and the cookie is reset; when it is ready but full the
 * request gets 503.1002, as iisnode did, rather than breaking the client's session.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../http/request-context.js';
import { RoundRobinPolicy, type SelectableWorker, type SelectionPolicy } from './selection.js';

/** STICKY_COOKIE is the cookie name iisnode used. */
export const STICKY_COOKIE = 'iisnode.session.cookie';

/**
 * readStickyIndex returns n from the request's `iisnode.session.cookie=<n>` cookie, or -1
 * when there is none or it is not a non-negative integer. With several cookies of that name
 * the first wins.
 */
export function readStickyIndex(req: IncomingMessage): number {
  const header = req.headers.cookie;
  if (header === undefined) return -1;
  let at = header.indexOf(STICKY_COOKIE + '=');
  while (at > 0 && header[at - 1] !== ' ' && header[at - 1] !== ';') at = header.indexOf(STICKY_COOKIE + '=', at + 1);
  if (at < 0) return -1;
  const start = at + STICKY_COOKIE.length + 1;
  let end = header.indexOf(';', start);
  if (end < 0) end = header.length;
  const text = header.slice(start, end).trim();
  if (!/^\d{1,9}$/.test(text)) return -1;
  return Number(text);
}

/**
 * StickyPolicy is a SelectionPolicy that prefers the slot named by `preferred` (set by the
 * caller right before the pool selects, and reset right after), and falls back to round
 * robin when there is no preference or the preferred worker is not ready.
 */
export class StickyPolicy implements SelectionPolicy {
  /** Index wanted by the current request (n from the cookie), -1 for none. */
  preferred = -1;
  readonly #fallback: SelectionPolicy;

  constructor(fallback: SelectionPolicy = new RoundRobinPolicy()) {
    this.#fallback = fallback;
  }

  select(workers: readonly SelectableWorker[], maxActivePerWorker: number): number {
    if (this.preferred >= 0 && workers.length > 0) {
      const index = this.preferred % workers.length;
      const worker = workers[index];
      if (worker.isReady) return worker.active < maxActivePerWorker ? index : -1;
    }
    return this.#fallback.select(workers, maxActivePerWorker);
  }
}

/**
 * StickySessions ties the policy to requests: `prefer(ctx)` before acquiring a worker,
 * `assign(ctx, index)` once the worker is known, which sets the cookie when the client had
 * none or was moved to another process.
 */
export class StickySessions {
  readonly policy = new StickyPolicy();
  /** Cookie index the current request asked for (read by assign). */
  readonly #asked = new WeakMap<RequestContext, number>();

  /** prefer reads the request's cookie and makes the policy prefer that process for the next selection. */
  prefer(ctx: RequestContext): void {
    const asked = readStickyIndex(ctx.req);
    this.#asked.set(ctx, asked);
    this.policy.preferred = asked;
  }

  /** done clears the preference once the pool has selected (or queued the request). */
  done(): void {
    this.policy.preferred = -1;
  }

  /** assign sets `Set-Cookie: iisnode.session.cookie=<index>` unless the client already holds that index. */
  assign(ctx: RequestContext, index: number, count: number): void {
    if (index < 0) return;
    const asked = this.#asked.get(ctx) ?? readStickyIndex(ctx.req);
    if (asked >= 0 && count > 0 && asked % count === index) return;
    if (!ctx.res.headersSent) ctx.res.appendHeader('Set-Cookie', `${STICKY_COOKIE}=${index}`);
  }
}

/**
 * WaitingRequests is the FIFO of requests that arrived while their application had no
 * generation to take them (one is starting: a recycle, a wake-up after idleTimeout, a debug
 * session). It is a ring buffer of fixed-shape entries (STYLE 11).
 */
import type { RequestContext } from '../http/request-context.js';
import { RingQueue } from './ring-queue.js';

/** WaitingRequest is one waiting request; fixed shape. */
class WaitingRequest {
  readonly ctx: RequestContext;
  readonly resolve: () => void;
  constructor(ctx: RequestContext, resolve: () => void) {
    this.ctx = ctx;
    this.resolve = resolve;
  }
}

/**
 * WaitingRequests: `wait(ctx)` queues a request and returns the promise its handler returns;
 * `serveAll(handle)` hands every queued request to `handle` in arrival order (a request whose
 * client went away is dropped); `answerAll(answer)` answers every one at once (shutdown).
 */
export class WaitingRequests {
  readonly #queue = new RingQueue<WaitingRequest>();

  /** size is the number of waiting requests. */
  get size(): number {
    return this.#queue.size;
  }

  /** wait queues `ctx`; the promise resolves once `serveAll` or `answerAll` has dealt with it. */
  wait(ctx: RequestContext): Promise<void> {
    return new Promise<void>((resolve) => this.#queue.push(new WaitingRequest(ctx, resolve)));
  }

  /** serveAll hands every waiting request to `handle`, in arrival order. */
  serveAll(handle: (ctx: RequestContext) => Promise<void>): void {
    for (let waiting = this.#queue.shift(); waiting !== undefined; waiting = this.#queue.shift()) {
      const { ctx, resolve } = waiting;
      if (ctx.res.destroyed) {
        resolve();
        continue;
      }
      void handle(ctx).then(resolve);
    }
  }

  /** answerAll answers every waiting request with `answer` (synchronous, e.g. an error page). */
  answerAll(answer: (ctx: RequestContext) => void): void {
    for (let waiting = this.#queue.shift(); waiting !== undefined; waiting = this.#queue.shift()) {
      answer(waiting.ctx);
      waiting.resolve();
    }
  }
}

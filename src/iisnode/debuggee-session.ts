/**
 * DebuggeeSession is an application's side of a debug session (`debuggingEnabled`): the
 * generation of one worker started with the inspector flag, which takes every new request
 * like a recycle would, until `leave()` kills it and hands back to a normal generation.
 */
import type { DebuggeeHandle } from './debugger/debugger-host.js';
import type { Generation } from './generation.js';

/**
 * DebuggeeSession: `pid` is the debugged worker's (0 until spawned); `leave()` forgets the
 * generation's `onGone` hook and calls `onLeave` once (idempotent).
 */
export class DebuggeeSession implements DebuggeeHandle {
  readonly #generation: Generation;
  readonly #onLeave: (generation: Generation) => void;
  #hasLeft = false;

  /** The constructor sets `onGone` on the debug generation: it hears that worker exit or fail. */
  constructor(generation: Generation, onGone: () => void, onLeave: (generation: Generation) => void) {
    this.#generation = generation;
    this.#onLeave = onLeave;
    generation.onGone = onGone;
  }

  /** pid of the debugged worker (0 until spawned). */
  get pid(): number {
    return this.#generation.pool.workers[0]?.pid ?? 0;
  }

  /** leave ends debug mode once. */
  leave(): void {
    if (this.#hasLeft) return;
    this.#hasLeft = true;
    this.#generation.onGone = undefined;
    this.#onLeave(this.#generation);
  }
}

/**
 * IdleTimer implements idleTimeout: after that many ms without a request, while nothing is in
 * flight, the application stops its workers (the next request starts them again). One coarse
 * interval timer per application (STYLE 11), unref'd so it never keeps the host alive.
 */

/** IdleTimerOptions connects the timer to its application. */
export interface IdleTimerOptions {
  /** idleMs reads idleTimeout from the newest settings (0: off). */
  readonly idleMs: () => number;
  /** isBusy tells whether the application cannot go idle now (requests in flight, a generation starting, closed). */
  readonly isBusy: () => boolean;
  /** onIdle is called when the application has been idle for idleTimeout ms. */
  readonly onIdle: (idleMs: number) => void;
}

/**
 * IdleTimer: `touch()` records a request; `arm()` starts checking when idleTimeout is on (the
 * period is fixed then; later settings change only the timeout); `close()` stops it. `onIdle` fires at most once per quiet period,
 * since the application then has no current generation and reports itself busy.
 */
export class IdleTimer {
  readonly #options: IdleTimerOptions;
  #lastRequestAt = Date.now();
  #timer: NodeJS.Timeout | undefined = undefined;

  /** The constructor has no side effects; `arm` starts the timer. */
  constructor(options: IdleTimerOptions) {
    this.#options = options;
  }

  /** touch records that a request arrived now. */
  touch(): void {
    this.#lastRequestAt = Date.now();
  }

  /** arm starts checking every min(idleTimeout, 1 s) (at least 50 ms) when idleTimeout > 0 and the timer is not running yet. */
  arm(): void {
    const idleMs = this.#options.idleMs();
    if (idleMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#check(), Math.max(50, Math.min(idleMs, 1000)));
    this.#timer.unref();
  }

  /** close stops the timer. Idempotent. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const idleMs = this.#options.idleMs();
    if (idleMs <= 0 || Date.now() - this.#lastRequestAt < idleMs || this.#options.isBusy()) return;
    this.#options.onIdle(idleMs);
  }
}

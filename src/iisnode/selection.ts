/**
 * Selection policies choose which worker of a generation takes a request (STYLE 8: one small
 * interface with named policies, like Caddy's Selector). A policy only reads the two facts it
 * needs from each candidate, so tests drive it with plain objects.
 */

/** SelectableWorker is what a policy may look at. */
export interface SelectableWorker {
  readonly isReady: boolean;
  readonly active: number;
}

/** SelectionPolicy picks the index of a worker that may take one more request, or -1. */
export interface SelectionPolicy {
  /**
   * select returns the index in `workers` of a ready worker with fewer than
   * `maxActivePerWorker` active requests, or -1 when there is none. It must not change the
   * workers; it may advance its own cursor.
   */
  select(workers: readonly SelectableWorker[], maxActivePerWorker: number): number;
}

/**
 * RoundRobinPolicy rotates over the slots, skipping a worker that is not ready or already has
 * `maxActivePerWorker` requests (nodehost's rule, DESIGN §2; iisnode itself did not skip full
 * processes, spec 2.5). With all workers ready and idle the order is strict: 0, 1, …, N-1, 0.
 */
export class RoundRobinPolicy implements SelectionPolicy {
  #next = 0;

  select(workers: readonly SelectableWorker[], maxActivePerWorker: number): number {
    const count = workers.length;
    for (let i = 0; i < count; i++) {
      const index = (this.#next + i) % count;
      const worker = workers[index];
      if (worker.isReady && worker.active < maxActivePerWorker) {
        this.#next = (index + 1) % count;
        return index;
      }
    }
    return -1;
  }
}

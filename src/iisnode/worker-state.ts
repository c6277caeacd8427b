/**
 * The worker lifecycle as a declared state machine (STYLE 7). States and the one transition
 * table live here; `WorkerStateMachine.transition` is the only way a worker changes state. It
 * rejects moves the table does not list and publishes every change on the diagnostics channel
 * `nodehost:worker:state`. Process events (spawn, connect, exit) only record facts and ask for
 * a transition; they never assign the state themselves. Drawn in docs/worker-lifecycle.md.
 *
 * ```
 *                 ┌────────── stop requested ───────────┐
 *                 │                                     ▼
 *   starting ──▶ ready ──▶ draining ──▶ stopping ──▶ exited
 *      │           │          │            ▲           ▲
 *      │           │          └── crash ───┼───────────┤
 *      │           └────────── crash ──────┼───────────┘
 *      ├──── stop requested ───────────────┘
 *      └──▶ failed   (exited before ready, not listening in time, could not spawn)
 * ```
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** WorkerState names the phases of one worker process. `exited` and `failed` are final. */
export type WorkerState = 'starting' | 'ready' | 'draining' | 'stopping' | 'exited' | 'failed';

/** WORKER_STATES lists every state, in lifecycle order (for tests and docs). */
export const WORKER_STATES: readonly WorkerState[] = ['starting', 'ready', 'draining', 'stopping', 'exited', 'failed'];

/**
 * TRANSITIONS is the one transition table: for each state, the states it may move to.
 * - starting → ready: the socket accepted a connection.
 * - starting → failed: the process exited before it was ready, did not listen within the
 *   readiness budget, or could not be spawned at all.
 * - starting → stopping: close()/destroy() while still starting (no request can be on it).
 * - ready → draining: close() with requests in flight; ready → stopping: close() when idle, or destroy().
 * - draining → stopping: the last request finished, the grace period ran out, or destroy().
 * - ready/draining/stopping → exited: the process ended (a crash when not stopping).
 */
export const TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  starting: ['ready', 'failed', 'stopping'],
  ready: ['draining', 'stopping', 'exited'],
  draining: ['stopping', 'exited'],
  stopping: ['exited'],
  exited: [],
  failed: [],
};

/** isLegalTransition tells whether the table allows `from` → `to`. */
export function isLegalTransition(from: WorkerState, to: WorkerState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** WorkerStateChange is the message published on `nodehost:worker:state` for every transition. */
export interface WorkerStateChange {
  readonly workerId: number;
  /** OS process id, 0 when the process was never spawned. */
  readonly pid: number;
  readonly scriptPath: string;
  readonly from: WorkerState;
  readonly to: WorkerState;
  readonly reason: string;
}

/** WORKER_STATE_CHANNEL is the diagnostics channel every worker state change is published on. */
export const WORKER_STATE_CHANNEL = diagnosticsChannel.channel('nodehost:worker:state');

/**
 * WorkerStateMachine holds the state of one worker. `transition(to, reason)` applies a legal
 * move and publishes it; an illegal move throws (it is a bug in the caller, never a runtime
 * condition), so callers test `is(...)`/`canMoveTo(...)` first when a race is possible.
 */
export class WorkerStateMachine {
  #state: WorkerState = 'starting';
  readonly workerId: number;
  readonly scriptPath: string;
  /** pid is filled in by the worker once the process exists (0 until then). */
  pid = 0;

  constructor(workerId: number, scriptPath: string) {
    this.workerId = workerId;
    this.scriptPath = scriptPath;
  }

  /** state is the current state. */
  get state(): WorkerState {
    return this.#state;
  }

  /** isFinal tells whether no transition can follow (exited or failed). */
  get isFinal(): boolean {
    return TRANSITIONS[this.#state].length === 0;
  }

  /** canMoveTo tells whether `to` is a legal next state from the current one. */
  canMoveTo(to: WorkerState): boolean {
    return isLegalTransition(this.#state, to);
  }

  /**
   * transition moves to `to` and publishes the change with `reason`. Throws when the table
   * does not allow the move; the state is then unchanged.
   */
  transition(to: WorkerState, reason: string): void {
    const from = this.#state;
    if (!isLegalTransition(from, to)) {
      throw new Error(`illegal worker state transition ${from} -> ${to} (${reason}) for worker ${this.workerId}`);
    }
    this.#state = to;
    if (WORKER_STATE_CHANNEL.hasSubscribers) {
      const change: WorkerStateChange = { workerId: this.workerId, pid: this.pid, scriptPath: this.scriptPath, from, to, reason };
      WORKER_STATE_CHANNEL.publish(change);
    }
  }
}

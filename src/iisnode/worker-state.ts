/**
 * The worker lifecycle as a declared state machine (STYLE 7). States and the one transition
 * table live here; `WorkerStateMachine.transition` is the only way a worker changes state. It
 * rejects moves the table does not list and publishes every change on the diagnostics channel
 * `nodehost:worker:state`. Process events (spawn, connect, exit, pipes closed) only record
 * facts and ask for a transition; they never assign the state themselves. The diagram and the
 * table in docs/worker-lifecycle.md are generated from WORKER_TRANSITIONS (lifecycle-doc.ts).
 *
 * ```
 *   starting ──▶ ready ──▶ draining ──▶ stopping ──▶ exiting ──▶ exited
 *      │  │        │  │        │                     ▲  ▲  │
 *      │  │        │  └────────┴─────── crash ───────┘  │  └──▶ failed (it never became ready)
 *      │  │        └──── stop requested ──▶ stopping    │
 *      │  └──▶ unresponsive (not listening; killed) ────┤
 *      ├──── stop requested ──▶ stopping                │
 *      └──── exited before ready, or spawn failed ──────┘
 * ```
 *
 * `exiting` waits for the process's stdout and stderr to close, so that the stderr tail a
 * failure carries is complete; it ends in `failed` when the worker never became ready and in
 * `exited` otherwise.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** WorkerState names the phases of one worker process. `exited` and `failed` are final. */
export type WorkerState = 'starting' | 'ready' | 'draining' | 'stopping' | 'unresponsive' | 'exiting' | 'exited' | 'failed';

/** WORKER_STATES lists every state, in lifecycle order (for tests and docs). */
export const WORKER_STATES: readonly WorkerState[] = ['starting', 'ready', 'draining', 'stopping', 'unresponsive', 'exiting', 'exited', 'failed'];

/**
 * WORKER_TRANSITIONS is the one transition table: for each state, the states it may move to,
 * each with when that happens (the text of the table in docs/worker-lifecycle.md).
 */
export const WORKER_TRANSITIONS: Readonly<Record<WorkerState, Readonly<Partial<Record<WorkerState, string>>>>> = {
  starting: {
    ready: "the worker's socket accepted a connection",
    stopping: '`close()`/`destroy()` while starting (no request can be on it)',
    unresponsive: 'it did not listen within the readiness budget (500.1001); it is killed',
    exiting: 'the process exited before it was ready (500.1002), or could not be spawned (1028)',
  },
  ready: {
    draining: '`close()` with requests in flight',
    stopping: '`close()` while idle, or `destroy()`',
    exiting: 'the process ended on its own (a crash)',
  },
  draining: {
    stopping: 'the last request finished, the grace period ran out, or `destroy()`',
    exiting: 'crash while draining',
  },
  stopping: {
    exiting: 'the process ended',
  },
  unresponsive: {
    exiting: 'the killed process ended',
  },
  exiting: {
    exited: 'its output pipes closed (or 1 s passed) and it had been ready or was stopped',
    failed: 'its output pipes closed (or 1 s passed) and it never became ready: the owner hears why, with the complete stderr',
  },
  exited: {},
  failed: {},
};

/** isLegalTransition tells whether the table allows `from` → `to`. */
export function isLegalTransition(from: WorkerState, to: WorkerState): boolean {
  return Object.hasOwn(WORKER_TRANSITIONS[from], to);
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
 * condition), so callers test `state`/`canMoveTo(...)` first when a race is possible.
 */
export class WorkerStateMachine {
  #state: WorkerState = 'starting';
  #previous: WorkerState = 'starting';
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

  /** previous is the state before the last transition (`starting` before the first). */
  get previous(): WorkerState {
    return this.#previous;
  }

  /** isFinal tells whether no transition can follow (exited or failed). */
  get isFinal(): boolean {
    return Object.keys(WORKER_TRANSITIONS[this.#state]).length === 0;
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
    this.#previous = from;
    this.#state = to;
    if (WORKER_STATE_CHANNEL.hasSubscribers) {
      const change: WorkerStateChange = { workerId: this.workerId, pid: this.pid, scriptPath: this.scriptPath, from, to, reason };
      WORKER_STATE_CHANNEL.publish(change);
    }
  }
}

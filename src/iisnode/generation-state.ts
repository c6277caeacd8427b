/**
 * The role of one generation in its application as a declared state machine (STYLE 7, the
 * same shape as worker-state.ts): `pending` (starting; requests wait for it), `current` (takes
 * the new requests), `draining` (takes none; its workers finish what they have), `closed`.
 * `GenerationStateMachine.transition` is the only way a generation changes role; it rejects
 * moves the table does not list and publishes every change on `nodehost:generation:state`.
 * The Recycler keeps at most one generation `current` and at most one `pending`. The diagram
 * and the table in docs/worker-lifecycle.md are generated from GENERATION_TRANSITIONS.
 *
 * ```
 *   pending ──▶ current ──▶ draining ──▶ closed
 *      │                       ▲
 *      └───────────────────────┘  replaced while starting, failed (recycleKeepsOldOnFailure), closed
 * ```
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** GenerationState names the roles of a generation. `closed` is final. */
export type GenerationState = 'pending' | 'current' | 'draining' | 'closed';

/** GENERATION_STATES lists every state, in lifecycle order (for tests and docs). */
export const GENERATION_STATES: readonly GenerationState[] = ['pending', 'current', 'draining', 'closed'];

/**
 * GENERATION_TRANSITIONS is the one transition table: for each state, the states it may move
 * to, each with when that happens (the text of the table in docs/worker-lifecycle.md).
 */
export const GENERATION_TRANSITIONS: Readonly<Record<GenerationState, Readonly<Partial<Record<GenerationState, string>>>>> = {
  pending: {
    current:
      'every worker has its verdict and one is ready (normally all are); or no worker could start and recycleKeepsOldOnFailure is off (its failure is the answer, as in iisnode); the first generation is current at once (its pool makes requests wait)',
    draining:
      'a newer recycle replaced it while it was starting, it could not start while recycleKeepsOldOnFailure keeps the old one, or the application closes',
  },
  current: {
    draining: 'a newer generation became current (without recycleKeepsOldOnFailure: a recycle started), idleTimeout stopped it, or the application closes',
  },
  draining: {
    closed: 'its workers are all gone (within gracefulShutdownTimeout, or destroyed)',
  },
  closed: {},
};

/** isLegalGenerationTransition tells whether the table allows `from` → `to`. */
export function isLegalGenerationTransition(from: GenerationState, to: GenerationState): boolean {
  return Object.hasOwn(GENERATION_TRANSITIONS[from], to);
}

/** GenerationStateChange is the message published on `nodehost:generation:state` for every transition. */
export interface GenerationStateChange {
  readonly scriptPath: string;
  /** Number of the generation (1 for the first of the application). */
  readonly generation: number;
  readonly from: GenerationState;
  readonly to: GenerationState;
  readonly reason: string;
}

/** GENERATION_STATE_CHANNEL is the diagnostics channel every generation state change is published on. */
export const GENERATION_STATE_CHANNEL = diagnosticsChannel.channel('nodehost:generation:state');

/**
 * GenerationStateMachine holds the role of one generation. `transition(to, reason)` applies a
 * legal move and publishes it; an illegal move throws (a bug in the caller).
 */
export class GenerationStateMachine {
  #state: GenerationState = 'pending';
  readonly scriptPath: string;
  readonly generation: number;

  constructor(scriptPath: string, generation: number) {
    this.scriptPath = scriptPath;
    this.generation = generation;
  }

  /** state is the current role. */
  get state(): GenerationState {
    return this.#state;
  }

  /** canMoveTo tells whether `to` is a legal next state from the current one. */
  canMoveTo(to: GenerationState): boolean {
    return isLegalGenerationTransition(this.#state, to);
  }

  /**
   * transition moves to `to` and publishes the change with `reason`. Throws when the table
   * does not allow the move; the state is then unchanged.
   */
  transition(to: GenerationState, reason: string): void {
    const from = this.#state;
    if (!isLegalGenerationTransition(from, to)) {
      throw new Error(`illegal generation state transition ${from} -> ${to} (${reason}) for generation ${this.generation} of ${this.scriptPath}`);
    }
    this.#state = to;
    if (GENERATION_STATE_CHANNEL.hasSubscribers) {
      const change: GenerationStateChange = { scriptPath: this.scriptPath, generation: this.generation, from, to, reason };
      GENERATION_STATE_CHANNEL.publish(change);
    }
  }
}

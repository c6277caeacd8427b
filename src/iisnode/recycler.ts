/**
 * Recycler coordinates the generations of one application: which one is `current` (takes new
 * requests), which one is `pending` (starting; requests wait for it), which ones are
 * `draining`. Every move is a transition of the generation's state machine
 * (generation-state.ts), so an illegal one throws.
 *
 * ```
 *   start(settings, isOverlapped) ──▶ pending generation starts; requests arriving now go to
 *        │                 the current one (overlapped) or wait for the pending one (iisnode)
 *        │                 │ all workers ready                 │ cannot start (no worker ready)
 *        │                 ▼                                   ▼
 *        │            current := pending              recycleKeepsOldOnFailure?
 *        │            waiting requests go to it         yes: old stays current, failure reported
 *        │            old generation drains              no:  current := pending (its failure is
 *        │                                                    the answer, as in iisnode)
 *        └─ old generation: no new requests; each worker gets SIGTERM when its active requests
 *           reach 0 and SIGKILL when gracefulShutdownTimeout runs out (Worker.close)
 * ```
 *
 * An overlapped recycle (overlappedRecycle) keeps the old generation current until the new one
 * serves, so nobody waits for the new code to start. Otherwise, without recycleKeepsOldOnFailure,
 * the old generation starts draining at once (as iisnode does); with it, the old one keeps its
 * workers until the new one serves, but new requests still wait for the new one. A recycle asked
 * while a generation is still starting replaces that generation (it may have loaded files
 * from before the latest change), and the waiting requests wait for the newest one.
 */
import type { IisnodeSettings } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import type { Generation, GenerationListener } from './generation.js';
import type { WorkerError } from './worker.js';

/** RecycleResult is how a recycle ended. */
export interface RecycleResult {
  readonly generation: number;
  /** True when the new generation serves; false when it could not start. */
  readonly isServing: boolean;
  readonly error?: string;
}

/** RecyclerOptions connects the recycler to its application. */
export interface RecyclerOptions {
  readonly scriptPath: string;
  readonly log: HostLog;
  /** createGeneration makes (does not start) generation `number`, reporting to `listener`. */
  readonly createGeneration: (
    number: number,
    settings: Readonly<IisnodeSettings>,
    appSettings: readonly (readonly [string, string])[],
    listener: GenerationListener,
  ) => Generation;
  /** onSettled: a pending generation became current, or failed while the old one keeps serving; waiting requests may go on. */
  readonly onSettled: () => void;
}

/**
 * Recycler: `startFirst` makes the first generation current; `start` begins a recycle;
 * `whenSettled` resolves when the newest start is over; `retire`/`destroy` take a generation
 * out of service; `close`/`destroy` end them all. It holds at most one current and one
 * pending generation.
 */
export class Recycler implements GenerationListener {
  readonly #options: RecyclerOptions;
  #current: Generation | undefined = undefined;
  #pending: Generation | undefined = undefined;
  /** Whether the pending generation was started overlapped (the current one serves meanwhile). */
  #isPendingOverlapped = false;
  /** Draining generations and the promise that settles when their workers are gone. */
  readonly #draining = new Map<Generation, Promise<void>>();
  #waiters: ((result: RecycleResult) => void)[] = [];
  #generations = 0;
  #recycles = 0;
  #failedRecycles = 0;
  #lastRecycleError = '';

  /** The constructor has no side effects. */
  constructor(options: RecyclerOptions) {
    this.#options = options;
  }

  /** current is the generation that takes new requests, if any. */
  get current(): Generation | undefined {
    return this.#current;
  }

  /** pending is the generation that is starting, if any (new requests wait for it). */
  get pending(): Generation | undefined {
    return this.#pending;
  }

  /**
   * isOverlapping tells whether new requests go to the current generation while a pending one
   * starts: the recycle was started overlapped and the current generation has a ready worker
   * (when it has none, waiting for the new code is the better bet).
   */
  get isOverlapping(): boolean {
    return this.#pending !== undefined && this.#isPendingOverlapped && this.#current?.pool.hasReadyWorker === true;
  }

  /** draining counts the old generations whose workers are not all gone yet. */
  get draining(): number {
    return this.#draining.size;
  }

  /** generations counts the generations made (the number of the newest one). */
  get generations(): number {
    return this.#generations;
  }

  /** recycles counts the generations started after the first. */
  get recycles(): number {
    return this.#recycles;
  }

  /** failedRecycles counts the recycles whose new generation could not start (failed deploys). */
  get failedRecycles(): number {
    return this.#failedRecycles;
  }

  /** lastRecycleError is why the last start failed ('' when it did not). */
  get lastRecycleError(): string {
    return this.#lastRecycleError;
  }

  /** startFirst makes the first generation current at once and starts it (its pool makes requests wait). */
  startFirst(settings: Readonly<IisnodeSettings>, appSettings: readonly (readonly [string, string])[]): Generation {
    const generation = this.#create(settings, appSettings);
    generation.machine.transition('current', 'first generation');
    this.#current = generation;
    generation.pool.start();
    return generation;
  }

  /**
   * start begins a new generation with `settings` (a recycle, a wake-up after idleTimeout, or
   * a debug session) and returns it, pending. A pending one it replaces drains. The current one
   * keeps serving until the new one serves when `isOverlapped`; otherwise it drains at once,
   * unless recycleKeepsOldOnFailure keeps its workers (taking no requests) until then.
   */
  start(settings: Readonly<IisnodeSettings>, appSettings: readonly (readonly [string, string])[], isOverlapped = false): Generation {
    this.#recycles++;
    const replaced = this.#pending;
    // It may have read the files before the latest change: the newest generation wins.
    if (replaced !== undefined) this.retire(replaced, `replaced by generation ${this.#generations + 1} while starting`);
    const generation = this.#create(settings, appSettings);
    this.#pending = generation;
    this.#isPendingOverlapped = isOverlapped;
    const old = this.#current;
    // Not overlapped, the old generation gets no new requests from now on: let it drain at once.
    if (old !== undefined && !isOverlapped && !settings.recycleKeepsOldOnFailure) this.retire(old, `recycle to generation ${generation.number} started`);
    generation.pool.start();
    return generation;
  }

  /** whenSettled resolves when the newest start is over (serving, failed, or the application closed). */
  whenSettled(): Promise<RecycleResult> {
    return new Promise<RecycleResult>((resolve) => this.#waiters.push(resolve));
  }

  /** settle resolves every `whenSettled` promise with `result`. */
  settle(result: RecycleResult): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve(result);
  }

  /** retire takes `generation` out of service (it drains) and forgets it once its workers are gone. Idempotent. */
  retire(generation: Generation, reason: string): void {
    if (generation.machine.canMoveTo('draining')) generation.machine.transition('draining', reason);
    if (this.#current === generation) this.#current = undefined;
    if (this.#pending === generation) {
      this.#pending = undefined;
      this.#isPendingOverlapped = false;
    }
    if (this.#draining.has(generation)) return;
    const gone = generation.close().then(() => {
      this.#draining.delete(generation);
      generation.machine.transition('closed', 'its workers are gone');
    });
    this.#draining.set(generation, gone);
  }

  /** destroyGeneration kills the workers of `generation`; requests on them fail. */
  destroyGeneration(generation: Generation, reason: string): void {
    generation.destroy();
    this.retire(generation, reason);
  }

  /** close retires every generation and resolves when all their workers are gone. */
  close(): Promise<void> {
    for (const generation of [this.#current, this.#pending]) if (generation !== undefined) this.retire(generation, 'application closing');
    return Promise.all(this.#draining.values()).then(() => undefined);
  }

  /** destroy kills the workers of every generation. */
  destroy(): void {
    for (const generation of [this.#current, this.#pending, ...this.#draining.keys()]) {
      if (generation !== undefined) this.destroyGeneration(generation, 'application destroyed');
    }
  }

  /** onGenerationServing: a pending generation becomes current. */
  onGenerationServing(generation: Generation): void {
    if (generation !== this.#pending) return;
    this.#promote(generation, '');
  }

  /** onGenerationFailed: no worker of `generation` could start. */
  onGenerationFailed(generation: Generation, error: WorkerError): void {
    if (generation !== this.#pending) return;
    this.#failedRecycles++;
    const { log, scriptPath } = this.#options;
    const message = `${error.code}: ${error.message}`;
    const old = this.#current;
    if (generation.settings.recycleKeepsOldOnFailure && old?.pool.hasReadyWorker) {
      this.#lastRecycleError = message;
      log.error('recycle failed', {
        script: scriptPath,
        generation: generation.number,
        keeps: old.number,
        code: error.code,
        message: error.message,
        stderr: error.stderrTail.slice(-2000),
      });
      this.retire(generation, 'could not start; the old generation keeps serving');
      this.#options.onSettled();
      this.settle({ generation: old.number, isServing: false, error: message });
      return;
    }
    // As in iisnode: the new generation is the application now; its failure is the answer
    // (developer error page) until a later change makes it start.
    log.error('recycle failed', { script: scriptPath, generation: generation.number, code: error.code, message: error.message });
    this.#promote(generation, message);
  }

  #create(settings: Readonly<IisnodeSettings>, appSettings: readonly (readonly [string, string])[]): Generation {
    this.#generations++;
    return this.#options.createGeneration(this.#generations, settings, appSettings, this);
  }

  #promote(generation: Generation, error: string): void {
    this.#pending = undefined;
    this.#isPendingOverlapped = false;
    const old = this.#current;
    generation.machine.transition('current', error === '' ? 'its workers are ready' : 'could not start; its failure is the answer');
    this.#current = generation;
    this.#lastRecycleError = error;
    if (old !== undefined && old !== generation) this.retire(old, `generation ${generation.number} is current`);
    if (error === '')
      this.#options.log.info('app recycled', { script: this.#options.scriptPath, generation: generation.number, ms: Date.now() - generation.startedAt });
    this.#options.onSettled();
    this.settle(error === '' ? { generation: generation.number, isServing: true } : { generation: generation.number, isServing: false, error });
  }
}

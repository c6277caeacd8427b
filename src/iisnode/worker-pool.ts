/**
 * WorkerPool is one generation of an application's workers (STYLE 8, middle layer): it keeps
 * `nodeProcessCountPerApplication` slots filled, chooses a worker for each request through a
 * SelectionPolicy, makes requests wait while no worker is ready yet, and replaces crashed
 * workers with exponential backoff. It knows nothing about how bytes reach a worker.
 *
 * A generation takes requests once ALL of its workers are ready (they start in parallel), so
 * its round robin is exact from its first request: with N workers that each count their
 * requests, the first N requests say 1, the next N say 2 (iisnode's tests 124/125). Requests
 * that arrive earlier wait. More precisely the starting phase ends when every slot's first
 * worker has given its verdict: all ready (the normal case), some failed (the generation
 * serves with the ready ones while the failed slots are replaced), or none ready (the start
 * failed: the waiters get that failure). After that, a crashed or retired worker's slot is
 * skipped by the rotation until its successor is ready; the generation keeps serving.
 *
 * ```
 *   acquire() ──▶ still starting (a slot has no verdict yet) ──▶ undefined: waitForWorker() queues
 *        │
 *        ├─────▶ policy.select(ready, not full) ──▶ Worker          (active++)
 *        │ none selectable
 *        ├── ready workers all full, none starting ─▶ NH_ERR_APP_FULL  503.1002, at once
 *        ├── last start attempt failed ────────────▶ that WorkerError  500.1002/1001/1028, at once
 *        └── workers still starting ───────────────▶ undefined: waitForWorker() queues
 *                                                     (ring buffer; woken by onWorkerReady,
 *                                                      failed by onWorkerFailed or the budget;
 *                                                      at most the slots' capacity waits, the
 *                                                      rest get NH_ERR_APP_FULL at once)
 * ```
 *
 * A recycle makes a new WorkerPool (the next generation, `generation` counts them); the
 * Recycler decides which generation gets requests. Inside one generation, nodehost's own
 * limits (maxRequestsPerProcess, maxMemoryPerProcessMB) retire a single worker: a successor
 * takes its slot at once and the retired worker drains like a recycled one.
 */
import fs from 'node:fs';
import os from 'node:os';
import { NodehostError } from '../errors.js';
import type { IisnodeSettings } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import { buildNodeCommand, type NodeCommand } from './command-line.js';
import { processShare, type FrontDoor } from './front-door-share.js';
import { RingQueue } from './ring-queue.js';
import type { RunDir } from './run-dir.js';
import { RoundRobinPolicy, type SelectionPolicy } from './selection.js';
import type { HealthProblem } from './heartbeat.js';
import { Worker, WorkerError, buildWorkerEnv, type OutputHook, type WorkerOwner } from './worker.js';

/** First replacement delay after a worker crashed soon after its predecessor. */
export const BACKOFF_MIN_MS = 100;
/** Longest replacement delay. */
export const BACKOFF_MAX_MS = 10_000;
/** A worker that stayed ready this long resets its slot's backoff. */
export const STABLE_UPTIME_MS = 10_000;
/**
 * Extra time a waiting request allows beyond the readiness budget. The starting worker's own
 * verdict (ready, or failed with its stderr once the process is gone) normally ends the wait;
 * the waiter's deadline is only the backstop, e.g. while a replacement sits in backoff.
 */
const WAIT_GRACE_MS = 1500;

/** RestartReason names why a worker was replaced (`restartsByReason` in status, `reason` in metrics). */
export type RestartReason = 'exit' | 'start-failure' | 'max-requests' | 'memory' | HealthProblem;

/** How often worker memory is sampled when maxMemoryPerProcessMB is set (the issue asks for at least every 2 s). */
export const MEMORY_SAMPLE_MS = 1000;

/** WorkerPoolListener hears about workers leaving the pool (so the transport can drop their connections). */
export interface WorkerPoolListener {
  onWorkerGone(worker: Worker): void;
  /**
   * onPoolServing: the starting phase ended with at least one ready worker (normally all of
   * them), so the pool takes requests. Called once per pool.
   */
  onPoolServing?(pool: WorkerPool): void;
  /** onPoolFailed: a start attempt failed and no worker of the pool is ready (after the starting phase). */
  onPoolFailed?(pool: WorkerPool, error: WorkerError): void;
}

/** WorkerPoolOptions configures one generation. Settings are read once, at construction. */
export interface WorkerPoolOptions {
  readonly scriptPath: string;
  readonly settings: Readonly<IisnodeSettings>;
  readonly appSettings: readonly (readonly [string, string])[];
  readonly runDir: RunDir;
  readonly log: HostLog;
  readonly policy?: SelectionPolicy;
  readonly onOutput?: OutputHook;
  readonly listener?: WorkerPoolListener;
  /** Host environment the workers inherit; process.env by default. */
  readonly hostEnv?: NodeJS.ProcessEnv;
  /** Which generation of the application this pool is (1 for the first). */
  readonly generation?: number;
  /** Given to every worker as IISNODE_CONTROL_PIPE (recycleSignalEnabled). */
  readonly controlPipePath?: string;
  /** The front door this pool belongs to (hostProcesses > 1): it runs only its share of the processes. */
  readonly frontDoor?: FrontDoor | undefined;
  /** Counts restarts by reason across the generations of the application (metrics); absent: this pool's own. */
  readonly restartTally?: Record<string, number> | undefined;
}

/** WorkerPoolStats is a plain snapshot (STYLE 15). */
export interface WorkerPoolStats {
  /** Slots (nodeProcessCountPerApplication, or this front door's share of it). */
  readonly workers: number;
  /** Workers that take requests now. */
  readonly ready: number;
  /** Ready workers that have maxConcurrentRequestsPerProcess active requests (take no more). */
  readonly busy: number;
  /** Requests in flight on this generation. */
  readonly active: number;
  /** Requests ever dispatched to this generation. */
  readonly total: number;
  /** Requests waiting for a worker to become ready. */
  readonly waiting: number;
  /** Workers started to replace one that exited or failed. */
  readonly restarts: number;
  /** True while the last start attempt failed and no worker is ready (a crash loop). */
  readonly isFailing: boolean;
  /** Pids of the current workers (0 for a slot whose process is not running). */
  readonly pids: readonly number[];
  /** Workers retired by a limit (requests, memory) that are still draining. */
  readonly retiring: number;
  /** Restarts by reason: `exit` (the process exited), `start-failure` (it never became ready), `max-requests`, `memory`, `event-loop`, `heap` (retired by a limit). */
  readonly restartReasons: Readonly<Record<string, number>>;
  /** Exit code of the last worker of this generation that exited (null: none exited, or it was killed by a signal). */
  readonly lastExitCode: number | null;
  /** Signal that ended the last worker that exited ('' when none, or it exited with a code). */
  readonly lastExitSignal: string;
  /** One entry per slot: its current process. */
  readonly processes: readonly WorkerProcessStats[];
}

/** WorkerProcessStats is a snapshot of one worker process (STYLE 15). */
export interface WorkerProcessStats {
  readonly pid: number;
  readonly state: string;
  /** Date.now() at spawn and at readiness (0 until then). */
  readonly spawnedAt: number;
  readonly readyAt: number;
  readonly active: number;
  readonly total: number;
}

/** Waiter is one request waiting for readiness; fixed shape. */
class Waiter {
  readonly deadline: number;
  readonly resolve: (result: Worker | NodehostError) => void;
  constructor(deadline: number, resolve: (result: Worker | NodehostError) => void) {
    this.deadline = deadline;
    this.resolve = resolve;
  }
}

/** Slot state besides its current worker. */
class Slot {
  backoffMs = 0;
  timer: NodeJS.Timeout | undefined = undefined;
  /** True once the slot's first worker became ready or failed (the end of its starting phase). */
  hasVerdict = false;
}

/**
 * WorkerPool: `start()` spawns every slot; `acquire()` picks a worker or says why not;
 * `waitForWorker()` waits for readiness; `release(worker)` ends a request. `close()` drains
 * and stops every worker within gracefulShutdownTimeout; `destroy()` kills them. Both idempotent.
 */
export class WorkerPool implements WorkerOwner {
  readonly scriptPath: string;
  readonly settings: Readonly<IisnodeSettings>;
  readonly count: number;
  readonly maxActivePerWorker: number;
  readonly readinessBudgetMs: number;
  readonly command: NodeCommand;
  /** Which generation of the application this pool is (1 for the first). */
  readonly generation: number;
  /** Current worker of each slot (a failed or exited one until its replacement starts). */
  readonly workers: Worker[] = [];
  total = 0;
  restarts = 0;
  /** Restarts by reason (see WorkerPoolStats.restartReasons). */
  readonly restartReasons: Record<string, number> = {};
  readonly #restartTally: Record<string, number> | undefined;
  lastExitCode: number | null = null;
  lastExitSignal = '';

  readonly #options: WorkerPoolOptions;
  readonly #policy: SelectionPolicy;
  readonly #slots: Slot[] = [];
  readonly #waiters = new RingQueue<Waiter>();
  /** Workers replaced by a limit, draining until they exit. */
  readonly #retired = new Set<Worker>();
  #memoryTimer: NodeJS.Timeout | undefined = undefined;
  #waitTimer: NodeJS.Timeout | undefined = undefined;
  #startupFailure: WorkerError | undefined = undefined;
  /** Slots whose first worker has not become ready or failed yet; the pool serves once this is 0. */
  #slotsStarting = 0;
  #isClosed = false;
  #closing: Promise<void> | undefined = undefined;

  /** The constructor has no side effects; `start()` spawns the workers. */
  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.scriptPath = options.scriptPath;
    this.settings = options.settings;
    const configured = options.settings.nodeProcessCountPerApplication;
    this.count = processShare(configured > 0 ? configured : Math.max(1, os.availableParallelism()), options.frontDoor);
    this.maxActivePerWorker = options.settings.maxConcurrentRequestsPerProcess;
    this.readinessBudgetMs = options.settings.maxNamedPipeConnectionRetry * options.settings.namedPipeConnectionRetryDelay;
    this.command = buildNodeCommand(options.settings.nodeProcessCommandLine, options.settings.interceptor);
    this.#policy = options.policy ?? new RoundRobinPolicy();
    this.generation = options.generation ?? 1;
    this.#restartTally = options.restartTally;
  }

  /** isStarting tells whether some slot's first worker has not become ready or failed yet (no request is dispatched then). */
  get isStarting(): boolean {
    return this.#slotsStarting > 0;
  }

  /** isClosed tells whether the pool has stopped taking requests. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** start spawns all workers at once (spec 2.1: processes are created eagerly). Call once. */
  start(): void {
    for (const warning of this.command.warnings) this.#options.log.warn(warning, { script: this.scriptPath });
    this.#slotsStarting = this.count;
    for (let slot = 0; slot < this.count; slot++) {
      this.#slots.push(new Slot());
      this.#spawn(slot);
    }
    if (this.settings.maxMemoryPerProcessMB > 0) {
      this.#memoryTimer = setInterval(() => this.#checkMemory(), MEMORY_SAMPLE_MS);
      this.#memoryTimer.unref();
    }
  }

  /** hasReadyWorker tells whether some worker of this generation takes requests now. */
  get hasReadyWorker(): boolean {
    return this.#hasReadyWorker();
  }

  /**
   * acquire returns a worker for one request and counts it active; or the error to answer
   * with at once (503.1002 when every ready worker is full, the last start failure while the
   * app cannot start, 503.1001 after close); or undefined when workers are still starting and
   * the caller should `waitForWorker()`. Nothing is dispatched while the pool `isStarting`.
   */
  acquire(): Worker | NodehostError | undefined {
    if (this.#isClosed) return new NodehostError('NH_ERR_APP_RECYCLING', 'The application is shutting down.');
    if (this.#slotsStarting > 0) return undefined;
    const index = this.#policy.select(this.workers, this.maxActivePerWorker);
    if (index >= 0) return this.#take(index);
    if (this.#hasReadyWorker() && !this.#hasStartingWorker()) {
      return new NodehostError('NH_ERR_APP_FULL', `Every process of ${this.scriptPath} has ${this.maxActivePerWorker} active requests.`);
    }
    return this.#startupFailure;
  }

  /**
   * acquireAnother returns a ready worker other than `failed` with room for one more request
   * (counted active), for a request that `failed` could not answer; undefined when none has room.
   */
  acquireAnother(failed: Worker): Worker | undefined {
    if (this.#isClosed || this.#slotsStarting > 0) return undefined;
    const candidates = this.workers.map((worker) => (worker === failed ? UNSELECTABLE : worker));
    const index = this.#policy.select(candidates, this.maxActivePerWorker);
    return index >= 0 ? this.#take(index) : undefined;
  }

  /**
   * waitForWorker resolves with a worker (counted active) as soon as one is ready, or with
   * the error that ends the wait: the start failure, 503.1002 when the ready workers are full,
   * 500.1001 when the readiness budget runs out, 503.1001 on close. Never rejects.
   */
  waitForWorker(): Promise<Worker | NodehostError> {
    const now = Date.now();
    return new Promise((resolve) => {
      const result = this.acquire();
      if (result !== undefined) {
        resolve(result);
        return;
      }
      if (this.#waiters.size + this.#activeRequests() >= this.count * this.maxActivePerWorker) {
        // The starting workers could not take this one either: refused now, not after their start.
        resolve(new NodehostError('NH_ERR_APP_FULL', `Every process of ${this.scriptPath} has ${this.maxActivePerWorker} requests waiting or active.`));
        return;
      }
      this.#waiters.push(new Waiter(now + this.readinessBudgetMs + WAIT_GRACE_MS, resolve));
      this.#armWaitTimer();
    });
  }

  /** release ends one request acquired from this pool. */
  release(worker: Worker): void {
    worker.endRequest();
  }

  /** stats returns a snapshot of the generation. */
  stats(): WorkerPoolStats {
    let ready = 0;
    let busy = 0;
    let active = 0;
    const pids: number[] = [];
    const processes: WorkerProcessStats[] = [];
    for (const worker of this.workers) {
      processes.push({
        pid: worker.machine.isFinal ? 0 : worker.pid,
        state: worker.state,
        spawnedAt: worker.spawnedAt,
        readyAt: worker.readyAt,
        active: worker.active,
        total: worker.total,
      });
      if (worker.isReady) {
        ready++;
        if (worker.active >= this.maxActivePerWorker) busy++;
      }
      active += worker.active;
      pids.push(worker.machine.isFinal ? 0 : worker.pid);
    }
    return {
      workers: this.count,
      ready,
      busy,
      active,
      total: this.total,
      waiting: this.#waiters.size,
      restarts: this.restarts,
      isFailing: this.#startupFailure !== undefined,
      pids,
      retiring: this.#retired.size,
      restartReasons: { ...this.restartReasons },
      lastExitCode: this.lastExitCode,
      lastExitSignal: this.lastExitSignal,
      processes,
    };
  }

  /**
   * close stops taking requests, fails the waiting ones (503.1001), stops replacing workers,
   * and closes every worker with gracefulShutdownTimeout. Resolves when all are gone. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#shutDown();
    const grace = this.settings.gracefulShutdownTimeout;
    this.#closing = Promise.all([...this.workers, ...this.#retired].map((worker) => worker.close(grace))).then(noop);
    return this.#closing;
  }

  /** destroy kills every worker at once; in-flight requests fail. Idempotent. */
  destroy(): void {
    this.#shutDown();
    for (const worker of this.workers) worker.destroy();
    for (const worker of this.#retired) worker.destroy();
  }

  onWorkerReady(worker: Worker): void {
    const slotIndex = this.workers.indexOf(worker);
    if (slotIndex === -1) return;
    this.#startupFailure = undefined;
    if (this.#slotsStarting > 0) {
      // Siblings still starting: requests wait, so the rotation is exact from the first one.
      if (!this.#recordVerdict(slotIndex)) return;
      this.#serveWaiters();
      this.#options.listener?.onPoolServing?.(this);
      return;
    }
    this.#serveWaiters();
  }

  onWorkerFailed(worker: Worker, error: WorkerError): void {
    this.#options.listener?.onWorkerGone(worker);
    if (this.#retired.delete(worker) || this.#isClosed) return;
    this.#startupFailure = error;
    const isStarting = this.#slotsStarting > 0;
    // While siblings are still starting the verdict waits for them; this slot is replaced meanwhile.
    const isVerdict = isStarting ? this.#recordVerdict(this.workers.indexOf(worker)) : true;
    if (isVerdict && this.#hasReadyWorker()) {
      // The last verdict of the starting phase: serve with the ready workers while this slot is replaced.
      if (isStarting) {
        this.#serveWaiters();
        this.#options.listener?.onPoolServing?.(this);
      }
    } else if (isVerdict) {
      // The app cannot start right now: waiting requests get the failure at once instead of
      // sitting through the backoff (and later ones too, until a worker becomes ready).
      this.#failWaiters(error);
      this.#options.listener?.onPoolFailed?.(this, error);
    }
    this.#replace(worker);
  }

  /** onWorkerUnhealthy replaces a worker whose heartbeat failed (maxEventLoopBlockMs, maxHeapMB) as a memory limit would. */
  onWorkerUnhealthy(worker: Worker, problem: HealthProblem, detail: string): void {
    const slotIndex = this.workers.indexOf(worker);
    if (slotIndex !== -1) this.#retire(slotIndex, detail, problem);
  }

  onWorkerExit(worker: Worker): void {
    this.#options.listener?.onWorkerGone(worker);
    if (this.#retired.delete(worker) || this.#isClosed) return;
    this.#replace(worker);
  }

  /** take counts a request on the worker of a slot, retiring it when that reaches maxRequestsPerProcess. */
  #take(index: number): Worker {
    const worker = this.workers[index];
    worker.beginRequest();
    this.total++;
    if (this.settings.maxRequestsPerProcess > 0 && worker.total >= this.settings.maxRequestsPerProcess)
      this.#retire(index, 'maxRequestsPerProcess reached', 'max-requests');
    return worker;
  }

  /** spawn starts a worker in a slot; it is in `workers` before it starts, since a spawn can fail synchronously. */
  #spawn(slotIndex: number): void {
    const { id, socketPath } = this.#options.runDir.nextSocket();
    const settings = this.settings;
    const env = buildWorkerEnv(this.#options.hostEnv ?? process.env, this.#options.appSettings, socketPath, settings.node_env);
    if (this.#options.controlPipePath !== undefined) env.IISNODE_CONTROL_PIPE = this.#options.controlPipePath;
    const worker = new Worker({
      id,
      scriptPath: this.scriptPath,
      socketPath,
      command: this.command,
      env,
      readinessBudgetMs: this.readinessBudgetMs,
      maxPollDelayMs: settings.namedPipeConnectionRetryDelay,
      log: this.#options.log,
      owner: this,
      onOutput: this.#options.onOutput,
      health: { maxEventLoopBlockMs: settings.maxEventLoopBlockMs, maxHeapBytes: settings.maxHeapMB * 1024 * 1024 },
    });
    this.workers[slotIndex] = worker;
    worker.start();
  }

  /** replace starts a successor in the slot of a worker that exited or failed, with backoff. */
  #replace(worker: Worker): void {
    const slotIndex = this.workers.indexOf(worker);
    if (slotIndex === -1) return;
    const slot = this.#slots[slotIndex];
    if (slot.timer !== undefined) return;
    this.#countRestart(worker.failure !== undefined && worker.readyAt === 0 ? 'start-failure' : 'exit');
    if (worker.exitCode !== null || worker.signalCode !== null) {
      this.lastExitCode = worker.exitCode;
      this.lastExitSignal = worker.signalCode ?? '';
    }
    if (worker.readyAt > 0 && Date.now() - worker.readyAt >= STABLE_UPTIME_MS) slot.backoffMs = 0;
    const delay = slot.backoffMs;
    slot.backoffMs = delay === 0 ? BACKOFF_MIN_MS : Math.min(delay * 2, BACKOFF_MAX_MS);
    if (delay === 0) {
      this.#respawn(slotIndex);
      return;
    }
    this.#options.log.warn('worker backoff', { script: this.scriptPath, slot: slotIndex, ms: delay });
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      this.#respawn(slotIndex);
    }, delay);
  }

  #countRestart(reason: RestartReason): void {
    this.restartReasons[reason] = (this.restartReasons[reason] ?? 0) + 1;
    if (this.#restartTally !== undefined) this.#restartTally[reason] = (this.#restartTally[reason] ?? 0) + 1;
  }

  #respawn(slotIndex: number): void {
    if (this.#isClosed) return;
    this.restarts++;
    this.#spawn(slotIndex);
  }

  /**
   * retire replaces the worker of a slot gracefully (a limit was reached): a successor takes the
   * slot at once, the worker takes no new requests and stops once its requests are done.
   */
  #retire(slotIndex: number, reason: string, restartReason: RestartReason): void {
    if (this.#isClosed) return;
    const worker = this.workers[slotIndex];
    if (worker === undefined || !worker.isReady) return;
    this.#options.log.info('worker retired', { script: this.scriptPath, worker: worker.id, pid: worker.pid, reason });
    this.#retired.add(worker);
    this.restarts++;
    this.#countRestart(restartReason);
    this.#spawn(slotIndex);
    void worker.close(this.settings.gracefulShutdownTimeout);
  }

  /** checkMemory retires every ready worker whose resident set is over maxMemoryPerProcessMB. */
  #checkMemory(): void {
    if (this.#isClosed) return;
    const budget = this.settings.maxMemoryPerProcessMB * 1024 * 1024;
    for (let slot = 0; slot < this.workers.length; slot++) {
      const worker = this.workers[slot];
      if (!worker.isReady) continue;
      const rss = readRss(worker.pid);
      if (rss > budget) this.#retire(slot, `resident memory ${Math.round(rss / 1048576)} MB over maxMemoryPerProcessMB`, 'memory');
    }
  }

  /**
   * recordVerdict notes that the first worker of a slot became ready or failed; returns true
   * when that ended the starting phase (every slot has its verdict).
   */
  #recordVerdict(slotIndex: number): boolean {
    const slot = this.#slots[slotIndex];
    if (slot === undefined || slot.hasVerdict) return false;
    slot.hasVerdict = true;
    this.#slotsStarting--;
    return this.#slotsStarting === 0;
  }

  #activeRequests(): number {
    let active = 0;
    for (const worker of this.workers) active += worker.active;
    return active;
  }

  #hasReadyWorker(): boolean {
    for (const worker of this.workers) if (worker.isReady) return true;
    return false;
  }

  /** hasStartingWorker: a worker of this generation is starting, so capacity is about to grow. */
  #hasStartingWorker(): boolean {
    for (const worker of this.workers) if (worker.state === 'starting') return true;
    return false;
  }

  #serveWaiters(): void {
    while (this.#waiters.size > 0) {
      const index = this.#policy.select(this.workers, this.maxActivePerWorker);
      if (index < 0) {
        // Ready workers exist but are all full, and none is about to start: the no-queue rule
        // applies to waiters too. While a worker is still starting, they wait for it instead.
        const error = new NodehostError('NH_ERR_APP_FULL', `Every process of ${this.scriptPath} has ${this.maxActivePerWorker} active requests.`);
        if (this.#hasReadyWorker() && !this.#hasStartingWorker()) this.#failWaiters(error);
        return;
      }
      this.#waiters.shift()!.resolve(this.#take(index));
    }
    this.#disarmWaitTimer();
  }

  #failWaiters(error: NodehostError): void {
    for (let waiter = this.#waiters.shift(); waiter !== undefined; waiter = this.#waiters.shift()) waiter.resolve(error);
    this.#disarmWaitTimer();
  }

  /** One timer for all waiters: they share one budget, so the head always expires first. */
  #armWaitTimer(): void {
    if (this.#waitTimer !== undefined) return;
    const head = this.#waiters.peek();
    if (head === undefined) return;
    this.#waitTimer = setTimeout(() => this.#expireWaiters(), Math.max(0, head.deadline - Date.now()));
  }

  #disarmWaitTimer(): void {
    if (this.#waitTimer !== undefined) clearTimeout(this.#waitTimer);
    this.#waitTimer = undefined;
  }

  #expireWaiters(): void {
    this.#waitTimer = undefined;
    const now = Date.now();
    let error: WorkerError | undefined;
    for (let head = this.#waiters.peek(); head !== undefined && head.deadline <= now; head = this.#waiters.peek()) {
      error ??= this.#notReadyError();
      this.#waiters.shift()!.resolve(error);
    }
    this.#armWaitTimer();
  }

  #notReadyError(): WorkerError {
    const starting = this.workers.find((worker) => worker.state === 'starting');
    return new WorkerError(
      'NH_ERR_WORKER_NOT_LISTENING',
      `No process of ${this.scriptPath} accepted a connection on PORT within ${this.readinessBudgetMs} ms.`,
      starting?.stderrTail.text() ?? '',
      starting?.pid ?? 0,
    );
  }

  #shutDown(): void {
    if (!this.#isClosed) {
      this.#isClosed = true;
      this.#failWaiters(new NodehostError('NH_ERR_APP_RECYCLING', 'The application is shutting down.'));
    }
    for (const slot of this.#slots) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    if (this.#memoryTimer !== undefined) clearInterval(this.#memoryTimer);
    this.#memoryTimer = undefined;
  }
}

/** UNSELECTABLE stands in for a worker that a selection must skip. */
const UNSELECTABLE = { isReady: false, active: 0 } as const;

const PAGE_SIZE = 4096;

/** readRss returns the resident set size of a process in bytes (0 when it cannot be read). */
function readRss(pid: number): number {
  if (pid <= 0) return 0;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(fields[1]) * PAGE_SIZE;
  } catch {
    return 0;
  }
}

function noop(): void {}

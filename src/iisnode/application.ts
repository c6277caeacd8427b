/**
 * Application is one entry script with its settings and its generations of workers. It
 * coordinates the parts that each hold one idea:
 *
 * ```
 *   Application ── handle(ctx) ──▶ Recycler.current ── Generation ── WorkerPool ── Worker
 *        │                              │ none yet (pending, idle) ─▶ WaitingRequests
 *        ├── ConfigRefresh    web.config reload / iisnode.yml change → settings, config error
 *        ├── RecycleTriggers  watchedFiles, iisnode.yml, IISNODE_CONTROL_PIPE
 *        ├── IdleTimer        idleTimeout stops the workers; the next request wakes them
 *        └── DebuggeeSession  a one-worker generation with the inspector (debuggingEnabled)
 * ```
 *
 * The Recycler moves generations between pending, current and draining (generation-state.ts
 * declares the moves); a generation answers the failures of its own exchanges.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { NodehostError } from '../errors.js';
import type { FolderConfig, IisnodeSettings } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import type { RequestContext } from '../http/request-context.js';
import { fail, NO_WORKER_DIAGNOSTICS } from '../http/error-outcome.js';
import { ConfigRefresh, type ResolvedSettings } from './config-refresh.js';
import { DebuggeeSession } from './debuggee-session.js';
import type { DebuggeeHandle } from './debugger/debugger-host.js';
import type { FrontDoor } from './front-door-share.js';
import { Generation, type GenerationListener } from './generation.js';
import { IdleTimer } from './idle-timer.js';
import { RecycleTriggers } from './recycle-triggers.js';
import { Recycler, type RecycleResult } from './recycler.js';
import type { RunDir } from './run-dir.js';
import { WaitingRequests } from './waiting-requests.js';
import type { OutputHook } from './worker.js';
import type { WorkerPoolStats } from './worker-pool.js';

/**
 * RECYCLE_CHANNEL (`nodehost:application:recycle`) announces each recycle of an application
 * as `{ scriptPath, reason }`, as it starts, and an overlapped one again when the new generation
 * has taken over; the output cache drops what the old code answered.
 */
const RECYCLE_CHANNEL = diagnosticsChannel.channel('nodehost:application:recycle');

/** ApplicationOptions is what AppHost gives each application. */
export interface ApplicationOptions {
  readonly scriptPath: string;
  readonly settings: Readonly<IisnodeSettings>;
  readonly appSettings: readonly (readonly [string, string])[];
  readonly runDir: RunDir;
  readonly log: HostLog;
  readonly onOutput?: OutputHook;
  /** The configuration the settings came from (compared by identity to notice a reload). */
  readonly folder?: FolderConfig;
  /** Re-reads the settings from a folder configuration (web.config reload, iisnode.yml change). */
  readonly resolve?: (folder: FolderConfig) => ResolvedSettings;
  /** Absolute path of the configOverrides file (iisnode.yml), watched for configuration changes. */
  readonly ymlFile?: string | undefined;
  /** Whether to watch files (off in unit tests that do not need it). Default true. */
  readonly isWatching?: boolean;
  /** The front door this application runs in (hostProcesses > 1); its pools run that front door's share of the processes. */
  readonly frontDoor?: FrontDoor | undefined;
  /**
   * Receives the `recycle` messages of IISNODE_CONTROL_PIPE instead of this application, so
   * the host can recycle the application in every front door. Absent: this application recycles.
   */
  readonly onRecycleSignal?: ((scriptPath: string) => void) | undefined;
}

/** ApplicationStats is a snapshot of one application (STYLE 15); the pool fields are the serving generation's. */
export interface ApplicationStats extends WorkerPoolStats {
  readonly script: string;
  /** Number of the serving generation (1 for the first, +1 per recycle). */
  readonly generation: number;
  /** Recycles started. */
  readonly recycles: number;
  /** Recycles whose new generation could not start (failed deploys). */
  readonly failedRecycles: number;
  /** Open connections to the serving generation's workers: kept for reuse (idle) and carrying an exchange (busy). */
  readonly upstreamConnections: { readonly idle: number; readonly busy: number };
  /** True while a new generation is starting. */
  readonly isRecycling: boolean;
  /** Old generations still draining. */
  readonly draining: number;
  /** Requests waiting for a starting generation. */
  readonly waitingForGeneration: number;
  /** Why the last recycle failed to start ('' when it did not), e.g. a syntax error. */
  readonly lastRecycleError: string;
  /** The configuration error that keeps the last good settings in force ('' when none). */
  readonly configError: string;
  /** True when the workers were stopped by idleTimeout (the next request starts them). */
  readonly isIdle: boolean;
  /** Restarts by reason over every generation of the application (never reset, unlike `restartReasons`). */
  readonly restartsByReason: Readonly<Record<string, number>>;
}

const EMPTY_POOL_STATS: WorkerPoolStats = {
  workers: 0,
  ready: 0,
  busy: 0,
  active: 0,
  total: 0,
  waiting: 0,
  restarts: 0,
  isFailing: false,
  pids: [],
  retiring: 0,
  restartReasons: {},
  lastExitCode: null,
  lastExitSignal: '',
  processes: [],
};

/**
 * Application: `start()` spawns its first generation and starts watching; `handle(ctx)`
 * forwards one request and resolves when its response is complete (never rejects);
 * `recycle(reason)` starts a new generation and resolves when it serves or failed;
 * `close()` drains, `destroy()` kills, both idempotent.
 */
export class Application {
  readonly scriptPath: string;
  readonly #options: ApplicationOptions;
  readonly #log: HostLog;
  readonly #recycler: Recycler;
  readonly #waiting = new WaitingRequests();
  readonly #config: ConfigRefresh;
  readonly #triggers: RecycleTriggers;
  readonly #idle: IdleTimer;
  #isIdle = false;
  #isClosed = false;
  /** Restarts by reason over every generation (counters for /metrics; never reset). */
  readonly #restartTally: Record<string, number> = {};
  #closing: Promise<void> | undefined = undefined;
  /** The settings of the newest generation (the ones a recycle starts with). */
  #settings: Readonly<IisnodeSettings>;
  #appSettings: readonly (readonly [string, string])[];

  /** The constructor has no side effects; `start()` spawns the workers. */
  constructor(options: ApplicationOptions) {
    this.scriptPath = options.scriptPath;
    this.#options = options;
    this.#log = options.log;
    this.#settings = options.settings;
    this.#appSettings = options.appSettings;
    this.#recycler = new Recycler({
      scriptPath: options.scriptPath,
      log: options.log,
      createGeneration: (number, settings, appSettings, listener) => this.#createGeneration(number, settings, appSettings, listener),
      onSettled: () => this.#waiting.serveAll((ctx) => this.handle(ctx)),
    });
    this.#config = new ConfigRefresh({
      scriptPath: options.scriptPath,
      log: options.log,
      folder: options.folder,
      resolve: options.resolve,
      ymlFile: options.ymlFile,
    });
    this.#triggers = new RecycleTriggers({
      scriptPath: options.scriptPath,
      runDir: options.runDir,
      ymlFile: options.ymlFile,
      isWatching: options.isWatching !== false,
      onYmlChanged: () => this.#config.markYmlChanged(),
      onFilesChanged: (files) => this.#onFilesChanged(files),
      onRecycleSignal: () => this.#onRecycleSignal(),
    });
    this.#idle = new IdleTimer({
      idleMs: () => this.#settings.idleTimeout,
      isBusy: () => this.#isClosed || this.#recycler.pending !== undefined || (this.#recycler.current?.pool.stats().active ?? 1) > 0,
      onIdle: (idleMs) => this.#goIdle(idleMs),
    });
  }

  /** settings are the settings of the newest generation. */
  get settings(): Readonly<IisnodeSettings> {
    return this.#settings;
  }

  /** folder is the configuration the settings were last resolved from. */
  get folder(): FolderConfig | undefined {
    return this.#config.folder;
  }

  /** start spawns all workers of the first generation and starts watching. Call once. */
  start(): void {
    this.#recycler.startFirst(this.#settings, this.#appSettings);
    this.#triggers.watch(this.#settings);
    this.#idle.arm();
  }

  /**
   * updateFolder records the configuration of a request after a web.config reload: the next
   * request re-resolves the settings and recycles when they changed.
   */
  updateFolder(folder: FolderConfig): void {
    this.#config.updateFolder(folder);
  }

  /**
   * handle forwards the request to a worker and writes the whole response, or the iisnode
   * error page when that fails before the response head. Resolves when the response is
   * complete or the client went away; never rejects.
   */
  handle(ctx: RequestContext): Promise<void> {
    this.#idle.touch();
    if (this.#config.isDirty) this.#refreshConfig(false);
    const configError = this.#config.configError;
    if (configError !== undefined && ctx.maySeeInternals && !this.#isClosed) {
      // The last good configuration keeps serving; loopback clients see what is wrong.
      ctx.sendError(fail(configError, { isConfigError: true }));
      return Promise.resolve();
    }
    if (this.#recycler.pending !== undefined && !this.#recycler.isOverlapping) return this.#waitForGeneration(ctx);
    const generation = this.#recycler.current;
    if (generation === undefined) {
      if (this.#isClosed) {
        answerClosed(ctx);
        return Promise.resolve();
      }
      // Stopped by idleTimeout: this request starts the application again.
      this.#isIdle = false;
      this.#log.info('app waking', { script: this.scriptPath });
      this.#startGeneration(this.#settings, this.#appSettings);
      return this.#waitForGeneration(ctx);
    }
    generation.sticky?.prefer(ctx);
    const result = generation.pool.acquire();
    generation.sticky?.done();
    if (result === undefined) return this.#handleAfterWait(ctx, generation);
    if (result instanceof NodehostError) {
      generation.fail(ctx, result);
      return Promise.resolve();
    }
    return generation.dispatchTo(ctx, result);
  }

  /**
   * recycle starts a new generation (with the newest settings) and resolves when it serves,
   * or when it could not start (`isServing` false); overlapped when overlappedRecycle is on.
   * Never rejects.
   */
  recycle(reason: string): Promise<RecycleResult> {
    return this.#recycle(reason, this.#settings.overlappedRecycle);
  }

  #recycle(reason: string, isOverlapped: boolean): Promise<RecycleResult> {
    const recycler = this.#recycler;
    if (this.#isClosed) return Promise.resolve({ generation: recycler.current?.number ?? 0, isServing: false, error: 'the application is shutting down' });
    // Idle or not, what the application answered before may have changed (the output cache listens).
    if (RECYCLE_CHANNEL.hasSubscribers) RECYCLE_CHANNEL.publish({ scriptPath: this.scriptPath, reason });
    if (recycler.current === undefined && recycler.pending === undefined) {
      // Idle: there is nothing to replace; the next request starts the newest code anyway.
      return Promise.resolve({ generation: recycler.generations, isServing: true });
    }
    const promise = recycler.whenSettled();
    // Overlapped, the old code answers until the switch: what it answered meanwhile is old too.
    if (isOverlapped && RECYCLE_CHANNEL.hasSubscribers) void promise.then(() => RECYCLE_CHANNEL.publish({ scriptPath: this.scriptPath, reason }));
    this.#log.info('app recycling', { script: this.scriptPath, reason, generation: recycler.generations + 1, isOverlapped });
    this.#startGeneration(this.#settings, this.#appSettings, isOverlapped);
    return promise;
  }

  /**
   * enterDebug (the debugger's hook) starts a generation of one worker with `settings` (the
   * inspector flag in its command line) that takes every new request, like a recycle; the
   * settings of later recycles stay the normal ones. `onGone` hears that worker exit or fail.
   * `leave()` kills the debuggee and recycles back to a normal generation.
   */
  enterDebug(settings: Readonly<IisnodeSettings>, onGone: () => void): DebuggeeHandle {
    this.#log.info('app recycling', { script: this.scriptPath, reason: 'debug session', generation: this.#recycler.generations + 1 });
    const debug = this.#recycler.start(settings, this.#appSettings);
    this.#triggers.watch(this.#settings);
    return new DebuggeeSession(debug, onGone, (generation) => {
      void this.recycle('debug session ended');
      this.#recycler.destroyGeneration(generation, 'debug session ended');
    });
  }

  /** close stops taking requests, lets in-flight ones finish (gracefulShutdownTimeout), stops the workers. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#shutDown();
    this.#closing = this.#recycler.close();
    return this.#closing;
  }

  /** destroy kills the workers; in-flight requests fail. */
  destroy(): void {
    this.#shutDown();
    this.#recycler.destroy();
  }

  /** stats returns a snapshot of the serving generation and the recycle state. */
  stats(): ApplicationStats {
    const recycler = this.#recycler;
    const serving = recycler.current ?? recycler.pending;
    return {
      script: this.scriptPath,
      ...(serving?.pool.stats() ?? EMPTY_POOL_STATS),
      generation: recycler.current?.number ?? 0,
      recycles: recycler.recycles,
      failedRecycles: recycler.failedRecycles,
      upstreamConnections: serving?.transport.connections() ?? { idle: 0, busy: 0 },
      isRecycling: recycler.pending !== undefined,
      draining: recycler.draining,
      waitingForGeneration: this.#waiting.size,
      lastRecycleError: recycler.lastRecycleError,
      configError: this.#config.configError?.message ?? '',
      isIdle: this.#isIdle,
      restartsByReason: { ...this.#restartTally },
    };
  }

  #createGeneration(
    number: number,
    settings: Readonly<IisnodeSettings>,
    appSettings: readonly (readonly [string, string])[],
    listener: GenerationListener,
  ): Generation {
    const options = this.#options;
    return new Generation({
      scriptPath: options.scriptPath,
      number,
      settings,
      appSettings,
      runDir: options.runDir,
      log: options.log,
      listener,
      onOutput: options.onOutput,
      frontDoor: options.frontDoor,
      controlPipePath: this.#triggers.controlPipePath(settings),
      restartTally: this.#restartTally,
    });
  }

  #startGeneration(settings: Readonly<IisnodeSettings>, appSettings: readonly (readonly [string, string])[], isOverlapped = false): void {
    this.#settings = settings;
    this.#appSettings = appSettings;
    this.#recycler.start(settings, appSettings, isOverlapped);
    this.#triggers.watch(settings);
  }

  #onRecycleSignal(): void {
    const relay = this.#options.onRecycleSignal;
    if (relay === undefined) void this.recycle('recycle signal');
    else relay(this.scriptPath);
  }

  /**
   * waitForGeneration queues a request for the starting generation, unless as many are waiting
   * as its processes can take (nodeProcessCountPerApplication × maxConcurrentRequestsPerProcess):
   * those past that would get 503.1002 once it serves, so they get it now instead of after the
   * start (an app started by a crowd of 400 clients answered its refusals seconds late).
   */
  #waitForGeneration(ctx: RequestContext): Promise<void> {
    const pending = this.#recycler.pending;
    if (pending !== undefined && this.#waiting.size >= pending.pool.count * pending.pool.maxActivePerWorker) {
      pending.fail(ctx, new NodehostError('NH_ERR_APP_FULL', `Every process of ${this.scriptPath} has ${pending.pool.maxActivePerWorker} requests waiting.`));
      return Promise.resolve();
    }
    return this.#waiting.wait(ctx);
  }

  async #handleAfterWait(ctx: RequestContext, generation: Generation): Promise<void> {
    const result = await generation.pool.waitForWorker();
    if (result instanceof NodehostError) {
      // The generation was replaced while this request waited for it: the new one serves it.
      if (result.code === 'NH_ERR_APP_RECYCLING' && generation !== this.#recycler.current && !this.#isClosed) return this.handle(ctx);
      generation.fail(ctx, result);
      return;
    }
    return generation.dispatchTo(ctx, result);
  }

  /** refreshConfig applies a re-read configuration: changed settings recycle with the new ones. */
  #refreshConfig(force: boolean): void {
    const change = this.#config.refresh(this.#settings, this.#appSettings, force, this.#isClosed);
    if (change === undefined) return;
    this.#settings = change.settings;
    this.#appSettings = change.appSettings;
    // The very next request must see the new configuration (iisnode's tests 125/126): it waits.
    void this.#recycle(change.reason, false);
  }

  #onFilesChanged(files: string[]): void {
    if (this.#isClosed) return;
    const ymlFile = this.#config.ymlFile;
    const others = files.filter((file) => file !== ymlFile);
    if (others.length === 0) {
      // Only iisnode.yml: handled here unless a request already did.
      if (this.#config.isDirty) this.#refreshConfig(false);
      return;
    }
    this.#log.info('watched files changed', { script: this.scriptPath, files: others.slice(0, 10), count: others.length });
    if (this.#config.isDirty) this.#refreshConfig(true);
    else void this.recycle('watched files changed');
  }

  #goIdle(idleMs: number): void {
    const current = this.#recycler.current;
    if (current === undefined) return;
    this.#log.info('app idle', { script: this.scriptPath, ms: idleMs });
    this.#isIdle = true;
    this.#recycler.retire(current, 'idleTimeout');
  }

  #shutDown(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#triggers.close();
    this.#idle.close();
    this.#waiting.answerAll(answerClosed);
    const current = this.#recycler.current;
    this.#recycler.settle({ generation: current?.number ?? 0, isServing: false, error: 'the application is shutting down' });
  }
}

/** answerClosed answers a request that reached an application that is shutting down (503.1001). */
function answerClosed(ctx: RequestContext): void {
  ctx.sendError(fail(new NodehostError('NH_ERR_APP_RECYCLING', 'The application is shutting down.'), { worker: NO_WORKER_DIAGNOSTICS }));
}

/**
 * Application is one entry script with its settings, its generations of workers and the
 * transport to them. It turns a request into an exchange with a worker, answers failures with
 * the iisnode error pages, watches the application's files, and recycles.
 *
 * ```
 *   recycle(reason) ──▶ pending generation starts (requests arriving now wait for it)
 *        │                 │ first worker ready                │ cannot start (no worker ready)
 *        │                 ▼                                   ▼
 *        │            current := pending              recycleKeepsOldOnFailure?
 *        │            waiting requests go to it         yes: old stays current, failure reported
 *        │            old generation drains              no:  current := pending (its failure is
 *        │                                                    the answer, as in iisnode)
 *        └─ old generation: no new requests; each worker gets SIGTERM when its active requests
 *           reach 0 and SIGKILL when gracefulShutdownTimeout runs out (Worker.close)
 * ```
 *
 * Without recycleKeepsOldOnFailure the old generation starts draining at once (as iisnode
 * does); with it, the old one keeps its workers until the new one serves. A recycle asked
 * while a generation is still starting replaces that generation (it may have loaded files
 * from before the latest change), and the waiting requests wait for the newest one.
 */
import { NodehostError } from '../errors.js';
import type { FolderConfig, IisnodeSettings } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import type { RequestContext } from '../http/request-context.js';
import { fail, NO_WORKER_DIAGNOSTICS } from '../http/error-outcome.js';
import { ControlPipe } from './control-pipe.js';
import type { FrontDoor } from './front-door-share.js';
import { buildDebugHeader, buildRequestHead, compilePromoteServerVars, type ForwardSettings } from './forward-headers.js';
import { RingQueue } from './ring-queue.js';
import type { RunDir } from './run-dir.js';
import { Exchange, Transport, type ExchangeListener } from './transport.js';
import diagnosticsChannel from 'node:diagnostics_channel';
import { FileWatcher } from './watchers/file-watcher.js';
import { compileNamePattern } from './watchers/watched-files.js';
import { WorkerError, type OutputHook, type Worker } from './worker.js';
import { version } from '../version.js';
import { WorkerPool, type WorkerPoolListener, type WorkerPoolStats } from './worker-pool.js';
import type { DebuggeeHandle } from './debugger/debugger-host.js';
import { StickySessions } from './sticky-sessions.js';
import { forwardUpgrade, isUpgradeRequest } from './websocket/forward-upgrade.js';
import { closeTunnelsAfter } from './websocket/tunnel.js';
import path from 'node:path';

/**
 * How long a failed request waits for its worker's exit to be reported before the developer
 * page is rendered, so a crash's stack trace (read from the stderr pipe) makes it onto the page.
 */
const CRASH_SETTLE_MS = 200;

/** Requests this nodehost process has dispatched to any worker (iisnode-debug `worker_total_req`). */
let hostTotalRequests = 0;

/** ResolvedSettings is what the application's settings resolver returns. */
export interface ResolvedSettings {
  readonly settings: IisnodeSettings;
  readonly appSettings: readonly (readonly [string, string])[];
  /** Configuration errors; when any, the last good settings stay in force. */
  readonly errors: readonly NodehostError[];
}

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
}

/**
 * RECYCLE_CHANNEL (`nodehost:application:recycle`) announces each recycle of an application
 * as `{ scriptPath, reason }`, as it starts; the output cache drops what the old code answered.
 */
export const RECYCLE_CHANNEL = diagnosticsChannel.channel('nodehost:application:recycle');

/** RecycleResult is how a recycle ended. */
export interface RecycleResult {
  readonly generation: number;
  /** True when the new generation serves; false when it could not start. */
  readonly isServing: boolean;
  readonly error?: string;
}

/** Generation is one set of workers with the settings and the transport they were started with. */
class Generation implements WorkerPoolListener, ExchangeListener {
  readonly number: number;
  readonly settings: Readonly<IisnodeSettings>;
  readonly appSettings: readonly (readonly [string, string])[];
  readonly pool: WorkerPool;
  readonly transport: Transport;
  readonly forward: ForwardSettings;
  readonly startedAt = Date.now();
  /** Cookie-based process choice when nodeProcessStickySessions is on. */
  readonly sticky: StickySessions | undefined;
  /** Debugger hook: called when a worker of this generation exits or fails. */
  onGone: (() => void) | undefined = undefined;
  readonly #app: Application;

  constructor(app: Application, number: number, settings: Readonly<IisnodeSettings>, appSettings: readonly (readonly [string, string])[], options: ApplicationOptions, controlPipePath: string | undefined) {
    this.#app = app;
    this.number = number;
    this.settings = settings;
    this.appSettings = appSettings;
    this.forward = { enableXFF: settings.enableXFF, promoted: compilePromoteServerVars(settings.promoteServerVars) };
    this.transport = new Transport({
      poolSize: settings.maxNamedPipeConnectionPoolSize,
      maxIdleMs: settings.maxNamedPipePooledConnectionAge,
      maxHeadBytes: settings.maxRequestBufferSize,
      flushResponse: settings.flushResponse,
    });
    this.sticky = settings.nodeProcessStickySessions ? new StickySessions() : undefined;
    this.pool = new WorkerPool({
      scriptPath: options.scriptPath,
      settings,
      appSettings,
      runDir: options.runDir,
      log: options.log,
      listener: this,
      generation: number,
      ...(this.sticky === undefined ? {} : { policy: this.sticky.policy }),
      ...(controlPipePath === undefined ? {} : { controlPipePath }),
      ...(options.frontDoor === undefined ? {} : { frontDoor: options.frontDoor }),
      ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
    });
  }

  onWorkerGone(worker: Worker): void {
    this.transport.dropTarget(worker);
    this.onGone?.();
  }

  onPoolReady(): void {
    this.#app.onGenerationReady(this);
  }

  onPoolFailed(_pool: WorkerPool, error: WorkerError): void {
    this.#app.onGenerationFailed(this, error);
  }

  onExchangeEnd(exchange: Exchange, error: NodehostError | undefined): void {
    this.pool.release(exchange.target as Worker);
    this.#app.onExchangeEnd(exchange, error, this);
  }

  debugHeader(exchange: Exchange): string | undefined {
    if (!this.settings.debugHeaderEnabled) return undefined;
    const worker = exchange.target as Worker;
    return buildDebugHeader({
      version,
      nodeCommandLine: this.settings.nodeProcessCommandLine,
      nodePid: worker.pid,
      appProcesses: this.pool.count,
      processActiveRequests: worker.active,
      appActiveRequests: this.pool.stats().active,
      hostTotalRequests,
      retries: exchange.retries,
      requestMs: Math.round(exchange.respondedAt - exchange.sentAt),
    });
  }

  /** close drains the generation's workers, then drops its connections. */
  async close(): Promise<void> {
    // Open WebSockets may run until the grace period ends; then they get a 1001 close.
    closeTunnelsAfter(this.pool.workers, this.settings.gracefulShutdownTimeout);
    await this.pool.close();
    this.transport.close();
  }

  destroy(): void {
    this.pool.destroy();
    this.transport.close();
  }
}

/** WaitingRequest is a request waiting for a starting generation; fixed shape. */
class WaitingRequest {
  readonly ctx: RequestContext;
  readonly resolve: () => void;
  constructor(ctx: RequestContext, resolve: () => void) {
    this.ctx = ctx;
    this.resolve = resolve;
  }
}

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
  #current: Generation | undefined = undefined;
  #pending: Generation | undefined = undefined;
  readonly #draining = new Set<Generation>();
  readonly #waiting = new RingQueue<WaitingRequest>();
  #recycleWaiters: ((result: RecycleResult) => void)[] = [];
  #generations = 0;
  #recycles = 0;
  #lastRecycleError = '';
  #folder: FolderConfig | undefined;
  #ymlFile: string | undefined;
  #isConfigDirty = false;
  #isYmlTouched = false;
  #configError: NodehostError | undefined = undefined;
  #watcher: FileWatcher | undefined = undefined;
  #watchKey = '';
  #controlPipe: ControlPipe | undefined = undefined;
  #lastRequestAt = Date.now();
  #idleTimer: NodeJS.Timeout | undefined = undefined;
  #isIdle = false;
  #isClosed = false;
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
    this.#folder = options.folder;
    this.#ymlFile = options.ymlFile;
  }

  /** settings are the settings of the newest generation. */
  get settings(): Readonly<IisnodeSettings> {
    return this.#settings;
  }

  /** folder is the configuration the settings were last resolved from. */
  get folder(): FolderConfig | undefined {
    return this.#folder;
  }

  /** start spawns all workers of the first generation and starts watching. Call once. */
  start(): void {
    this.#current = this.#newGeneration();
    this.#current.pool.start();
    this.#watch();
    this.#armIdleTimer();
  }

  /**
   * updateFolder records the configuration of a request after a web.config reload: the next
   * request re-resolves the settings and recycles when they changed.
   */
  updateFolder(folder: FolderConfig): void {
    if (folder === this.#folder) return;
    this.#folder = folder;
    this.#isConfigDirty = true;
  }

  /**
   * handle forwards the request to a worker and writes the whole response, or the iisnode
   * error page when that fails before the response head. Resolves when the response is
   * complete or the client went away; never rejects.
   */
  handle(ctx: RequestContext): Promise<void> {
    this.#lastRequestAt = Date.now();
    if (this.#isConfigDirty) this.#refreshConfig(false);
    if (this.#configError !== undefined && ctx.isLocal && !this.#isClosed) {
      // The last good configuration keeps serving; loopback clients see what is wrong.
      ctx.sendError(fail(this.#configError, { isConfigError: true }));
      return Promise.resolve();
    }
    if (this.#pending !== undefined) return this.#waitForGeneration(ctx);
    const generation = this.#current;
    if (generation === undefined) {
      if (this.#isClosed) return this.#answerClosed(ctx);
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
      this.#fail(ctx, result, generation);
      return Promise.resolve();
    }
    return this.#forwardTo(ctx, result, generation);
  }

  /**
   * recycle starts a new generation (with the newest settings) and resolves when it serves,
   * or when it could not start (`isServing` false). Never rejects.
   */
  recycle(reason: string): Promise<RecycleResult> {
    if (this.#isClosed) return Promise.resolve({ generation: this.#current?.number ?? 0, isServing: false, error: 'the application is shutting down' });
    // Idle or not, what the application answered before may have changed (the output cache listens).
    if (RECYCLE_CHANNEL.hasSubscribers) RECYCLE_CHANNEL.publish({ scriptPath: this.scriptPath, reason });
    if (this.#current === undefined && this.#pending === undefined) {
      // Idle: there is nothing to replace; the next request starts the newest code anyway.
      return Promise.resolve({ generation: this.#generations, isServing: true });
    }
    const promise = new Promise<RecycleResult>((resolve) => this.#recycleWaiters.push(resolve));
    this.#log.info('app recycling', { script: this.scriptPath, reason, generation: this.#generations + 1 });
    this.#startGeneration(this.#settings, this.#appSettings);
    return promise;
  }

  /**
   * enterDebug (the debugger's hook) starts a generation of one worker with `settings` (the
   * inspector flag in its command line) that takes every new request, like a recycle; the
   * settings of later recycles stay the normal ones. `onGone` hears that worker exit or fail.
   * `leave()` kills the debuggee and recycles back to a normal generation.
   */
  enterDebug(settings: Readonly<IisnodeSettings>, onGone: () => void): DebuggeeHandle {
    const normal = this.#settings;
    this.#log.info('app recycling', { script: this.scriptPath, reason: 'debug session', generation: this.#generations + 1 });
    this.#startGeneration(settings, this.#appSettings);
    this.#settings = normal;
    const debug = this.#pending!;
    debug.onGone = onGone;
    let hasLeft = false;
    return {
      get pid(): number {
        return debug.pool.workers[0]?.pid ?? 0;
      },
      leave: () => {
        if (hasLeft) return;
        hasLeft = true;
        debug.onGone = undefined;
        void this.recycle('debug session ended');
        debug.destroy();
      },
    };
  }

  /** close stops taking requests, lets in-flight ones finish (gracefulShutdownTimeout), stops the workers. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#shutDown();
    const generations = [this.#current, this.#pending, ...this.#draining].filter((g): g is Generation => g !== undefined);
    this.#closing = Promise.all(generations.map((g) => g.close())).then(() => undefined);
    return this.#closing;
  }

  /** destroy kills the workers; in-flight requests fail. */
  destroy(): void {
    this.#shutDown();
    for (const g of [this.#current, this.#pending, ...this.#draining]) g?.destroy();
  }

  /** stats returns a snapshot of the serving generation and the recycle state. */
  stats(): ApplicationStats {
    const serving = this.#current ?? this.#pending;
    const pool: WorkerPoolStats = serving?.pool.stats() ?? {
      workers: 0, ready: 0, busy: 0, active: 0, total: 0, waiting: 0, restarts: 0, isFailing: false, pids: [], retiring: 0,
    };
    return {
      script: this.scriptPath,
      ...pool,
      generation: this.#current?.number ?? 0,
      recycles: this.#recycles,
      isRecycling: this.#pending !== undefined,
      draining: this.#draining.size,
      waitingForGeneration: this.#waiting.size,
      lastRecycleError: this.#lastRecycleError,
      configError: this.#configError?.message ?? '',
      isIdle: this.#isIdle,
    };
  }

  /** onGenerationReady: a worker of `generation` is ready; a pending generation starts serving. */
  onGenerationReady(generation: Generation): void {
    if (generation !== this.#pending) return;
    this.#promote(generation, '');
  }

  /** onGenerationFailed: `generation` could not start any worker. */
  onGenerationFailed(generation: Generation, error: WorkerError): void {
    if (generation !== this.#pending) return;
    const message = `${error.code}: ${error.message}`;
    const old = this.#current;
    if (generation.settings.recycleKeepsOldOnFailure && old !== undefined && old.pool.hasReadyWorker) {
      this.#pending = undefined;
      this.#lastRecycleError = message;
      this.#log.error('recycle failed', { script: this.scriptPath, generation: generation.number, keeps: old.number, code: error.code, message: error.message, stderr: error.stderrTail.slice(-2000) });
      this.#retire(generation);
      this.#serveWaiting();
      this.#settleRecycle({ generation: old.number, isServing: false, error: message });
      return;
    }
    // As in iisnode: the new generation is the application now; its failure is the answer
    // (developer error page) until a later change makes it start.
    this.#log.error('recycle failed', { script: this.scriptPath, generation: generation.number, code: error.code, message: error.message });
    this.#promote(generation, message);
  }

  /** onExchangeEnd: an exchange of `generation` is over (see ExchangeListener). */
  onExchangeEnd(exchange: Exchange, error: NodehostError | undefined, generation: Generation): void {
    const worker = exchange.target as Worker;
    if (error === undefined || exchange.isHeadSent) {
      if (error !== undefined && this.#log.isDebug) this.#log.debug('response cut short', { script: this.scriptPath, pid: worker.pid, err: error });
      exchange.settle?.();
      return;
    }
    const ctx = exchange.ctx;
    if (generation.settings.devErrorsEnabled && ctx.isLocal && error.code === 'NH_ERR_WORKER_CONNECTION_LOST' && !worker.machine.isFinal) {
      // The worker may be crashing: give its exit (and the stack trace on stderr) a moment to arrive.
      void waitForExit(worker, CRASH_SETTLE_MS).then(() => this.#finishFailedExchange(exchange, error, generation));
      return;
    }
    this.#finishFailedExchange(exchange, error, generation);
  }

  #newGeneration(): Generation {
    this.#generations++;
    const settings = this.#settings;
    if (settings.recycleSignalEnabled && this.#controlPipe === undefined && !this.#isClosed) {
      const { id, socketPath } = this.#options.runDir.nextSocket();
      this.#controlPipe = new ControlPipe(path.join(path.dirname(socketPath), `c${id}.sock`), () => this.#onRecycleSignal());
      // Workers get the path at spawn; they connect well after listen() has run.
      void this.#controlPipe.listen();
    }
    const pipe = settings.recycleSignalEnabled ? this.#controlPipe?.socketPath : undefined;
    return new Generation(this, this.#generations, settings, this.#appSettings, this.#options, pipe);
  }

  #onRecycleSignal(): void {
    const relay = this.#options.onRecycleSignal;
    if (relay === undefined) void this.recycle('recycle signal');
    else relay(this.scriptPath);
  }

  #startGeneration(settings: Readonly<IisnodeSettings>, appSettings: readonly (readonly [string, string])[]): void {
    this.#settings = settings;
    this.#appSettings = appSettings;
    this.#recycles++;
    const replaced = this.#pending;
    if (replaced !== undefined) {
      // It may have read the files before the latest change: the newest generation wins.
      this.#retire(replaced);
    }
    const generation = this.#newGeneration();
    this.#pending = generation;
    const old = this.#current;
    if (old !== undefined && !settings.recycleKeepsOldOnFailure) {
      // The old generation gets no new requests from now on: let it drain at once.
      this.#current = undefined;
      this.#retire(old);
    }
    generation.pool.start();
    this.#watch();
  }

  #promote(generation: Generation, error: string): void {
    this.#pending = undefined;
    const old = this.#current;
    this.#current = generation;
    this.#lastRecycleError = error;
    if (old !== undefined && old !== generation) this.#retire(old);
    if (error === '') this.#log.info('app recycled', { script: this.scriptPath, generation: generation.number, ms: Date.now() - generation.startedAt });
    this.#serveWaiting();
    this.#settleRecycle(error === '' ? { generation: generation.number, isServing: true } : { generation: generation.number, isServing: false, error });
  }

  #retire(generation: Generation): void {
    this.#draining.add(generation);
    void generation.close().then(() => this.#draining.delete(generation));
  }

  #settleRecycle(result: RecycleResult): void {
    const waiters = this.#recycleWaiters;
    this.#recycleWaiters = [];
    for (const resolve of waiters) resolve(result);
  }

  #waitForGeneration(ctx: RequestContext): Promise<void> {
    return new Promise<void>((resolve) => this.#waiting.push(new WaitingRequest(ctx, resolve)));
  }

  /** serveWaiting hands every request that waited for a generation to the serving one. */
  #serveWaiting(): void {
    for (let waiting = this.#waiting.shift(); waiting !== undefined; waiting = this.#waiting.shift()) {
      const { ctx, resolve } = waiting;
      if (ctx.res.destroyed) {
        resolve();
        continue;
      }
      void this.handle(ctx).then(resolve);
    }
  }

  async #handleAfterWait(ctx: RequestContext, generation: Generation): Promise<void> {
    const result = await generation.pool.waitForWorker();
    if (result instanceof NodehostError) {
      // The generation was replaced while this request waited for it: the new one serves it.
      if (result.code === 'NH_ERR_APP_RECYCLING' && generation !== this.#current && !this.#isClosed) return this.handle(ctx);
      this.#fail(ctx, result, generation);
      return;
    }
    return this.#forwardTo(ctx, result, generation);
  }

  #forwardTo(ctx: RequestContext, worker: Worker, generation: Generation): Promise<void> {
    hostTotalRequests++;
    generation.sticky?.assign(ctx, generation.pool.workers.indexOf(worker), generation.pool.count);
    if (isUpgradeRequest(ctx)) return forwardUpgrade(ctx, worker, generation.settings, (w) => generation.pool.release(w));
    const exchange = new Exchange(ctx, worker, buildRequestHead(ctx, generation.forward), generation);
    return new Promise<void>((resolve) => {
      exchange.settle = resolve;
      generation.transport.forward(exchange);
    });
  }

  #finishFailedExchange(exchange: Exchange, error: NodehostError, generation: Generation): void {
    const worker = exchange.target as Worker;
    this.#log.warn('request failed', { script: this.scriptPath, pid: worker.pid, url: exchange.ctx.rawUrl, code: error.code, err: error });
    exchange.ctx.sendError(fail(error, { worker: {
      devErrorsEnabled: generation.settings.devErrorsEnabled,
      isProcessAssigned: true,
      stderrTail: worker.stderrTail.text(),
    } }));
    exchange.settle?.();
  }

  /** fail answers a request that got no worker: a start failure shows that worker's stderr. */
  #fail(ctx: RequestContext, error: NodehostError, generation: Generation): void {
    const isWorkerError = error instanceof WorkerError;
    // The worker's own failure is already in the host log; per-request lines would flood it in a crash loop.
    if (this.#log.isDebug) this.#log.debug('request failed', { script: this.scriptPath, url: ctx.rawUrl, code: error.code });
    ctx.sendError(fail(error, { worker: {
      devErrorsEnabled: generation.settings.devErrorsEnabled,
      isProcessAssigned: isWorkerError,
      stderrTail: isWorkerError ? error.stderrTail : '',
    } }));
  }

  #answerClosed(ctx: RequestContext): Promise<void> {
    ctx.sendError(fail(new NodehostError('NH_ERR_APP_RECYCLING', 'The application is shutting down.'), { worker: NO_WORKER_DIAGNOSTICS }));
    return Promise.resolve();
  }

  /**
   * refreshConfig re-reads the settings after a web.config reload or an iisnode.yml change.
   * Invalid settings keep the last good ones in force (and are shown to loopback clients);
   * changed settings recycle; `force` (a watched file changed too) recycles anyway.
   */
  #refreshConfig(force: boolean): void {
    this.#isConfigDirty = false;
    const isYmlTouched = this.#isYmlTouched;
    this.#isYmlTouched = false;
    const resolve = this.#options.resolve;
    const folder = this.#folder;
    if (resolve === undefined || folder === undefined || this.#isClosed) {
      if (force) void this.recycle('watched files changed');
      return;
    }
    const errors = folder.errors.length > 0 ? folder.errors : resolve(folder).errors;
    if (errors.length > 0) {
      const error = errors[0]!;
      if (this.#configError?.toString() !== error.toString()) {
        this.#log.error('config error', { script: this.scriptPath, code: error.code, where: error.where(), message: error.message, keeps: 'last good configuration' });
      }
      this.#configError = error;
      return;
    }
    const resolved = resolve(folder);
    if (this.#configError !== undefined) this.#log.info('config fixed', { script: this.scriptPath });
    this.#configError = undefined;
    const isChanged = !sameSettings(resolved.settings, this.#settings) || !sameAppSettings(resolved.appSettings, this.#appSettings);
    const isYmlWatched = isYmlTouched && this.#isWatchedByName(this.#ymlFile);
    if (!isChanged && !force && !isYmlWatched) return;
    this.#settings = resolved.settings;
    this.#appSettings = resolved.appSettings;
    void this.recycle(isChanged ? 'configuration changed' : 'watched files changed');
  }

  /** isWatchedByName tells whether a file in the script's folder matches a watchedFiles entry. */
  #isWatchedByName(file: string | undefined): boolean {
    if (file === undefined || path.dirname(file) !== path.dirname(this.scriptPath)) return false;
    const name = path.basename(file);
    for (const entry of this.#settings.watchedFiles.split(';')) {
      const trimmed = entry.trim();
      if (trimmed !== '' && !/[\\/]/.test(trimmed) && compileNamePattern(trimmed).test(name)) return true;
    }
    return false;
  }

  /** watch (re)starts the file watcher when the settings it depends on changed. */
  #watch(): void {
    if (this.#options.isWatching === false || this.#isClosed) return;
    const s = this.#settings;
    const key = [s.watchedFiles, s.uncFileChangesPollingInterval, s.watchedFilesPolling, this.#ymlFile ?? ''].join('\0');
    if (key === this.#watchKey) return;
    this.#watchKey = key;
    this.#watcher?.close();
    this.#watcher = new FileWatcher({
      scriptDir: path.dirname(this.scriptPath),
      watchedFiles: s.watchedFiles,
      urgentFiles: this.#ymlFile === undefined ? [] : [this.#ymlFile],
      pollingIntervalMs: s.uncFileChangesPollingInterval,
      forcePolling: s.watchedFilesPolling,
      onUrgent: () => {
        // iisnode.yml: the very next request must see it (spec 1.4, tests 125/126).
        this.#isConfigDirty = true;
        this.#isYmlTouched = true;
      },
      onChange: (files) => this.#onFilesChanged(files),
    });
    this.#watcher.start();
  }

  #onFilesChanged(files: string[]): void {
    if (this.#isClosed) return;
    const others = files.filter((file) => file !== this.#ymlFile);
    if (others.length === 0) {
      // Only iisnode.yml: handled here unless a request already did.
      if (this.#isConfigDirty) this.#refreshConfig(false);
      return;
    }
    this.#log.info('watched files changed', { script: this.scriptPath, files: others.slice(0, 10), count: others.length });
    if (this.#isConfigDirty) this.#refreshConfig(true);
    else void this.recycle('watched files changed');
  }

  #armIdleTimer(): void {
    const idleMs = this.#settings.idleTimeout;
    if (idleMs <= 0 || this.#idleTimer !== undefined) return;
    this.#idleTimer = setInterval(() => this.#checkIdle(), Math.max(50, Math.min(idleMs, 1000)));
    this.#idleTimer.unref();
  }

  #checkIdle(): void {
    const idleMs = this.#settings.idleTimeout;
    const current = this.#current;
    if (idleMs <= 0 || current === undefined || this.#pending !== undefined || this.#isClosed) return;
    if (Date.now() - this.#lastRequestAt < idleMs || current.pool.stats().active > 0) return;
    this.#log.info('app idle', { script: this.scriptPath, ms: idleMs });
    this.#current = undefined;
    this.#isIdle = true;
    this.#retire(current);
  }

  #shutDown(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#watcher?.close();
    this.#controlPipe?.close();
    if (this.#idleTimer !== undefined) clearInterval(this.#idleTimer);
    this.#idleTimer = undefined;
    for (let waiting = this.#waiting.shift(); waiting !== undefined; waiting = this.#waiting.shift()) {
      void this.#answerClosed(waiting.ctx).then(waiting.resolve);
    }
    this.#settleRecycle({ generation: this.#current?.number ?? 0, isServing: false, error: 'the application is shutting down' });
  }
}

/** sameSettings compares two settings objects field by field. */
function sameSettings(a: Readonly<IisnodeSettings>, b: Readonly<IisnodeSettings>): boolean {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  for (const key of Object.keys(left)) if (left[key] !== right[key]) return false;
  return Object.keys(left).length === Object.keys(right).length;
}

function sameAppSettings(a: readonly (readonly [string, string])[], b: readonly (readonly [string, string])[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

/** waitForExit resolves when the worker has exited or `ms` passed, whichever comes first. */
function waitForExit(worker: Worker, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void worker.exited.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Generation is one set of workers of an application (a WorkerPool) with the settings, the
 * transport and the forwarding rules they were started with. It forwards a request to one of
 * its workers and answers the failures of its own exchanges with the iisnode error pages.
 * Which generation gets new requests is the Recycler's business; a generation only knows its
 * own role, in `machine` (generation-state.ts).
 */
import type { NodehostError } from '../errors.js';
import type { IisnodeSettings } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import type { RequestContext } from '../http/request-context.js';
import { fail } from '../http/error-outcome.js';
import { buildDebugHeader, buildRequestHead, compilePromoteServerVars, type ForwardSettings } from './forward-headers.js';
import type { FrontDoor } from './front-door-share.js';
import { GenerationStateMachine } from './generation-state.js';
import type { RunDir } from './run-dir.js';
import { StickySessions } from './sticky-sessions.js';
import { Exchange, Transport, type ExchangeListener } from './transport.js';
import { forwardUpgrade, isUpgradeRequest } from './websocket/forward-upgrade.js';
import { endHandoffs } from './websocket/handoff.js';
import { closeTunnelsAfter } from './websocket/tunnel.js';
import { version } from '../version.js';
import { WorkerError, type OutputHook, type Worker } from './worker.js';
import { WorkerPool, type WorkerPoolListener } from './worker-pool.js';

/**
 * How long a failed request waits for its worker's exit to be reported before the developer
 * page is rendered, so a crash's stack trace (read from the stderr pipe) makes it onto the page.
 */
const CRASH_SETTLE_MS = 200;
/**
 * How long a request whose worker's connection broke waits to learn how the worker ended,
 * before it is retried elsewhere (killed) or answered with the error (crashed, or still alive).
 */
const EXIT_SETTLE_MS = 1000;

/** Requests this nodehost process has dispatched to any worker (iisnode-debug `worker_total_req`). */
let hostTotalRequests = 0;

/** GenerationListener hears how the start of a generation ended (the Recycler). */
export interface GenerationListener {
  /** onGenerationServing: every worker has its verdict and one is ready (normally all are). */
  onGenerationServing(generation: Generation): void;
  /** onGenerationFailed: no worker of the generation could start. */
  onGenerationFailed(generation: Generation, error: WorkerError): void;
}

/** GenerationOptions is what a generation is made of; everything is read once, at construction. */
export interface GenerationOptions {
  readonly scriptPath: string;
  /** Number of the generation (1 for the first of the application). */
  readonly number: number;
  readonly settings: Readonly<IisnodeSettings>;
  readonly appSettings: readonly (readonly [string, string])[];
  readonly runDir: RunDir;
  readonly log: HostLog;
  readonly listener: GenerationListener;
  readonly onOutput?: OutputHook | undefined;
  readonly frontDoor?: FrontDoor | undefined;
  /** Given to the workers as IISNODE_CONTROL_PIPE (recycleSignalEnabled). */
  readonly controlPipePath?: string | undefined;
  /** The application's restart counts by reason, shared by its generations. */
  readonly restartTally?: Record<string, number> | undefined;
}

/**
 * Generation: `pool.start()` spawns its workers (the constructor has no side effects);
 * `dispatchTo(ctx, worker)` forwards one request to a worker acquired from `pool` and resolves
 * when the response is complete (never rejects); `fail(ctx, error)` answers a request that got
 * no worker. `close()` drains, `destroy()` kills; both idempotent (the pool's are).
 */
export class Generation implements WorkerPoolListener, ExchangeListener {
  readonly number: number;
  readonly scriptPath: string;
  readonly settings: Readonly<IisnodeSettings>;
  readonly appSettings: readonly (readonly [string, string])[];
  readonly pool: WorkerPool;
  readonly transport: Transport;
  readonly forwardSettings: ForwardSettings;
  readonly startedAt = Date.now();
  /** The generation's role in its application (pending, current, draining, closed). */
  readonly machine: GenerationStateMachine;
  /** Cookie-based process choice when nodeProcessStickySessions is on. */
  readonly sticky: StickySessions | undefined;
  /** Debugger hook: called when a worker of this generation exits or fails. */
  onGone: (() => void) | undefined = undefined;
  readonly #log: HostLog;
  readonly #listener: GenerationListener;

  constructor(options: GenerationOptions) {
    const settings = options.settings;
    this.number = options.number;
    this.scriptPath = options.scriptPath;
    this.settings = settings;
    this.appSettings = options.appSettings;
    this.#log = options.log;
    this.#listener = options.listener;
    this.machine = new GenerationStateMachine(options.scriptPath, options.number);
    this.forwardSettings = { enableXFF: settings.enableXFF, promoted: compilePromoteServerVars(settings.promoteServerVars) };
    this.transport = new Transport({
      poolSize: settings.maxNamedPipeConnectionPoolSize,
      maxIdleMs: settings.maxNamedPipePooledConnectionAge,
      maxHeadBytes: settings.maxRequestBufferSize,
      flushResponse: settings.flushResponse,
      responseTimeoutMs: settings.responseTimeout,
    });
    this.sticky = settings.nodeProcessStickySessions ? new StickySessions() : undefined;
    this.pool = new WorkerPool({
      scriptPath: options.scriptPath,
      settings,
      appSettings: options.appSettings,
      runDir: options.runDir,
      log: options.log,
      listener: this,
      generation: options.number,
      ...(this.sticky === undefined ? {} : { policy: this.sticky.policy }),
      ...(options.controlPipePath === undefined ? {} : { controlPipePath: options.controlPipePath }),
      ...(options.frontDoor === undefined ? {} : { frontDoor: options.frontDoor }),
      ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
      restartTally: options.restartTally,
    });
  }

  /**
   * dispatchTo forwards `ctx` to `worker` (acquired from this generation's pool, counted
   * active) and writes the whole response, or the error page when the exchange fails before
   * the response head. Resolves when the response is complete; never rejects.
   */
  dispatchTo(ctx: RequestContext, worker: Worker): Promise<void> {
    hostTotalRequests++;
    this.sticky?.assign(ctx, this.pool.workers.indexOf(worker), this.pool.count);
    if (isUpgradeRequest(ctx)) return forwardUpgrade(ctx, worker, this.settings, (w) => this.pool.release(w));
    const exchange = new Exchange(ctx, worker, buildRequestHead(ctx, this.forwardSettings), this);
    return new Promise<void>((resolve) => {
      exchange.settle = resolve;
      this.transport.forward(exchange);
    });
  }

  /** fail answers a request that got no worker: a start failure shows that worker's stderr. */
  fail(ctx: RequestContext, error: NodehostError): void {
    const isWorkerError = error instanceof WorkerError;
    // The worker's own failure is already in the host log; per-request lines would flood it in a crash loop.
    if (this.#log.isDebug) this.#log.debug('request failed', { script: this.scriptPath, url: ctx.rawUrl, code: error.code });
    ctx.sendError(
      fail(error, {
        worker: {
          devErrorsEnabled: this.settings.devErrorsEnabled,
          isProcessAssigned: isWorkerError,
          stderrTail: isWorkerError ? error.stderrTail : '',
        },
      }),
    );
  }

  onWorkerGone(worker: Worker): void {
    this.transport.dropTarget(worker);
    // Connections handed to it closed with its process; each is released and logged.
    endHandoffs(worker);
    this.onGone?.();
  }

  onPoolServing(): void {
    this.#listener.onGenerationServing(this);
  }

  onPoolFailed(_pool: WorkerPool, error: WorkerError): void {
    this.#listener.onGenerationFailed(this, error);
  }

  /** onExchangeEnd releases the worker and answers a failure that happened before the response head. */
  onExchangeEnd(exchange: Exchange, error: NodehostError | undefined): void {
    const worker = exchange.target as Worker;
    this.pool.release(worker);
    if (error === undefined || exchange.isHeadSent) {
      if (error !== undefined && this.#log.isDebug) this.#log.debug('response cut short', { script: this.scriptPath, pid: worker.pid, err: error });
      exchange.settle?.();
      return;
    }
    if (isRetryable(exchange, error, worker)) {
      if (neverReachedWorker(exchange, error)) {
        if (this.#retryElsewhere(exchange, worker)) return;
      } else {
        // Whether the request may run again depends on how the worker ended (see wasKilled).
        void waitForExit(worker, EXIT_SETTLE_MS).then(() => {
          if (!(wasKilled(worker) && this.#retryElsewhere(exchange, worker))) this.#answerFailure(exchange, error, worker);
        });
        return;
      }
    }
    this.#answerFailure(exchange, error, worker);
  }

  /** answerFailure writes the error page of an exchange that failed before its response head. */
  #answerFailure(exchange: Exchange, error: NodehostError, worker: Worker): void {
    if (this.settings.devErrorsEnabled && exchange.ctx.maySeeInternals && error.code === 'NH_ERR_WORKER_CONNECTION_LOST' && !worker.machine.isFinal) {
      // The worker may be crashing: give its exit (and the stack trace on stderr) a moment to arrive.
      void waitForExit(worker, CRASH_SETTLE_MS).then(() => this.#finishFailedExchange(exchange, error));
      return;
    }
    this.#finishFailedExchange(exchange, error);
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

  /** destroy kills the generation's workers and drops its connections. */
  destroy(): void {
    this.pool.destroy();
    this.transport.close();
  }

  /**
   * retryElsewhere sends the request of a failed exchange to another ready worker of this
   * generation, once (nginx's `proxy_next_upstream error`). Returns false when none has room.
   */
  #retryElsewhere(exchange: Exchange, failed: Worker): boolean {
    if (exchange.ctx.res.destroyed) return false;
    const other = this.pool.acquireAnother(failed);
    if (other === undefined) return false;
    this.#log.info('request retried on another worker', { script: this.scriptPath, url: exchange.ctx.rawUrl, pid: failed.pid, to: other.pid });
    const retry = new Exchange(exchange.ctx, other, exchange.head, this);
    retry.isRetry = true;
    retry.settle = exchange.settle;
    this.transport.forward(retry);
    return true;
  }

  #finishFailedExchange(exchange: Exchange, error: NodehostError): void {
    const worker = exchange.target as Worker;
    // A client that left is no fault of the host's or the worker's: a flood of resets writes no warnings.
    if (error.code !== 'NH_ERR_CLIENT_ABORTED')
      this.#log.warn('request failed', { script: this.scriptPath, pid: worker.pid, url: exchange.ctx.rawUrl, code: error.code, err: error });
    else if (this.#log.isDebug) this.#log.debug('client left before the response head', { script: this.scriptPath, pid: worker.pid, url: exchange.ctx.rawUrl });
    exchange.ctx.sendError(
      fail(error, {
        worker: {
          devErrorsEnabled: this.settings.devErrorsEnabled,
          isProcessAssigned: true,
          stderrTail: worker.stderrTail.text(),
        },
      }),
    );
    exchange.settle?.();
  }
}

/**
 * isRetryable: the worker failed before any byte of the response, was not stopped by the host
 * (a recycle's grace period, an unhealthy worker: the request may be what stalled it), and the
 * request is a GET or HEAD without a body, so running it again elsewhere is safe (RFC 9110
 * §9.2.2) and the client has seen nothing: nginx's `proxy_next_upstream error`, once.
 */
function isRetryable(exchange: Exchange, error: NodehostError, worker: Worker): boolean {
  if (exchange.isRetry || exchange.hasBody || worker.isStopRequested || error.code !== 'NH_ERR_WORKER_CONNECTION_LOST') return false;
  const method = exchange.ctx.req.method;
  return method === 'GET' || method === 'HEAD';
}

/** neverReachedWorker: the first connection attempt was refused (the worker was already gone), so the app never saw the request. */
function neverReachedWorker(exchange: Exchange, error: NodehostError): boolean {
  if (exchange.retries > 0) return false;
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}

/**
 * wasKilled: the worker was ended by SIGKILL from outside (`kill -9`, the kernel's OOM killer),
 * not by its own crash. A request in flight on a worker that exited by itself (an uncaught
 * exception) is not retried: it may be what crashed it, and would crash the next worker too.
 */
function wasKilled(worker: Worker): boolean {
  return worker.signalCode === 'SIGKILL' && !worker.isStopRequested;
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

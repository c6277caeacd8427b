/**
 * Application is one entry script with its settings, its generation of workers (WorkerPool)
 * and the transport to them. It turns a request into an exchange with a worker and answers
 * failures with the iisnode error pages. Settings are read once, when it is created; a
 * recycle (a later issue) will create a new generation.
 */
import { NodehostError } from '../errors.js';
import type { IisnodeSettings } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import type { RequestContext } from '../pipeline/context.js';
import { sendIisnodeError } from './error-pages.js';
import { buildDebugHeader, buildRequestHead, compilePromoteServerVars, type ForwardSettings } from './forward-headers.js';
import type { RunDir } from './run-dir.js';
import { Exchange, Transport, type ExchangeListener } from './transport.js';
import { NODEHOST_VERSION, WorkerError, type OutputHook, type Worker } from './worker.js';
import { WorkerPool, type WorkerPoolListener, type WorkerPoolStats } from './worker-pool.js';

/**
 * How long a failed request waits for its worker's exit to be reported before the developer
 * page is rendered, so a crash's stack trace (read from the stderr pipe) makes it onto the page.
 */
const CRASH_SETTLE_MS = 200;

/** Requests this nodehost process has dispatched to any worker (iisnode-debug `worker_total_req`). */
let hostTotalRequests = 0;

/** ApplicationOptions is what AppHost gives each application. */
export interface ApplicationOptions {
  readonly scriptPath: string;
  readonly settings: Readonly<IisnodeSettings>;
  readonly appSettings: readonly (readonly [string, string])[];
  readonly runDir: RunDir;
  readonly log: HostLog;
  readonly onOutput?: OutputHook;
}

/** ApplicationStats is a snapshot of one application (STYLE 15). */
export interface ApplicationStats extends WorkerPoolStats {
  readonly script: string;
}

/**
 * Application: `start()` spawns its workers; `handle(ctx)` forwards one request and resolves
 * when its response is complete (never rejects); `close()` drains, `destroy()` kills, both
 * idempotent.
 */
export class Application implements ExchangeListener, WorkerPoolListener {
  readonly scriptPath: string;
  readonly settings: Readonly<IisnodeSettings>;
  readonly pool: WorkerPool;
  readonly transport: Transport;
  readonly #forward: ForwardSettings;
  readonly #log: HostLog;

  /** The constructor has no side effects; `start()` spawns the workers. */
  constructor(options: ApplicationOptions) {
    const settings = options.settings;
    this.scriptPath = options.scriptPath;
    this.settings = settings;
    this.#log = options.log;
    this.#forward = { enableXFF: settings.enableXFF, promoted: compilePromoteServerVars(settings.promoteServerVars) };
    this.transport = new Transport({
      poolSize: settings.maxNamedPipeConnectionPoolSize,
      maxIdleMs: settings.maxNamedPipePooledConnectionAge,
      maxHeadBytes: settings.maxRequestBufferSize,
      flushResponse: settings.flushResponse,
    });
    this.pool = new WorkerPool({
      scriptPath: options.scriptPath,
      settings,
      appSettings: options.appSettings,
      runDir: options.runDir,
      log: options.log,
      listener: this,
      ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
    });
  }

  /** start spawns all workers of the first generation. Call once. */
  start(): void {
    this.pool.start();
  }

  /**
   * handle forwards the request to a worker and writes the whole response, or the iisnode
   * error page when that fails before the response head. Resolves when the response is
   * complete or the client went away; never rejects.
   */
  handle(ctx: RequestContext): Promise<void> {
    const result = this.pool.acquire();
    if (result === undefined) return this.#handleAfterWait(ctx);
    if (result instanceof NodehostError) {
      this.#fail(ctx, result);
      return Promise.resolve();
    }
    return this.#forwardTo(ctx, result);
  }

  /** close stops taking requests, lets in-flight ones finish (gracefulShutdownTimeout), stops the workers. */
  async close(): Promise<void> {
    await this.pool.close();
    this.transport.close();
  }

  /** destroy kills the workers; in-flight requests fail. */
  destroy(): void {
    this.pool.destroy();
    this.transport.close();
  }

  /** stats returns a snapshot of the application's generation. */
  stats(): ApplicationStats {
    return { script: this.scriptPath, ...this.pool.stats() };
  }

  onWorkerGone(worker: Worker): void {
    this.transport.dropTarget(worker);
  }

  onExchangeEnd(exchange: Exchange, error: NodehostError | undefined): void {
    const worker = exchange.target as Worker;
    this.pool.release(worker);
    if (error === undefined || exchange.isHeadSent) {
      if (error !== undefined && this.#log.isDebug) this.#log.debug('response cut short', { script: this.scriptPath, pid: worker.pid, err: error });
      exchange.settle?.();
      return;
    }
    const ctx = exchange.ctx;
    if (this.#wouldShowDevPage(ctx) && error.code === 'NH_ERR_WORKER_CONNECTION_LOST' && !worker.machine.isFinal) {
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
      version: NODEHOST_VERSION,
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

  async #handleAfterWait(ctx: RequestContext): Promise<void> {
    const result = await this.pool.waitForWorker();
    if (result instanceof NodehostError) {
      this.#fail(ctx, result);
      return;
    }
    return this.#forwardTo(ctx, result);
  }

  #forwardTo(ctx: RequestContext, worker: Worker): Promise<void> {
    hostTotalRequests++;
    const exchange = new Exchange(ctx, worker, buildRequestHead(ctx, this.#forward), this);
    return new Promise<void>((resolve) => {
      exchange.settle = resolve;
      this.transport.forward(exchange);
    });
  }

  #finishFailedExchange(exchange: Exchange, error: NodehostError): void {
    const worker = exchange.target as Worker;
    this.#log.warn('request failed', { script: this.scriptPath, pid: worker.pid, url: exchange.ctx.rawUrl, code: error.code, err: error });
    sendIisnodeError(exchange.ctx, error, {
      devErrorsEnabled: this.settings.devErrorsEnabled,
      isProcessAssigned: true,
      stderrTail: worker.stderrTail.text(),
    });
    exchange.settle?.();
  }

  /** fail answers a request that got no worker: a start failure shows that worker's stderr. */
  #fail(ctx: RequestContext, error: NodehostError): void {
    const isWorkerError = error instanceof WorkerError;
    // The worker's own failure is already in the host log; per-request lines would flood it in a crash loop.
    if (this.#log.isDebug) this.#log.debug('request failed', { script: this.scriptPath, url: ctx.rawUrl, code: error.code });
    sendIisnodeError(ctx, error, {
      devErrorsEnabled: this.settings.devErrorsEnabled,
      isProcessAssigned: isWorkerError,
      stderrTail: isWorkerError ? error.stderrTail : '',
    });
  }

  #wouldShowDevPage(ctx: RequestContext): boolean {
    return this.settings.devErrorsEnabled && ctx.isLocal;
  }
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

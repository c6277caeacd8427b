/**
 * AppHost is the iisnode handler's entry point (STYLE 8, top layer): it maps an entry script's
 * full path (the application's identity, spec 1.5) to its Application, creating it on the
 * first request for the script (spec 2.1: check the script exists, read the settings, spawn
 * all processes), and owns the run folder of the workers' sockets.
 */
import fs from 'node:fs';
import { NodehostError } from '../errors.js';
import type { FolderConfig, IisnodeSettings } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import type { RequestContext } from '../http/request-context.js';
import { fail, NO_WORKER_DIAGNOSTICS } from '../http/error-outcome.js';
import { Application, type ApplicationStats } from './application.js';
import type { RecycleResult } from './recycler.js';
import { RunDir } from './run-dir.js';
import type { DebuggerHost } from './debugger/debugger-host.js';
import { claimDebugRequest } from './debugger/debug-url.js';
import type { OutputHook } from './worker.js';
import type { FrontDoor } from './front-door-share.js';

/** AppHostOptions is what the server gives the iisnode handler. */
export interface AppHostOptions {
  log: HostLog;
  /** Effective iisnode settings + appSettings for a script; errors (yml 1032, env 1031) mean the app can't run. */
  resolveApp(scriptPath: string, folder: FolderConfig): { settings: IisnodeSettings; errors: NodehostError[]; ymlFile?: string | undefined };
  /** Receives every chunk of every worker's stdout and stderr (the seam for log files). */
  onOutput?: OutputHook;
  /** Folder under which the socket run folder is made; os.tmpdir() by default. */
  runDirBase?: string;
  /** The front door this host runs in (hostProcesses > 1): each application runs its share of the processes here. */
  frontDoor?: FrontDoor | undefined;
  /** Receives IISNODE_CONTROL_PIPE recycles (see ApplicationOptions.onRecycleSignal). */
  onRecycleSignal?: ((scriptPath: string) => void) | undefined;
}

/** AppHostStats is a snapshot of every application (STYLE 15). */
export interface AppHostStats {
  readonly apps: readonly ApplicationStats[];
}

/**
 * AppHost: `handle(ctx)` serves one iisnode request; `close()` drains and stops everything;
 * `destroy()` kills everything; both idempotent. `stats()` is a plain snapshot.
 */
export class AppHost {
  readonly #options: AppHostOptions;
  readonly #apps = new Map<string, Application>();
  readonly #runDir: RunDir;
  /**
   * Debug sessions of every application (spec 2.11), loaded with the first debugger request
   * or admin API debug start: a host nobody debugs never loads the debugger's code.
   */
  #debugger: DebuggerHost | undefined;
  #debuggerLoading: Promise<DebuggerHost> | undefined;
  /** Last configuration error logged per script, so a broken app logs once, not per request. */
  readonly #loggedConfigErrors = new Map<string, string>();
  #isClosed = false;
  #closing: Promise<void> | undefined = undefined;

  /** The constructor has no side effects: nothing is spawned or created before the first request. */
  constructor(options: AppHostOptions) {
    this.#options = options;
    this.#runDir = new RunDir(options.runDirBase);
  }

  /** debuggerHost loads the debugger on first use. */
  #debuggerHost(): Promise<DebuggerHost> {
    this.#debuggerLoading ??= import('./debugger/debugger-host.js').then(({ DebuggerHost }) => {
      this.#debugger = new DebuggerHost(this.#options.log);
      return this.#debugger;
    });
    return this.#debuggerLoading;
  }

  /**
   * handle serves ctx (ctx.handler === 'iisnode', ctx.scriptPath and ctx.config set): forwards
   * it to a worker and writes the whole response, including iisnode error pages. Resolves when
   * the response is complete. Never rejects.
   */
  handle(ctx: RequestContext): Promise<void> {
    const app = this.#apps.get(ctx.scriptPath);
    if (app === undefined) return this.#handleFirst(ctx);
    try {
      // A reloaded configuration is a new object: the app re-reads its settings on this request.
      if (ctx.config !== undefined && ctx.config !== app.folder) app.updateFolder(ctx.config);
      return this.#dispatch(app, ctx);
    } catch (err) {
      this.#answerInternalError(ctx, err);
      return Promise.resolve();
    }
  }

  /**
   * close stops taking requests, lets in-flight ones finish (bounded by each app's
   * gracefulShutdownTimeout), stops all workers (SIGTERM, then SIGKILL), removes the run dir.
   * Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#isClosed = true;
    const apps = [...this.#apps.values()];
    this.#closing = Promise.all(apps.map((app) => app.close())).then(() => this.#runDir.remove());
    return this.#closing;
  }

  /** destroy kills every worker at once and removes the run dir; in-flight requests fail. Idempotent. */
  destroy(): void {
    this.#isClosed = true;
    for (const app of this.#apps.values()) app.destroy();
    this.#runDir.remove();
  }

  /**
   * recycle recycles the applications whose entry script is in `scripts` (every running
   * application when undefined) and resolves, per application, when its new generation
   * serves or could not start. Applications that never ran are not started.
   */
  async recycle(scripts?: readonly string[], reason = 'recycle requested'): Promise<{ script: string; result: RecycleResult }[]> {
    const apps = [...this.#apps.values()].filter((app) => scripts === undefined || scripts.includes(app.scriptPath));
    return Promise.all(apps.map(async (app) => ({ script: app.scriptPath, result: await app.recycle(reason) })));
  }

  /**
   * stop drains and stops the applications whose entry script is in `scripts` (every running one
   * when undefined) and forgets them: the next request for one starts it again. Resolves with the
   * scripts stopped once their workers are gone.
   */
  async stop(scripts?: readonly string[]): Promise<string[]> {
    const apps = [...this.#apps.values()].filter((app) => scripts === undefined || scripts.includes(app.scriptPath));
    for (const app of apps) this.#apps.delete(app.scriptPath);
    await Promise.all(apps.map((app) => app.close()));
    return apps.map((app) => app.scriptPath);
  }

  /**
   * start starts the application of `scriptPath` (its settings from `folder`) without waiting
   * for a request (preload="true", the admin API's start). Returns the error that keeps it from
   * starting, or undefined (also when it already runs); its workers become ready on their own.
   */
  async start(scriptPath: string, folder: FolderConfig): Promise<NodehostError | undefined> {
    if (this.#apps.has(scriptPath)) return undefined;
    if (folder.errors.length > 0) return folder.errors[0];
    if (this.#isClosed) return new NodehostError('NH_ERR_APP_RECYCLING', 'nodehost is shutting down.');
    if (!(await isFile(scriptPath))) return new NodehostError('NH_ERR_APP_SCRIPT_MISSING', `${scriptPath} does not exist.`);
    if (this.#apps.has(scriptPath)) return undefined;
    const { settings, errors, ymlFile } = this.#options.resolveApp(scriptPath, folder);
    if (errors.length > 0) return errors[0];
    this.#newApp(scriptPath, folder, settings, ymlFile);
    return undefined;
  }

  /** startDebug starts the debug session of the running application at `scriptPath` (undefined: no such application running). */
  startDebug(scriptPath: string, isBreak: boolean): Promise<{ port: number; isBreak: boolean; pid: number } | NodehostError> | undefined {
    const app = this.#apps.get(scriptPath);
    return app === undefined ? undefined : this.#debuggerHost().then((host) => host.startSession(app, isBreak));
  }

  /** stopDebug ends the debug session of the application at `scriptPath`; returns whether there was one. */
  stopDebug(scriptPath: string): boolean {
    // No debugger loaded: no session was ever started.
    return this.#debugger?.endSession(scriptPath) ?? false;
  }

  /** scripts lists the entry scripts of the running applications. */
  scripts(): string[] {
    return [...this.#apps.keys()];
  }

  /** stats returns a snapshot per application. */
  stats(): AppHostStats {
    const apps: ApplicationStats[] = [];
    for (const app of this.#apps.values()) apps.push(app.stats());
    return { apps };
  }

  /** dispatch gives the debugger its URLs (`<app>/debug...`) and the application everything else. */
  #dispatch(app: Application, ctx: RequestContext): Promise<void> {
    const debug = claimDebugRequest(ctx, app.settings);
    // Several front doors dispatch independently: a cookie or a debug session cannot pin a process.
    if ((this.#options.frontDoor?.count ?? 1) > 1 && (debug !== undefined || app.settings.nodeProcessStickySessions)) {
      this.#answerNeedsOneHostProcess(ctx, debug === undefined ? 'nodeProcessStickySessions' : 'the debugger (debuggingEnabled)');
      return Promise.resolve();
    }
    return debug === undefined ? app.handle(ctx) : this.#debuggerHost().then((host) => host.handle(ctx, app, debug));
  }

  async #handleFirst(ctx: RequestContext): Promise<void> {
    try {
      const app = await this.#createApp(ctx);
      if (app !== undefined) await this.#dispatch(app, ctx);
    } catch (err) {
      this.#answerInternalError(ctx, err);
    }
  }

  #answerNeedsOneHostProcess(ctx: RequestContext, feature: string): void {
    const error = new NodehostError(
      'NH_ERR_APP_NEEDS_ONE_HOST_PROCESS',
      `${ctx.scriptPath} uses ${feature}, which needs a single dispatcher: set hostProcesses to 1 (nodehost.yml or serve --host-processes; it is ${this.#options.frontDoor?.count}).`,
    );
    if (!this.#loggedConfigErrors.has(`${ctx.scriptPath}\0${feature}`)) {
      this.#loggedConfigErrors.set(`${ctx.scriptPath}\0${feature}`, error.message);
      this.#options.log.error('config error', { script: ctx.scriptPath, code: error.code, message: error.message });
    }
    ctx.sendError(fail(error, { isMessagePublic: true }));
  }

  /** answerInternalError turns a bug in the handler into a logged plain 500 instead of a rejection. */
  #answerInternalError(ctx: RequestContext, err: unknown): void {
    this.#options.log.error('iisnode handler failed', { script: ctx.scriptPath, url: ctx.rawUrl, err });
    const error = new NodehostError('NH_ERR_INTERNAL', 'The iisnode handler failed unexpectedly.', { cause: err });
    ctx.sendError(fail(error, { worker: NO_WORKER_DIAGNOSTICS }));
  }

  /** createApp makes the script's application, or answers the request and returns undefined. */
  async #createApp(ctx: RequestContext): Promise<Application | undefined> {
    const scriptPath = ctx.scriptPath;
    const folder = ctx.config;
    if (folder === undefined || scriptPath === '') throw new Error('AppHost.handle needs ctx.config and ctx.scriptPath');
    if (folder.errors.length > 0) {
      this.#logConfigError(scriptPath, folder.errors[0]);
      ctx.sendError(fail(folder.errors[0], { isConfigError: true }));
      return undefined;
    }
    if (!this.#isClosed && !(await isFile(scriptPath))) {
      ctx.sendError(fail(new NodehostError('NH_ERR_APP_SCRIPT_MISSING', `${scriptPath} does not exist.`), { worker: NO_WORKER_DIAGNOSTICS }));
      return undefined;
    }
    // Another request may have created the app while this one checked the file.
    const existing = this.#apps.get(scriptPath);
    if (existing !== undefined) return existing;
    if (this.#isClosed) {
      ctx.sendError(fail(new NodehostError('NH_ERR_APP_RECYCLING', 'nodehost is shutting down.'), { worker: NO_WORKER_DIAGNOSTICS }));
      return undefined;
    }
    // Settings are resolved on each attempt until they are valid, so fixing iisnode.yml cures the app.
    const { settings, errors, ymlFile } = this.#options.resolveApp(scriptPath, folder);
    if (errors.length > 0) {
      this.#logConfigError(scriptPath, errors[0]);
      ctx.sendError(fail(errors[0], { isConfigError: true }));
      return undefined;
    }
    this.#loggedConfigErrors.delete(scriptPath);
    if ((this.#options.frontDoor?.count ?? 1) > 1 && settings.nodeProcessStickySessions) {
      // Refused before any worker starts; #dispatch catches a later configuration change.
      this.#answerNeedsOneHostProcess(ctx, 'nodeProcessStickySessions');
      return undefined;
    }
    return this.#newApp(scriptPath, folder, settings, ymlFile);
  }

  #newApp(scriptPath: string, folder: FolderConfig, settings: IisnodeSettings, ymlFile: string | undefined): Application {
    const app = new Application({
      scriptPath,
      settings,
      appSettings: folder.appSettings,
      runDir: this.#runDir,
      log: this.#options.log,
      folder,
      ymlFile,
      resolve: (latest) => {
        const resolved = this.#options.resolveApp(scriptPath, latest);
        return { settings: resolved.settings, appSettings: latest.appSettings, errors: resolved.errors };
      },
      ...(this.#options.onOutput === undefined ? {} : { onOutput: this.#options.onOutput }),
      frontDoor: this.#options.frontDoor,
      onRecycleSignal: this.#options.onRecycleSignal,
    });
    this.#apps.set(scriptPath, app);
    app.start();
    return app;
  }

  #logConfigError(scriptPath: string, error: NodehostError): void {
    const text = error.toString();
    if (this.#loggedConfigErrors.get(scriptPath) === text) return;
    this.#loggedConfigErrors.set(scriptPath, text);
    this.#options.log.error('config error', { script: scriptPath, code: error.code, where: error.where(), message: error.message });
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(file)).isFile();
  } catch {
    return false;
  }
}

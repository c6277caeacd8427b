/**
 * NodehostServer owns the public listener of one site: it builds the site's configuration,
 * the application host and the pipeline, serves HTTP, and shuts all of it down gracefully.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join, resolve, sep } from 'node:path';
import { SiteConfig, type HostDefaults } from '../config/site-config.js';
import { DEFAULT_LIMITS, type FollowSymlinks, type HostLimits } from '../config/host-config.js';
import type { InboundRule } from '../config/rewrite-types.js';
import type { FolderConfig } from '../config/types.js';
import { NodehostError } from '../errors.js';
import type { HostEvent, HostLog } from '../host-log.js';
import { AppHost } from '../iisnode/app-host.js';
import type { FrontDoor } from '../iisnode/front-door-share.js';
import { LogCapture } from '../iisnode/log-files/log-capture.js';
import { AccessLog } from '../modules/access-log/access-log.js';
import { createLogFolderModule, type LogFolderModule } from '../modules/log-folder/log-folder.js';
import type { Duplex } from 'node:stream';
import { isLoopbackAddress } from '../http/is-loopback-address.js';
import type { SiteHandle } from '../http/site-handle.js';
import { TrustedProxies } from '../http/trusted-proxies.js';
import type { ProxyRange } from '../config/proxy-range.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { builtinModules, builtinResponseFilters } from '../pipeline/builtin-modules.js';
import { ConfigReloadWatcher } from './config-reload.js';
import { FastPath } from './fast-path/fast-path.js';
import { createUpgradeResponse } from './upgrade-response.js';
import type { HttpResponse } from '../http/http-response.js';
import { UsersFile } from '../modules/authentication/users-file.js';
import { checkSite, effectiveConfig, type EffectiveConfig } from '../config/check.js';
import type { AdminTarget, DebugStarted, HostStatus, Readiness } from '../control/admin-api.js';
import { HostMetrics, type MetricsJson } from '../control/metrics.js';
import { RequestMetrics } from '../modules/request-metrics/request-metrics.js';

/** Idle keep-alive client connections close after this long. */
const KEEP_ALIVE_TIMEOUT_MS = 5000;

export interface ServerOptions {
  readonly siteRoot: string;
  readonly host: string;
  readonly port: number;
  readonly siteName?: string;
  /**
   * Folder of the site's access log; `<siteRoot>/../logs/<siteName>` by default (nodehost.yml
   * `logs: <folder>` gives `<folder>/<siteName>`); '' turns the access log off.
   */
  readonly accessLogDir?: string;
  /** Global URL Rewrite rules from nodehost.yml, run before web.config's rules; fixed for the server's life. */
  readonly globalRules?: readonly InboundRule[] | undefined;
  /** The site's users file for Basic authentication (nodehost.yml `users:`); absent: none. */
  readonly usersFile?: string | undefined;
  /** Defaults from nodehost.yml merged under the site's web.config files (host-wide compression), and the web.config of `serve app.js`; fixed for the server's life. */
  readonly hostDefaults?: HostDefaults | undefined;
  /** The balancers whose X-Forwarded-For / X-Forwarded-Proto are believed (nodehost.yml `trustedProxies`); absent: none. */
  readonly trustedProxies?: readonly ProxyRange[] | undefined;
  readonly log: HostLog;
  /** The front door this server is (hostProcesses > 1, see front-doors.ts); absent when it is the only one. */
  readonly frontDoor?: FrontDoor | undefined;
  /** Receives the applications' IISNODE_CONTROL_PIPE recycles, so every front door recycles them; absent: the application recycles itself. */
  readonly onRecycleSignal?: ((scriptPath: string) => void) | undefined;
  /** Count requests for /metrics (the 'log' phase step of modules/request-metrics); true by default (nodehost.yml `admin.metrics`). */
  readonly metrics?: boolean | undefined;
  /** Client timeouts and the connection cap (nodehost.yml `limits`); DEFAULT_LIMITS when absent. */
  readonly limits?: HostLimits | undefined;
  /** Which symbolic links static files may be reached through (nodehost.yml `followSymlinks`); `inside` when absent. */
  readonly followSymlinks?: FollowSymlinks | undefined;
}

/** Site is the live handle the pipeline reads; `config` is replaced whole when it is re-read. */
class Site implements SiteHandle {
  readonly root: string;
  readonly name: string;
  config: SiteConfig;
  /** Not part of web.config: a configuration reload keeps them. */
  readonly globalRules: readonly InboundRule[] | undefined;
  readonly hostDefaults: HostDefaults;
  readonly trustedProxies: TrustedProxies | undefined;
  readonly followSymlinks: FollowSymlinks;
  constructor(
    root: string,
    name: string,
    globalRules: readonly InboundRule[] | undefined,
    hostDefaults: HostDefaults,
    trustedProxies: readonly ProxyRange[] | undefined,
    followSymlinks: FollowSymlinks,
  ) {
    this.root = root;
    this.name = name;
    this.hostDefaults = hostDefaults;
    this.config = this.load();
    this.globalRules = globalRules;
    this.trustedProxies = trustedProxies === undefined || trustedProxies.length === 0 ? undefined : new TrustedProxies(trustedProxies);
    this.followSymlinks = followSymlinks;
  }

  /** load reads the site's web.config files afresh, over the host's defaults. */
  load(): SiteConfig {
    return SiteConfig.load(this.root, process.env, this.hostDefaults);
  }
}

export class NodehostServer implements AdminTarget {
  readonly site: Site;
  readonly #requestMetrics: RequestMetrics | undefined;
  readonly #metrics: HostMetrics;
  /** Entry scripts with preload="true", started with the server (/ready waits for them). */
  #preloaded: string[] = [];
  #isListening = false;
  #url = '';
  readonly #options: ServerOptions;
  readonly #appHost: AppHost;
  readonly #pipeline: Pipeline;
  readonly #server: Server;
  /** Reads plain requests before node's server does (src/server/fast-path/). */
  readonly #fastPath: FastPath;
  readonly #logCapture: LogCapture;
  readonly #logFolder: LogFolderModule;
  readonly #accessLog: AccessLog | undefined;
  readonly #users: UsersFile | undefined;
  /** Watches the web.config files; a change marks the configuration for re-reading. */
  readonly #configWatcher: ConfigReloadWatcher;
  #isConfigDirty = false;
  /** A re-read configuration with errors: the last good one keeps serving, loopback clients see the errors. */
  #brokenConfig: SiteConfig | undefined = undefined;
  #loopbackPipeline: Pipeline | undefined = undefined;
  readonly #limits: HostLimits;
  /** Connections closed at accept because maxConnections were open; reported at most every 10 s. */
  #dropped = 0;
  #droppedReportedAt = 0;
  /** Requests whose response has not finished yet; shutdown waits for them. */
  #inFlight = 0;
  #onIdle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions) {
    this.#options = options;
    const root = resolve(options.siteRoot);
    this.site = new Site(
      root,
      options.siteName ?? basename(root),
      options.globalRules,
      options.hostDefaults ?? {},
      options.trustedProxies,
      options.followSymlinks ?? 'inside',
    );
    for (const err of this.site.config.errors) options.log.warn('configuration error', { error: err.toString() });
    const site = this.site;
    this.#users =
      options.usersFile === undefined ? undefined : new UsersFile(options.usersFile, (error) => options.log.warn('users file', { error: error.toString() }));
    const logCapture = new LogCapture({ log: options.log });
    this.#logCapture = logCapture;
    this.#logFolder = createLogFolderModule(site, logCapture);
    const accessLogDir = options.accessLogDir ?? resolve(root, '..', 'logs', site.name);
    this.#accessLog = accessLogDir === '' ? undefined : new AccessLog({ dir: accessLogDir, log: options.log });
    this.#appHost = new AppHost({
      log: options.log,
      resolveApp: (scriptPath, folder) => logCapture.prepare(scriptPath, site.config.resolveAppSettings(scriptPath, folder)),
      onOutput: logCapture.onOutput,
      frontDoor: options.frontDoor,
      onRecycleSignal: options.onRecycleSignal,
    });
    this.#requestMetrics = options.metrics === false ? undefined : new RequestMetrics(site.name);
    const requestMetrics = this.#requestMetrics;
    const appHost = this.#appHost;
    this.#metrics = new HostMetrics({
      siteRoot: root,
      hostProcess: options.frontDoor?.index ?? 0,
      requests: () => requestMetrics?.snapshot() ?? { site: site.name, apps: [] },
      apps: () => appHost.stats().apps,
    });
    this.#pipeline = new Pipeline({
      site,
      responseFilters: builtinResponseFilters(),
      modules: builtinModules(site, this.#appHost, {
        logFolder: this.#logFolder,
        users: this.#users,
        ...(this.#accessLog === undefined ? {} : { accessLog: this.#accessLog }),
        ...(requestMetrics === undefined ? {} : { requestMetrics }),
      }),
      log: options.log,
    });
    const limits = options.limits ?? DEFAULT_LIMITS;
    this.#limits = limits;
    const shortest = Math.min(limits.headerTimeoutMs || Infinity, limits.requestTimeoutMs || Infinity);
    this.#server = createServer(
      {
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        // Node's own deadlines for the connections it reads (0 turns them off); its check runs
        // on this interval, so a short configured timeout is honoured closely.
        headersTimeout: limits.headerTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        connectionsCheckingInterval: shortest === Infinity ? 30_000 : Math.max(50, Math.min(30_000, Math.floor(shortest / 4))),
      },
      this.#onRequest,
    );
    this.#fastPath = new FastPath({
      server: this.#server,
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
      headerTimeoutMs: limits.headerTimeoutMs,
      bodyTimeoutMs: limits.bodyTimeoutMs,
      requestTimeoutMs: limits.requestTimeoutMs,
      onRequest: this.#onRequest,
    });
    this.#server.on('upgrade', this.#onUpgrade);
    if (limits.maxConnections > 0) {
      this.#server.maxConnections = limits.maxConnections;
      this.#server.on('drop', this.#onDrop);
    }
    this.#configWatcher = new ConfigReloadWatcher({
      siteRoot: root,
      pollingIntervalMs: this.site.config.forPath('/').iisnode.uncFileChangesPollingInterval,
      onChange: this.#onConfigChange,
    });
  }

  /**
   * reloadConfig re-reads every web.config of the site now. A valid result replaces the
   * configuration whole (applications re-read their settings on their next request and recycle
   * when they changed). A result with errors keeps the last good configuration serving, logs
   * the errors, and shows them to loopback clients for the URLs they affect.
   */
  reloadConfig(): void {
    this.#isConfigDirty = false;
    const next = this.site.load();
    if (next.errors.length === 0) {
      if (this.#brokenConfig !== undefined) this.#options.log.info('config fixed', { site: this.site.name });
      this.#brokenConfig = undefined;
      this.#loopbackPipeline = undefined;
      this.site.config = next;
      this.#options.log.info('config reloaded', { site: this.site.name, files: next.files.length });
      return;
    }
    const known = new Set((this.#brokenConfig ?? this.site.config).errors.map((err) => err.toString()));
    for (const err of next.errors) {
      if (!known.has(err.toString()))
        this.#options.log.error('config error', {
          site: this.site.name,
          code: err.code,
          where: err.where(),
          message: err.message,
          keeps: 'last good configuration',
        });
    }
    this.#brokenConfig = next;
    this.#loopbackPipeline = undefined;
  }

  /** recycle recycles the applications (all running ones, or the one whose script has URL path `appUrl`); resolves when each new generation serves or failed. */
  recycle(appUrl?: string): ReturnType<AppHost['recycle']> {
    if (appUrl === undefined) return this.#appHost.recycle();
    const script = join(this.site.root, decodeURIComponent(appUrl.split('?')[0]!).replace(/^\/+/, ''));
    const matches = this.#appHost.scripts().filter((running) => running === script || running.toLowerCase() === script.toLowerCase());
    return this.#appHost.recycle(matches);
  }

  /** recycleScript recycles the running application of one entry script (a relayed IISNODE_CONTROL_PIPE recycle). */
  recycleScript(scriptPath: string, reason: string): ReturnType<AppHost['recycle']> {
    return this.#appHost.recycle([scriptPath], reason);
  }

  /** stop stops the applications (all running ones, or the one whose script has URL path `appUrl`); resolves with their scripts once their workers are gone. */
  stop(appUrl?: string): Promise<string[]> {
    return this.#appHost.stop(appUrl === undefined ? undefined : this.#runningScripts(appUrl));
  }

  /** start starts the application whose entry script has URL path `appUrl` without waiting for a request. */
  async startApp(appUrl: string): Promise<{ script: string; error?: string }> {
    const urlPath = decodeURIComponent(appUrl.split('?')[0]!).replace(/^\/*/, '/');
    const script = join(this.site.root, urlPath);
    const error = await this.#appHost.start(script, this.site.config.forPath(urlPath));
    return error === undefined ? { script } : { script, error: error.toString() };
  }

  /** reload re-reads the configuration now (the admin API's reload); configError is '' when it is valid. */
  reload(): { configError: string } {
    this.reloadConfig();
    return { configError: this.#brokenConfig?.errors[0]?.toString() ?? '' };
  }

  /** metrics renders this process's /metrics. */
  metrics(): Promise<string> {
    return this.#metrics.text();
  }

  /** metricsJson is this process's metrics for the primary to merge (hostProcesses > 1). */
  metricsJson(): Promise<MetricsJson> {
    return this.#metrics.json();
  }

  /** readiness: listening, not shutting down, and every preload="true" application has a serving generation. */
  readiness(): Readiness {
    if (this.#closing !== undefined) return { isReady: false, reason: 'shutting down' };
    if (!this.#isListening) return { isReady: false, reason: 'not listening yet' };
    const apps = this.#appHost.stats().apps;
    for (const script of this.#preloaded) {
      const app = apps.find((a) => a.script === script);
      if (app === undefined || app.generation === 0 || app.ready === 0) return { isReady: false, reason: `${script} (preload) has no serving generation yet` };
    }
    return { isReady: true, reason: '' };
  }

  /** preload starts every application of the site with preload="true" (errors are logged; the app then starts on a request). */
  async preload(): Promise<void> {
    const report = checkSite(this.site.root, process.env, this.site.hostDefaults);
    const apps = report.apps.filter((app) => app.settings.preload);
    this.#preloaded = apps.map((app) => app.scriptPath);
    await Promise.all(
      apps.map(async (app) => {
        const error = await this.#appHost.start(app.scriptPath, this.site.config.forPath(app.url));
        if (error !== undefined) this.#options.log.error('preload failed', { script: app.scriptPath, code: error.code, message: error.message });
        else this.#options.log.info('app preloaded', { script: app.scriptPath });
      }),
    );
  }

  #runningScripts(appUrl: string): string[] {
    const script = join(this.site.root, decodeURIComponent(appUrl.split('?')[0]!).replace(/^\/+/, ''));
    return this.#appHost.scripts().filter((running) => running === script || running.toLowerCase() === script.toLowerCase());
  }

  /** status is a snapshot of the site and its applications (the control API's `status`). */
  status(): HostStatus & { apps: (ReturnType<AppHost['stats']>['apps'][number] & { logUrl: string })[] } {
    return {
      site: this.site.name,
      root: this.site.root,
      url: this.#url,
      configError: this.#brokenConfig?.errors[0]?.toString() ?? '',
      apps: this.#appHost.stats().apps.map((app) => ({ ...app, logUrl: this.#logUrlOf(app.script) })),
    };
  }

  /** startDebug starts the debug session of the running application at URL `appUrl`. */
  async startDebug(appUrl: string, isBreak: boolean): Promise<DebugStarted | NodehostError | undefined> {
    const script = this.#runningScripts(appUrl)[0];
    return script === undefined ? undefined : this.#appHost.startDebug(script, isBreak);
  }

  /** stopDebug ends the debug session of the running application at URL `appUrl`. */
  async stopDebug(appUrl: string): Promise<boolean | undefined> {
    const script = this.#runningScripts(appUrl)[0];
    return script === undefined ? undefined : this.#appHost.stopDebug(script);
  }

  /** appConfig is the effective configuration of the application at URL `appUrl`, read from the files now. */
  appConfig(appUrl: string): EffectiveConfig | undefined {
    return effectiveConfig(this.site.root, decodeURIComponent(appUrl.split('?')[0]!).replace(/^\/*/, '/'));
  }

  /** events are this process's recent host events. */
  events(): HostEvent[] {
    return this.#options.log.recent();
  }

  /** logUrlOf is the URL path of an application's log folder when the site serves it ('' otherwise: logging off, or a folder outside the site). */
  #logUrlOf(script: string): string {
    const dir = this.#logCapture.directoryOf(script);
    if (dir === undefined || !dir.startsWith(this.site.root + sep)) return '';
    return `${dir.slice(this.site.root.length).split(sep).join('/')}/`;
  }

  /** start listens and resolves with the URL once connections are accepted. */
  start(): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      const onError = (err: Error) =>
        reject(new NodehostError('NH_ERR_SERVER_LISTEN', `cannot listen on ${this.#options.host}:${this.#options.port}: ${err.message}`, { cause: err }));
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', onError);
        const address = this.#server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        this.#configWatcher.start();
        this.#isListening = true;
        this.#url = `http://${host}:${address.port}/`;
        resolvePromise(this.#url);
      });
    });
  }

  /**
   * close stops accepting connections, lets in-flight requests finish (bounded by the
   * site's gracefulShutdownTimeout), then stops every worker. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    // Live log streams (index page events, tails) would otherwise hold the shutdown open.
    this.#logFolder.close();
    this.#configWatcher.close();
    this.#server.close();
    this.#server.closeIdleConnections();
    this.#fastPath.closeIdle();
    const timeout = this.site.config.forPath('/').iisnode.gracefulShutdownTimeout;
    if (this.#inFlight > 0) {
      await new Promise<void>((done) => {
        const timer = setTimeout(done, timeout);
        this.#onIdle = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
    this.#server.closeAllConnections();
    this.#fastPath.closeAll();
    await this.#appHost.close();
    await this.#logCapture.close();
    await this.#accessLog?.close();
    this.#metrics.close();
  }

  readonly #onRequest = (req: IncomingMessage, res: HttpResponse): void => {
    this.#inFlight++;
    res.once('close', this.#onResponseClose);
    // A body read by node's server (chunked, HTTP/1.0) gets the same bodyTimeout as the fast
    // path's: the socket's idle timer, which node's server answers by destroying the socket.
    if (!req.complete && this.#limits.bodyTimeoutMs > 0 && req.headers['transfer-encoding'] !== undefined) watchBody(req, this.#limits.bodyTimeoutMs);
    // While shutting down, answered connections are not kept alive.
    if (this.#closing) res.shouldKeepAlive = false;
    // The next request after a web.config change sees it (DESIGN §3).
    if (this.#isConfigDirty) this.reloadConfig();
    if (this.#brokenConfig !== undefined && isLoopbackAddress(this.#clientAddress(req))) {
      void this.#loopbackPipelineFor(this.#brokenConfig).handle(req, res, false);
      return;
    }
    void this.#pipeline.handle(req, res, false);
  };

  /** onUpgrade runs an upgrade request (WebSocket) through the same pipeline; the iisnode handler tunnels it. */
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    if (this.#isConfigDirty) this.reloadConfig();
    const { res, upgrade } = createUpgradeResponse(req, socket, head);
    void this.#pipeline.handle(req, res, false, upgrade);
  };

  readonly #onDrop = (): void => {
    this.#dropped++;
    const now = Date.now();
    if (now - this.#droppedReportedAt < 10_000) return;
    this.#droppedReportedAt = now;
    this.#options.log.warn('connection limit reached: new connections are closed', {
      maxConnections: this.#limits.maxConnections,
      dropped: this.#dropped,
    });
  };

  readonly #onConfigChange = (): void => {
    if (this.#isConfigDirty) return;
    this.#isConfigDirty = true;
    // Re-read soon even without a request, so the host log reports a bad edit promptly.
    setImmediate(() => {
      if (this.#isConfigDirty && this.#closing === undefined) this.reloadConfig();
    });
  };

  /** clientAddress is the request's client: the peer, or the one a trusted proxy names. */
  #clientAddress(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress ?? '';
    const proxies = this.site.trustedProxies;
    return proxies === undefined ? peer : proxies.client(peer, false, req.headers).address;
  }

  /** loopbackPipelineFor serves loopback clients while a bad edit is pending: its errors where it has them, the last good configuration elsewhere. */
  #loopbackPipelineFor(broken: SiteConfig): Pipeline {
    if (this.#loopbackPipeline !== undefined) return this.#loopbackPipeline;
    const site = this.site;
    const handle = {
      root: site.root,
      name: site.name,
      globalRules: site.globalRules,
      trustedProxies: site.trustedProxies,
      followSymlinks: site.followSymlinks,
      config: {
        forPath(urlPath: string): FolderConfig {
          const bad = broken.forPath(urlPath);
          return bad.errors.length > 0 ? bad : site.config.forPath(urlPath);
        },
      },
    };
    this.#loopbackPipeline = new Pipeline({
      site: handle,
      modules: builtinModules(handle, this.#appHost, { users: this.#users }),
      responseFilters: builtinResponseFilters(),
      log: this.#options.log,
    });
    return this.#loopbackPipeline;
  }

  readonly #onResponseClose = (): void => {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#onIdle) this.#onIdle();
  };
}

/** watchBody arms the socket's idle timer while a request body read by node's server is arriving. */
function watchBody(req: IncomingMessage, timeoutMs: number): void {
  req.socket.setTimeout(timeoutMs);
  req.once('end', onBodyEnd);
}

function onBodyEnd(this: IncomingMessage): void {
  this.socket?.setTimeout(0);
}

/**
 * SiteHost is one site of the server: its configuration (web.config files, re-read on change),
 * its applications and their workers, its pipeline and its access log. Listeners (listener.ts)
 * choose the site of a request by its binding and hand the request here; a site owns no socket.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { join, resolve, sep } from 'node:path';
import type { FollowSymlinks } from '../config/host-config.js';
import { SiteConfig, type HostDefaults } from '../config/site-config.js';
import { SitePaths, type Mount } from '../config/site-paths.js';
import type { InboundRule } from '../config/rewrite-types.js';
import type { FolderConfig } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import { AppHost } from '../iisnode/app-host.js';
import type { BindingStatus, DebugStarted } from '../control/admin-api.js';
import type { NodehostError } from '../errors.js';
import type { FrontDoor } from '../iisnode/front-door-share.js';
import { LogCapture } from '../iisnode/log-files/log-capture.js';
import { AccessLog } from '../modules/access-log/access-log.js';
import { createLogFolderModule, type LogFolderModule } from '../modules/log-folder/log-folder.js';
import type { HttpResponse } from '../http/http-response.js';
import { isLoopbackAddress } from '../http/is-loopback-address.js';
import type { SiteHandle } from '../http/site-handle.js';
import type { TrustedProxies } from '../http/trusted-proxies.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { builtinModules, builtinResponseFilters, type SiteServices } from '../pipeline/builtin-modules.js';
import { checkSite, effectiveConfig, type EffectiveConfig } from '../config/check.js';
import type { SiteMetrics } from '../control/metrics.js';
import { UsersFile } from '../modules/authentication/users-file.js';
import { RequestMetrics } from '../modules/request-metrics/request-metrics.js';
import { ConfigReloadWatcher } from './config-reload.js';
import { createUpgradeResponse } from './upgrade-response.js';

export interface SiteHostOptions {
  readonly root: string;
  readonly name: string;
  /** IIS's site ID: the site's number in the host configuration, from 1. */
  readonly id?: number | undefined;
  /** The site's applications and virtual directories under URL prefixes. */
  readonly mounts?: readonly Mount[] | undefined;
  /** Folder of the site's access log; '' turns it off. */
  readonly accessLogDir: string;
  /** Global URL Rewrite rules from nodehost.yml, run before web.config's rules; fixed for the server's life. */
  readonly globalRules?: readonly InboundRule[] | undefined;
  readonly log: HostLog;
  readonly frontDoor?: FrontDoor | undefined;
  readonly onRecycleSignal?: ((scriptPath: string) => void) | undefined;
  /** The site's users file for Basic authentication; absent: none. */
  readonly usersFile?: string | undefined;
  /** Count requests for /metrics (modules/request-metrics); true by default. */
  readonly metrics?: boolean | undefined;
  /** Defaults from nodehost.yml merged under the site's web.config files (host-wide compression). */
  readonly hostDefaults?: HostDefaults | undefined;
  /** The health probes on the site's port (nodehost.yml `admin.healthPath`); absent: none. */
  readonly health?: SiteServices['health'];
}

/** Site is the live handle the pipeline reads; `config` is replaced whole when it is re-read. */
export class Site implements SiteHandle {
  readonly root: string;
  readonly name: string;
  readonly id: number;
  readonly paths: SitePaths | undefined;
  /** Set by the server from nodehost.yml (a reload replaces it); undefined: no proxy is trusted. */
  trustedProxies: TrustedProxies | undefined = undefined;
  /** Set by the server from nodehost.yml `followSymlinks` (a reload replaces it). */
  followSymlinks: FollowSymlinks = 'inside';
  /** Set from nodehost.yml (a host configuration reload replaces it, then the configuration is re-read). */
  hostDefaults: HostDefaults;
  config: SiteConfig;
  /** Not part of web.config: a configuration reload keeps them. */
  readonly globalRules: readonly InboundRule[] | undefined;
  constructor(
    root: string,
    name: string,
    globalRules: readonly InboundRule[] | undefined,
    id = 1,
    mounts: readonly Mount[] = [],
    hostDefaults: HostDefaults = {},
  ) {
    this.root = root;
    this.name = name;
    this.id = id;
    this.paths = mounts.length === 0 ? undefined : new SitePaths(root, mounts);
    this.globalRules = globalRules;
    this.hostDefaults = hostDefaults;
    this.config = this.load();
  }

  /** load reads every web.config of the site (its applications and virtual directories included), over the host's defaults. */
  load(): SiteConfig {
    return SiteConfig.load(this.root, process.env, this.hostDefaults, this.paths);
  }
}

/** SiteStatus is one site's part of the control API's `status`. */
export interface SiteStatus {
  site: string;
  root: string;
  /** The site's first listener URL ('' before it listens). */
  url: string;
  /** Each binding as configured, with the address its port listens on. */
  bindings: readonly BindingStatus[];
  configError: string;
  apps: (ReturnType<AppHost['stats']>['apps'][number] & { logUrl: string })[];
}

export class SiteHost {
  readonly site: Site;
  readonly #log: HostLog;
  readonly #appHost: AppHost;
  readonly #pipeline: Pipeline;
  readonly #logCapture: LogCapture;
  readonly #logFolder: LogFolderModule;
  readonly #accessLog: AccessLog | undefined;
  readonly #users: UsersFile | undefined;
  readonly #requestMetrics: RequestMetrics | undefined;
  readonly #health: SiteServices['health'];
  /** Entry scripts with preload="true", started with the server (/ready waits for them). */
  #preloaded: string[] = [];
  /** Watches the web.config files; a change marks the configuration for re-reading. */
  readonly #configWatcher: ConfigReloadWatcher;
  #isConfigDirty = false;
  /** A re-read configuration with errors: the last good one keeps serving, loopback clients see the errors. */
  #brokenConfig: SiteConfig | undefined = undefined;
  #loopbackPipeline: Pipeline | undefined = undefined;
  /** Requests whose response has not finished yet; shutdown waits for them. */
  #inFlight = 0;
  #onIdle: (() => void) | undefined;
  #isClosing = false;
  /** The URL of the site's first listener, set by the server once it listens. */
  url = '';
  /** The site's bindings and where each listens, set by the server once it listens (and after a reload). */
  bindings: readonly BindingStatus[] = [];

  constructor(options: SiteHostOptions) {
    this.#log = options.log;
    const root = resolve(options.root);
    this.site = new Site(root, options.name, options.globalRules, options.id, options.mounts, options.hostDefaults);
    for (const err of this.site.config.errors) options.log.warn('configuration error', { site: options.name, error: err.toString() });
    const site = this.site;
    this.#users =
      options.usersFile === undefined ? undefined : new UsersFile(options.usersFile, (error) => options.log.warn('users file', { error: error.toString() }));
    this.#requestMetrics = options.metrics === false ? undefined : new RequestMetrics(site.name);
    this.#health = options.health;
    const logCapture = new LogCapture({ log: options.log });
    this.#logCapture = logCapture;
    this.#logFolder = createLogFolderModule(site, logCapture);
    this.#accessLog = options.accessLogDir === '' ? undefined : new AccessLog({ dir: options.accessLogDir, log: options.log });
    this.#appHost = new AppHost({
      log: options.log,
      resolveApp: (scriptPath, folder) => logCapture.prepare(scriptPath, site.config.resolveAppSettings(scriptPath, folder)),
      onOutput: logCapture.onOutput,
      frontDoor: options.frontDoor,
      onRecycleSignal: options.onRecycleSignal,
    });
    this.#pipeline = new Pipeline({
      site,
      responseFilters: builtinResponseFilters(),
      modules: builtinModules(site, this.#appHost, {
        logFolder: this.#logFolder,
        users: this.#users,
        health: this.#health,
        ...(this.#accessLog === undefined ? {} : { accessLog: this.#accessLog }),
        ...(this.#requestMetrics === undefined ? {} : { requestMetrics: this.#requestMetrics }),
      }),
      log: options.log,
      onRequestClosed: this.#onResponseClose,
    });
    this.#configWatcher = new ConfigReloadWatcher({
      siteRoot: root,
      paths: this.site.paths,
      pollingIntervalMs: this.site.config.forPath('/').iisnode.uncFileChangesPollingInterval,
      onChange: this.#onConfigChange,
    });
  }

  /** startWatching starts noticing web.config changes (once the server listens). */
  startWatching(): void {
    this.#configWatcher.start();
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
      if (this.#brokenConfig !== undefined) this.#log.info('config fixed', { site: this.site.name });
      this.#brokenConfig = undefined;
      this.#loopbackPipeline = undefined;
      this.site.config = next;
      this.#log.info('config reloaded', { site: this.site.name, files: next.files.length });
      return;
    }
    const known = new Set((this.#brokenConfig ?? this.site.config).errors.map((err) => err.toString()));
    for (const err of next.errors) {
      if (!known.has(err.toString()))
        this.#log.error('config error', { site: this.site.name, code: err.code, where: err.where(), message: err.message, keeps: 'last good configuration' });
    }
    this.#brokenConfig = next;
    this.#loopbackPipeline = undefined;
  }

  /** useHostWide takes nodehost.yml's settings that apply to every site: the trusted proxies and the symbolic link policy. */
  useHostWide(trustedProxies: TrustedProxies | undefined, followSymlinks: FollowSymlinks): void {
    if (this.site.trustedProxies !== trustedProxies || this.site.followSymlinks !== followSymlinks) this.#loopbackPipeline = undefined;
    this.site.trustedProxies = trustedProxies;
    this.site.followSymlinks = followSymlinks;
  }

  /** useHostDefaults takes a re-read nodehost.yml's defaults; when they changed, the site's configuration is re-read over them. */
  useHostDefaults(defaults: HostDefaults): void {
    if (JSON.stringify(defaults) === JSON.stringify(this.site.hostDefaults)) return;
    this.site.hostDefaults = defaults;
    this.reloadConfig();
  }

  /** recycle recycles the applications (all running ones, or the one whose script has URL path `appUrl`); resolves when each new generation serves or failed. */
  recycle(appUrl?: string): ReturnType<AppHost['recycle']> {
    return this.#appHost.recycle(appUrl === undefined ? undefined : this.#runningScripts(appUrl));
  }

  /** stop stops the applications (all running ones, or the one whose script has URL path `appUrl`); resolves with their scripts once their workers are gone. */
  stop(appUrl?: string): Promise<string[]> {
    return this.#appHost.stop(appUrl === undefined ? undefined : this.#runningScripts(appUrl));
  }

  /** scriptOf is the entry script of URL path `appUrl` in this site. */
  scriptOf(appUrl: string): string {
    const urlPath = decodeURIComponent(appUrl.split('?')[0]!).replace(/^\/*/, '/');
    return this.site.paths === undefined ? join(this.site.root, urlPath) : this.site.paths.physicalPath(urlPath);
  }

  /** startApp starts the application whose entry script has URL path `appUrl` without waiting for a request. */
  async startApp(appUrl: string): Promise<{ script: string; error?: string }> {
    const urlPath = decodeURIComponent(appUrl.split('?')[0]!).replace(/^\/*/, '/');
    const script = this.scriptOf(appUrl);
    const error = await this.#appHost.start(script, this.site.config.forPath(urlPath));
    return error === undefined ? { script } : { script, error: error.toString() };
  }

  /** preload starts every application of the site with preload="true" (errors are logged; the app then starts on a request). */
  async preload(): Promise<void> {
    const report = checkSite(this.site.root, process.env, this.site.hostDefaults, this.site.paths);
    const apps = report.apps.filter((app) => app.settings.preload);
    this.#preloaded = apps.map((app) => app.scriptPath);
    await Promise.all(
      apps.map(async (app) => {
        const error = await this.#appHost.start(app.scriptPath, this.site.config.forPath(app.url));
        if (error !== undefined) this.#log.error('preload failed', { site: this.site.name, script: app.scriptPath, code: error.code, message: error.message });
        else this.#log.info('app preloaded', { site: this.site.name, script: app.scriptPath });
      }),
    );
  }

  /** notReady names the first preload="true" application without a serving generation; '' when there is none. */
  notReady(): string {
    const apps = this.#appHost.stats().apps;
    for (const script of this.#preloaded) {
      const app = apps.find((a) => a.script === script);
      if (app === undefined || app.generation === 0 || app.ready === 0) return `${script} (preload) has no serving generation yet`;
    }
    return '';
  }

  /** metrics is the site's part of a /metrics scrape. */
  metrics(): SiteMetrics {
    const paths = this.site.paths;
    return {
      root: this.site.root,
      ...(paths === undefined ? {} : { urlOf: (script: string) => paths.urlOf(script) }),
      requests: this.#requestMetrics?.snapshot() ?? { site: this.site.name, bytesIn: 0, bytesOut: 0, apps: [] },
      apps: this.#appHost.stats().apps,
      ...(this.#accessLog === undefined ? {} : { accessLog: { bytesWritten: this.#accessLog.bytesWritten, dropped: this.#accessLog.dropped } }),
    };
  }

  #runningScripts(appUrl: string): string[] {
    const script = this.scriptOf(appUrl);
    return this.#appHost.scripts().filter((running) => running === script || running.toLowerCase() === script.toLowerCase());
  }

  /** recycleScript recycles the running application of one entry script (a relayed IISNODE_CONTROL_PIPE recycle). */
  recycleScript(scriptPath: string, reason: string): ReturnType<AppHost['recycle']> {
    return this.#appHost.recycle([scriptPath], reason);
  }

  /** runs tells whether an entry script belongs to this site's applications. */
  runs(scriptPath: string): boolean {
    return this.#appHost.scripts().includes(scriptPath);
  }

  status(): SiteStatus {
    return {
      site: this.site.name,
      root: this.site.root,
      url: this.url,
      bindings: this.bindings,
      configError: this.#brokenConfig?.errors[0]?.toString() ?? '',
      apps: this.#appHost.stats().apps.map((app) => ({ ...app, logUrl: this.#logUrlOf(app.script) })),
    };
  }

  /** startDebug starts the debug session of the running application at URL `appUrl` (undefined: none runs there). */
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
    const urlPath = decodeURIComponent(appUrl.split('?')[0]!).replace(/^\/*/, '/');
    return effectiveConfig(this.site.root, urlPath, this.site.hostDefaults, this.site.paths);
  }

  /** logUrlOf is the URL path of an application's log folder when the site serves it ('' otherwise: logging off, or a folder outside the site). */
  #logUrlOf(script: string): string {
    const dir = this.#logCapture.directoryOf(script);
    if (dir === undefined || !dir.startsWith(this.site.root + sep)) return '';
    return `${dir.slice(this.site.root.length).split(sep).join('/')}/`;
  }

  /** gracefulShutdownTimeout is the site's bound on waiting for in-flight requests at shutdown. */
  get gracefulShutdownTimeout(): number {
    return this.site.config.forPath('/').iisnode.gracefulShutdownTimeout;
  }

  /** stopWatching ends the watchers and live log streams (first step of shutdown); new responses close their connections. */
  stopWatching(): void {
    this.#isClosing = true;
    // Live log streams (index page events, tails) would otherwise hold the shutdown open.
    this.#logFolder.close();
    this.#configWatcher.close();
  }

  /** drained resolves once no request is in flight, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise<void>((done) => {
      const timer = setTimeout(done, timeoutMs);
      this.#onIdle = () => {
        clearTimeout(timer);
        done();
      };
    });
  }

  /** close stops every worker and closes the logs. */
  async close(): Promise<void> {
    await this.#appHost.close();
    await this.#logCapture.close();
    await this.#accessLog?.close();
  }

  handleRequest(req: IncomingMessage, res: HttpResponse, isHttps: boolean): void {
    // The pipeline calls #onResponseClose when the response has closed (onRequestClosed).
    this.#inFlight++;
    // While shutting down, answered connections are not kept alive.
    if (this.#isClosing) res.shouldKeepAlive = false;
    // The next request after a web.config change sees it (DESIGN §3).
    if (this.#isConfigDirty) this.reloadConfig();
    if (this.#brokenConfig !== undefined && this.#isLoopbackClient(req)) {
      void this.#loopbackPipelineFor(this.#brokenConfig).handle(req, res, isHttps);
      return;
    }
    void this.#pipeline.handle(req, res, isHttps);
  }

  /** handleUpgrade runs an upgrade request (WebSocket) through the same pipeline; the iisnode handler tunnels it. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, isHttps: boolean): void {
    if (this.#isClosing) {
      socket.destroy();
      return;
    }
    if (this.#isConfigDirty) this.reloadConfig();
    const { res, upgrade } = createUpgradeResponse(req, socket, head);
    void this.#pipeline.handle(req, res, isHttps, upgrade);
  }

  /** isLoopbackClient tells whether the client (behind trusted proxies: the one they name) is on this machine. */
  #isLoopbackClient(req: IncomingMessage): boolean {
    const peer = req.socket.remoteAddress ?? '';
    const proxies = this.site.trustedProxies;
    return isLoopbackAddress(proxies === undefined ? peer : proxies.client(peer, false, req.headers).address);
  }

  readonly #onConfigChange = (): void => {
    if (this.#isConfigDirty) return;
    this.#isConfigDirty = true;
    // Re-read soon even without a request, so the host log reports a bad edit promptly.
    setImmediate(() => {
      if (this.#isConfigDirty && !this.#isClosing) this.reloadConfig();
    });
  };

  /** loopbackPipelineFor serves loopback clients while a bad edit is pending: its errors where it has them, the last good configuration elsewhere. */
  #loopbackPipelineFor(broken: SiteConfig): Pipeline {
    if (this.#loopbackPipeline !== undefined) return this.#loopbackPipeline;
    const site = this.site;
    const handle = {
      root: site.root,
      name: site.name,
      id: site.id,
      paths: site.paths,
      trustedProxies: site.trustedProxies,
      followSymlinks: site.followSymlinks,
      globalRules: site.globalRules,
      config: {
        forPath(urlPath: string): FolderConfig {
          const bad = broken.forPath(urlPath);
          return bad.errors.length > 0 ? bad : site.config.forPath(urlPath);
        },
      },
    };
    this.#loopbackPipeline = new Pipeline({
      site: handle,
      modules: builtinModules(handle, this.#appHost, { users: this.#users, health: this.#health }),
      responseFilters: builtinResponseFilters(),
      log: this.#log,
      onRequestClosed: this.#onResponseClose,
    });
    return this.#loopbackPipeline;
  }

  readonly #onResponseClose = (): void => {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#onIdle) this.#onIdle();
  };
}

/**
 * NodehostServer owns the public listeners and the sites behind them: one SiteHost per site
 * (configuration, applications, pipeline, access log; site-host.ts) and one Listener per port
 * (HTTP, or HTTPS with HTTP/2; listener.ts) that chooses a request's site by its binding. It
 * starts them, answers the control API for all of them, and shuts everything down gracefully.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { NodehostError } from '../errors.js';
import { DEFAULT_LIMITS, type AcmeSettings, type Binding, type FollowSymlinks, type HostLimits, type TlsFiles } from '../config/host-config.js';
import type { ProxyRange } from '../config/proxy-range.js';
import type { HostDefaults } from '../config/site-config.js';
import type { InboundRule } from '../config/rewrite-types.js';
import type { Mount } from '../config/site-paths.js';
import type { HostEvent, HostLog } from '../host-log.js';
import type { AppHost } from '../iisnode/app-host.js';
import type { FrontDoor } from '../iisnode/front-door-share.js';
import type { AdminTarget, DebugStarted, Readiness } from '../control/admin-api.js';
import type { EffectiveConfig } from '../config/check.js';
import { TrustedProxies } from '../http/trusted-proxies.js';
import { HostMetrics, type MetricsJson } from '../control/metrics.js';
import { AcmeCertificates, type AcmeSite, type CertificateStatus } from './acme/acme-certificates.js';
import { ChallengeAnswers } from './acme/challenge-answers.js';
import { Certificates, type CertificateEntry } from './certificates.js';
import { watchHostFile, type HostFileWatch } from './host-file-watch.js';
import { Listener, type Route } from './listener.js';
import { keepSelfSigned } from './self-signed-files.js';
import { dropPrivileges, type Privileges } from './privileges.js';
import { SiteHost, type Site, type SiteStatus } from './site-host.js';
import type { SystemdNotifier } from './systemd-notify.js';

/** SiteOptions is one site of the long form (nodehost.yml `sites`). */
export interface SiteOptions {
  readonly root: string;
  readonly name: string;
  /** Folder of the site's access log; '' turns it off. */
  readonly accessLogDir: string;
  readonly bindings: readonly Binding[];
  readonly tls?: TlsFiles | undefined;
  /** `tls: { acme: true }`: the https bindings' certificate comes from `ServerOptions.acme`. */
  readonly acme?: boolean | undefined;
  readonly redirectToHttps?: boolean | undefined;
  readonly hsts?: string | undefined;
  /** The site's users file for Basic authentication (nodehost.yml `users:`); absent: none. */
  readonly usersFile?: string | undefined;
  /** The site's applications and virtual directories under URL prefixes. */
  readonly mounts?: readonly Mount[] | undefined;
}

export interface ServerOptions {
  /** The short form's one site (ignored when `sites` is given). */
  readonly siteRoot: string;
  /** The address every listener binds. */
  readonly host: string;
  /** The short form's port: its site is bound to `http://*:<port>`. */
  readonly port: number;
  readonly siteName?: string;
  /**
   * Folder of the short form site's access log; `<siteRoot>/../logs/<siteName>` by default
   * (nodehost.yml `logs: <folder>` gives `<folder>/<siteName>`); '' turns the access log off.
   */
  readonly accessLogDir?: string;
  /** The long form: every site with its bindings. */
  readonly sites?: readonly SiteOptions[] | undefined;
  /** The site (by name) that answers host names no binding has. */
  readonly defaultSite?: string | undefined;
  /** The ACME directory of the sites with `acme: true`. */
  readonly acme?: AcmeSettings | undefined;
  /** Global URL Rewrite rules from nodehost.yml, run before web.config's rules; fixed for the server's life. */
  readonly globalRules?: readonly InboundRule[] | undefined;
  /** The short form site's users file for Basic authentication (nodehost.yml `users:`); absent: none. */
  readonly usersFile?: string | undefined;
  readonly log: HostLog;
  /** The front door this server is (hostProcesses > 1, see front-doors.ts); absent when it is the only one. */
  readonly frontDoor?: FrontDoor | undefined;
  /** Receives the applications' IISNODE_CONTROL_PIPE recycles, so every front door recycles them; absent: the application recycles itself. */
  readonly onRecycleSignal?: ((scriptPath: string) => void) | undefined;
  /** Count requests for /metrics (the 'log' phase step of modules/request-metrics); true by default (nodehost.yml `admin.metrics`). */
  readonly metrics?: boolean | undefined;
  /** Re-reads nodehost.yml into options (throws NodehostError naming file:line); absent: there is no file to re-read. */
  readonly reread?: (() => ServerOptions) | undefined;
  /** nodehost.yml, watched for changes (each one re-reads it through `reread`). */
  readonly hostConfigFile?: string | undefined;
  /** The balancers whose X-Forwarded-For / X-Forwarded-Proto are believed (nodehost.yml `trustedProxies`); absent: none. */
  readonly trustedProxies?: readonly ProxyRange[] | undefined;
  /** Defaults from nodehost.yml merged under every site's web.config files (host-wide compression, and the web.config of `serve app.js`); a host configuration reload replaces them. */
  readonly hostDefaults?: HostDefaults | undefined;
  /** Client timeouts and the connection cap of every listener (nodehost.yml `limits`); DEFAULT_LIMITS when absent; fixed for the server's life (a reload warns). */
  readonly limits?: HostLimits | undefined;
  /** Which symbolic links every site's static files may be reached through (nodehost.yml `followSymlinks`); `inside` when absent. */
  readonly followSymlinks?: FollowSymlinks | undefined;
  /** The URL prefix of `/ready` and `/live` on every site (nodehost.yml `admin.healthPath`); fixed for the server's life. */
  readonly healthPath?: string | undefined;
  /** The user and group to switch to once the ports are bound (nodehost.yml `user:`, `group:`); absent: keep the host's own. */
  readonly privileges?: Privileges | undefined;
  /** Tells systemd about each reload (RELOADING=1, then READY=1), whatever asked for it; absent: nobody is told (a front door: its primary tells). */
  readonly notifier?: SystemdNotifier | undefined;
}

/** ServerStatus is the control API's `status`: the first site's fields (as with one site), every application, and with several sites each one's own. */
export interface ServerStatus extends SiteStatus {
  sites?: SiteStatus[];
  /** The automatic certificates (sites with `tls: { acme: true }`): names, issuer, expiry, state. */
  certificates?: CertificateStatus[];
}

/** shortFormSite is the one site of the short form, bound to every host name on `port`. */
function shortFormSite(options: ServerOptions): SiteOptions {
  const root = resolve(options.siteRoot);
  const name = options.siteName ?? basename(root);
  return {
    root,
    name,
    accessLogDir: options.accessLogDir ?? resolve(root, '..', 'logs', name),
    usersFile: options.usersFile,
    bindings: [{ protocol: 'http', host: '*', port: options.port, text: `http://*:${options.port}` }],
  };
}

/** Port is what one listener serves: its protocol, the routes of its bindings and its sites' certificates. */
interface PortPlan {
  readonly protocol: 'http' | 'https';
  readonly routes: Route[];
  readonly tls: CertificateEntry[];
  /** The local address to listen on: the one IP of the port's bindings when they all name the same, else the server's `host`. */
  address: string;
}

/** Plan is a host configuration turned into sites and ports, before anything listens. */
interface Plan {
  readonly sites: SiteHost[];
  readonly ports: Map<number, PortPlan>;
  readonly defaultRoute: Route | undefined;
  readonly trustedProxies: TrustedProxies | undefined;
  /** The automatic certificates of the sites with `acme: true`: the running ones when their settings and sites are unchanged. */
  readonly acme: AcmeCertificates | undefined;
  readonly acmeKey: string;
}

/** trustedProxiesOf builds the matcher of trustedProxies; undefined when there are none. */
function trustedProxiesOf(ranges: readonly ProxyRange[] | undefined): TrustedProxies | undefined {
  return ranges === undefined || ranges.length === 0 ? undefined : new TrustedProxies(ranges);
}

/** siteKey is what makes a site the same across a host configuration reload; a site whose key changed is replaced (its workers too). */
function siteKey(spec: SiteOptions, options: ServerOptions): string {
  const rules = JSON.stringify(options.globalRules ?? null, (_key, value: unknown) =>
    value instanceof RegExp ? String(value) : value instanceof Map ? [...value] : value,
  );
  return JSON.stringify([spec.root, spec.accessLogDir, spec.usersFile ?? '', spec.mounts ?? [], rules]);
}

/** acmeSitesOf lists the sites with `acme: true`, each with the names of its https bindings and its challenge. */
function acmeSitesOf(specs: readonly SiteOptions[]): AcmeSite[] {
  return specs
    .filter((spec) => spec.acme === true)
    .map((spec) => ({
      name: spec.name,
      names: [...new Set(spec.bindings.filter((binding) => binding.protocol === 'https').map((binding) => binding.host))],
      challenge: spec.bindings.some((binding) => binding.protocol === 'http') ? ('http-01' as const) : ('tls-alpn-01' as const),
    }));
}

export class NodehostServer implements AdminTarget {
  #options: ServerOptions;
  #sites: SiteHost[];
  readonly #keys = new WeakMap<SiteHost, string>();
  /** By configured port (0 stays 0: the port the system picked is kept across reloads). */
  readonly #listeners = new Map<number, Listener>();
  readonly #metrics: HostMetrics;
  /** The last host configuration reload's error ('' when it applied). */
  #hostConfigError = '';
  #reloading: Promise<string> = Promise.resolve('');
  #hostFileWatch: HostFileWatch | undefined;
  /** Listeners a reload removed; shutdown ends their connections. */
  readonly #retired: Listener[] = [];
  #isListening = false;
  /** The ACME challenges under way, answered by every listener (one for the server's life, so a reload's new orders are answered too). */
  readonly #challenges = new ChallengeAnswers();
  #acme: AcmeCertificates | undefined;
  /** What #acme was made for (settings and sites); a reload with the same keeps it and its timers. */
  #acmeKey = '';
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions) {
    this.#options = options;
    const plan = this.#plan(options, []);
    this.#sites = plan.sites;
    for (const site of plan.sites) site.useHostWide(plan.trustedProxies, options.followSymlinks ?? 'inside');
    this.#useAcme(plan);
    for (const [port, spec] of plan.ports) this.#listeners.set(port, this.#newListener(port, spec, plan.defaultRoute));
    this.#metrics = new HostMetrics({
      hostProcess: options.frontDoor?.index ?? 0,
      sites: () => this.#sites.map((site) => site.metrics()),
      listeners: () => [...this.#listeners.values()].map((listener) => listener.metrics()),
    });
  }

  /** plan builds the sites (keeping the `current` ones whose key is unchanged) and the ports of a configuration; it starts nothing. */
  #plan(options: ServerOptions, current: readonly SiteHost[]): Plan {
    const specs = options.sites ?? [shortFormSite(options)];
    const trustedProxies = trustedProxiesOf(options.trustedProxies);
    const siteOf = new Map<SiteOptions, SiteHost>();
    const sites = specs.map((spec, index) => {
      const key = siteKey(spec, options);
      const kept = current.find((site) => site.site.name === spec.name && this.#keys.get(site) === key);
      const host =
        kept ??
        new SiteHost({
          root: spec.root,
          name: spec.name,
          id: index + 1,
          mounts: spec.mounts,
          accessLogDir: spec.accessLogDir,
          globalRules: options.globalRules,
          log: options.log,
          frontDoor: options.frontDoor,
          onRecycleSignal: options.onRecycleSignal,
          usersFile: spec.usersFile,
          metrics: options.metrics,
          hostDefaults: options.hostDefaults,
          health: options.healthPath === undefined ? undefined : { path: options.healthPath, readiness: () => this.readiness() },
        });
      this.#keys.set(host, key);
      siteOf.set(spec, host);
      return host;
    });
    const routeOf = (spec: SiteOptions, binding: Binding): Route => {
      const httpsPort = spec.redirectToHttps === true ? spec.bindings.find((b) => b.protocol === 'https')?.port : undefined;
      return { binding, site: siteOf.get(spec)!, httpsPort, hsts: spec.hsts };
    };
    const defaultSpec = specs.find((spec) => spec.name === options.defaultSite);
    const defaultRoute = defaultSpec === undefined ? undefined : routeOf(defaultSpec, { ...defaultSpec.bindings[0]!, host: '*' });
    const acmeSites = acmeSitesOf(specs);
    const acmeKey = JSON.stringify([options.acme ?? null, acmeSites]);
    const acme =
      acmeSites.length === 0 || options.acme === undefined
        ? undefined
        : acmeKey === this.#acmeKey && this.#acme !== undefined
          ? this.#acme
          : new AcmeCertificates(options.acme, acmeSites, options.log, this.#challenges);
    // An ACME site's certificate and key are its PEM file in the storage: a reload reads what was issued.
    const tlsOf = (spec: SiteOptions): TlsFiles | undefined => {
      if (spec.tls !== undefined) keepSelfSigned(spec.name, spec.tls, this.#options.log);
      if (spec.acme !== true || acme === undefined) return spec.tls;
      const pem = acme.pemFile(spec.name);
      return { certificate: pem, key: pem };
    };
    const ports = new Map<number, PortPlan>();
    for (const spec of specs) {
      const tls = tlsOf(spec);
      for (const binding of spec.bindings) {
        const port = ports.get(binding.port) ?? { protocol: binding.protocol, routes: [], tls: [], address: binding.address ?? options.host };
        if (port.address !== (binding.address ?? options.host)) port.address = options.host;
        port.routes.push(routeOf(spec, binding));
        if (tls !== undefined) port.tls.push({ host: binding.host, files: tls });
        ports.set(binding.port, port);
      }
    }
    return { sites, ports, defaultRoute, trustedProxies, acme, acmeKey };
  }

  /** certificatesOf reads an https port's certificates (throws NH_ERR_TLS_CERTIFICATE); undefined for http. */
  #certificatesOf(spec: PortPlan): Certificates | undefined {
    if (spec.protocol !== 'https') return undefined;
    // The default certificate: the `*` binding's site, else the first site on the port.
    const fallback = spec.tls.find((entry) => entry.host === '*') ?? spec.tls[0]!;
    return new Certificates(spec.tls, fallback.files, this.#options.log);
  }

  #newListener(port: number, spec: PortPlan, defaultRoute: Route | undefined, certificates = this.#certificatesOf(spec)): Listener {
    const { protocol, routes, address } = spec;
    const acmeChallenges = this.#challenges;
    const limits = this.#options.limits ?? DEFAULT_LIMITS;
    return new Listener({ address, port, protocol, routes, defaultSite: defaultRoute, certificates, acmeChallenges, limits, log: this.#options.log });
  }

  /** useAcme takes a plan's automatic certificates (closing others it replaces); a new certificate is read at once, not only when the folder watch sees it. */
  #useAcme(plan: Plan): void {
    if (plan.acme !== this.#acme) {
      this.#acme?.close();
      if (this.#isListening) plan.acme?.start();
    }
    this.#acme = plan.acme;
    this.#acmeKey = plan.acmeKey;
    if (plan.acme !== undefined)
      plan.acme.onIssued = () => {
        for (const listener of this.#listeners.values()) listener.reloadCertificates();
      };
  }

  /**
   * reconfigure applies a re-read host configuration without dropping a connection: sites whose
   * root, mounts, users file, access log and global rules are unchanged keep their workers; the
   * others are built anew and the old ones drain and close; ports that stay keep their sockets
   * and take the new routes and certificates; new ports start listening, removed ones stop
   * taking connections. Throws before changing anything when a certificate cannot be read.
   */
  async reconfigure(options: ServerOptions): Promise<void> {
    if (options.host !== this.#options.host)
      this.#options.log.warn('host config: a new host address needs a restart', { host: options.host, keeps: this.#options.host });
    const old = this.#sites;
    // What only a restart changes, and how to re-read, stay as they are.
    const { host, reread, hostConfigFile, frontDoor, onRecycleSignal, limits, notifier } = this.#options;
    const next = { ...options, host, reread, hostConfigFile, frontDoor, onRecycleSignal, limits, notifier };
    const plan = this.#plan(next, old);
    const certificates = new Map<number, Certificates | undefined>();
    try {
      for (const [port, spec] of plan.ports) certificates.set(port, this.#certificatesOf(spec));
    } catch (err) {
      for (const site of plan.sites) if (!old.includes(site)) void site.close();
      if (plan.acme !== this.#acme) plan.acme?.close();
      throw err;
    }
    this.#options = next;
    this.#sites = plan.sites;
    this.#useAcme(plan);
    for (const site of plan.sites) site.useHostWide(plan.trustedProxies, next.followSymlinks ?? 'inside');
    for (const site of plan.sites) if (old.includes(site)) site.useHostDefaults(next.hostDefaults ?? {});
    for (const site of plan.sites) if (!old.includes(site)) site.startWatching();
    for (const [port, spec] of plan.ports) {
      const listener = this.#listeners.get(port);
      if (listener !== undefined && listener.protocol === spec.protocol && listener.address === spec.address) {
        listener.update(spec.routes, plan.defaultRoute, certificates.get(port));
        continue;
      }
      if (listener !== undefined) this.#retire(listener);
      const fresh = this.#newListener(port, spec, plan.defaultRoute, certificates.get(port));
      this.#listeners.set(port, fresh);
      await fresh.start();
      fresh.release();
    }
    for (const [port, listener] of this.#listeners) {
      if (plan.ports.has(port)) continue;
      this.#retire(listener);
      this.#listeners.delete(port);
    }
    this.#setSiteUrls();
    await Promise.all(plan.sites.filter((site) => !old.includes(site)).map((site) => site.preload()));
    // Replaced sites finish what they serve, then stop their workers.
    for (const site of old) {
      if (plan.sites.includes(site)) continue;
      site.stopWatching();
      void site.drained(site.gracefulShutdownTimeout).then(() => site.close());
    }
  }

  /** setSiteUrls gives each site the URL of its first listener (the control API's `url`) and its bindings with the address each listens on. */
  #setSiteUrls(): void {
    const specs = this.#options.sites ?? [shortFormSite(this.#options)];
    for (const site of this.#sites) {
      site.url = [...this.#listeners.values()].find((listener) => listener.serves(site))?.url ?? '';
      // Listeners are kept by configured port, so each binding finds the one that serves it.
      const bindings = specs.find((spec) => spec.name === site.site.name)?.bindings ?? [];
      site.bindings = bindings.map((binding) => ({ binding: binding.text, listening: this.#listeners.get(binding.port)?.url ?? '' }));
    }
  }

  /** retire stops a listener a reload removed: no new connections; open ones finish (shutdown ends them). */
  #retire(listener: Listener): void {
    listener.stop();
    this.#retired.push(listener);
  }

  /**
   * reloadHost re-reads nodehost.yml (ServerOptions.reread) and applies it (reconfigure). A
   * broken file changes nothing: the error (file:line) is logged, shown by status and returned.
   * Resolves with '' when it applied or there is no file.
   */
  reloadHost(): Promise<string> {
    // One at a time, in order: a reload that starts while another applies waits for it.
    this.#reloading = this.#reloading.then(() => this.#reloadHostNow());
    return this.#reloading;
  }

  async #reloadHostNow(): Promise<string> {
    const reread = this.#options.reread;
    if (reread === undefined || this.#closing !== undefined) return '';
    try {
      await this.reconfigure(reread());
      if (this.#hostConfigError !== '') this.#options.log.info('host config fixed', {});
      this.#hostConfigError = '';
      this.#options.log.info('host config reloaded', { sites: this.#sites.map((site) => site.site.name) });
    } catch (err) {
      const error = err instanceof NodehostError ? err : new NodehostError('NH_ERR_CONFIG_HOST', (err as Error).message, { cause: err });
      this.#hostConfigError = error.toString();
      this.#options.log.error('host config error', { code: error.code, where: error.where(), message: error.message, keeps: 'running configuration' });
    }
    return this.#hostConfigError;
  }

  /** site is the first site (the short form's only one); the control socket is found by its root. */
  get site(): Site {
    return this.#sites[0]!.site;
  }

  /** urls lists every listener's URL once started. */
  get urls(): string[] {
    return [...this.#listeners.values()].map((listener) => listener.url);
  }

  /** reloadConfig re-reads every site's web.config files now (SiteHost.reloadConfig). */
  reloadConfig(): void {
    for (const site of this.#sites) site.reloadConfig();
  }

  /** recycle recycles the applications of every site (all running ones, or the ones whose script has URL path `appUrl`). */
  async recycle(appUrl?: string): ReturnType<AppHost['recycle']> {
    const results = await Promise.all(this.#sites.map((site) => site.recycle(appUrl)));
    return results.flat();
  }

  /** recycleScript recycles the running application of one entry script (a relayed IISNODE_CONTROL_PIPE recycle). */
  async recycleScript(scriptPath: string, reason: string): ReturnType<AppHost['recycle']> {
    const owners = this.#sites.filter((site) => site.runs(scriptPath));
    const results = await Promise.all((owners.length > 0 ? owners : this.#sites).map((site) => site.recycleScript(scriptPath, reason)));
    return results.flat();
  }

  /** stop stops the applications of every site (all running ones, or the ones whose script has URL path `appUrl`); resolves with their scripts once their workers are gone. */
  async stop(appUrl?: string): Promise<string[]> {
    const results = await Promise.all(this.#sites.map((site) => site.stop(appUrl)));
    return results.flat();
  }

  /** startApp starts the application whose entry script has URL path `appUrl`, in the first site that has that script. */
  startApp(appUrl: string): Promise<{ script: string; error?: string }> {
    const site = this.#sites.find((candidate) => existsSync(candidate.scriptOf(appUrl))) ?? this.#sites[0]!;
    return site.startApp(appUrl);
  }

  /**
   * reload re-reads the configuration now, nodehost.yml then every web.config (SIGHUP, the file
   * watch and the admin API's reload), between RELOADING=1 and READY=1 to systemd; configError
   * is '' when both are valid.
   */
  async reload(): Promise<{ configError: string }> {
    // Once shutting down, systemd has been told STOPPING=1: a reload then is not news to it.
    const notifier = this.#closing === undefined ? this.#options.notifier : undefined;
    void notifier?.reloading('reloading the configuration');
    const hostError = await this.reloadHost();
    this.reloadConfig();
    const configError = hostError || this.status().configError;
    void notifier?.ready(`listening on ${this.urls[0]}${configError === '' ? '' : ' (configuration errors: the last good configuration serves)'}`);
    return { configError };
  }

  /** metrics renders this process's /metrics. */
  metrics(): Promise<string> {
    return this.#metrics.text();
  }

  /** metricsJson is this process's metrics for the primary to merge (hostProcesses > 1). */
  metricsJson(): Promise<MetricsJson> {
    return this.#metrics.json();
  }

  /** readiness: listening, not shutting down, and every preload="true" application of every site has a serving generation. */
  readiness(): Readiness {
    if (this.#closing !== undefined) return { isReady: false, reason: 'shutting down' };
    if (!this.#isListening) return { isReady: false, reason: 'not listening yet' };
    for (const site of this.#sites) {
      const reason = site.notReady();
      if (reason !== '') return { isReady: false, reason };
    }
    return { isReady: true, reason: '' };
  }

  /** preload starts every site's applications with preload="true". */
  async preload(): Promise<void> {
    await Promise.all(this.#sites.map((site) => site.preload()));
  }

  /** status is a snapshot of the sites and their applications (the control API's `status`). */
  status(): ServerStatus {
    const statuses = this.#sites.map((site) => site.status());
    const first = statuses[0]!;
    const certificates = this.#acme === undefined ? {} : { certificates: this.#acme.status() };
    if (statuses.length === 1) return { ...first, ...(this.#hostConfigError === '' ? {} : { configError: this.#hostConfigError }), ...certificates };
    return {
      ...certificates,
      site: first.site,
      root: first.root,
      url: first.url,
      bindings: first.bindings,
      configError: this.#hostConfigError || (statuses.find((status) => status.configError !== '')?.configError ?? ''),
      apps: statuses.flatMap((status) => status.apps.map((app) => ({ ...app, site: status.site }))),
      sites: statuses,
    };
  }

  /** siteOfApp is the site whose entry script `appUrl` names and is running (else the first whose file exists, else the first). */
  #siteOfApp(appUrl: string): SiteHost {
    return this.#sites.find((site) => site.runs(site.scriptOf(appUrl))) ?? this.#sites.find((site) => existsSync(site.scriptOf(appUrl))) ?? this.#sites[0]!;
  }

  /** startDebug starts the debug session of the running application at URL `appUrl`. */
  startDebug(appUrl: string, isBreak: boolean): Promise<DebugStarted | NodehostError | undefined> {
    return this.#siteOfApp(appUrl).startDebug(appUrl, isBreak);
  }

  /** stopDebug ends the debug session of the running application at URL `appUrl`. */
  stopDebug(appUrl: string): Promise<boolean | undefined> {
    return this.#siteOfApp(appUrl).stopDebug(appUrl);
  }

  /** appConfig is the effective configuration of the application at URL `appUrl` (the first site that has one there), read from the files now. */
  appConfig(appUrl: string): EffectiveConfig | undefined {
    for (const site of this.#sites) {
      const config = site.appConfig(appUrl);
      if (config !== undefined) return config;
    }
    return undefined;
  }

  /** events are this process's recent host events. */
  events(): HostEvent[] {
    return this.#options.log.recent();
  }

  /** start listens on every port and resolves with the first listener's URL once connections are accepted. */
  async start(): Promise<string> {
    try {
      for (const listener of this.#listeners.values()) await listener.start();
      // Listeners hold their requests until now, so every worker starts with the dropped identity.
      dropPrivileges(this.#options.privileges ?? {}, this.#options.log);
    } catch (err) {
      for (const listener of this.#listeners.values()) listener.stop();
      throw err;
    }
    for (const listener of this.#listeners.values()) listener.release();
    this.#setSiteUrls();
    for (const site of this.#sites) site.startWatching();
    const file = this.#options.hostConfigFile;
    if (file !== undefined) this.#hostFileWatch = watchHostFile(file, () => void this.reload(), this.#options.log);
    this.#acme?.start();
    this.#isListening = true;
    return this.urls[0]!;
  }

  /**
   * close stops accepting connections, lets in-flight requests finish (bounded by each
   * site's gracefulShutdownTimeout), then stops every worker. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#hostFileWatch?.close();
    this.#acme?.close();
    for (const site of this.#sites) site.stopWatching();
    const listeners = [...this.#listeners.values(), ...this.#retired];
    for (const listener of listeners) listener.stop();
    await Promise.all(this.#sites.map((site) => site.drained(site.gracefulShutdownTimeout)));
    for (const listener of listeners) listener.destroyAll();
    await Promise.all(this.#sites.map((site) => site.close()));
    this.#metrics.close();
  }
}

/**
 * NodehostServer owns the public listeners and the sites behind them: one SiteHost per site
 * (configuration, applications, pipeline, access log; site-host.ts) and one Listener per port
 * (HTTP, or HTTPS with HTTP/2; listener.ts) that chooses a request's site by its binding. It
 * starts them, answers the control API for all of them, and shuts everything down gracefully.
 */
import { basename, resolve } from 'node:path';
import type { AcmeSettings, Binding, TlsFiles } from '../config/host-config.js';
import type { InboundRule } from '../config/rewrite-types.js';
import type { HostLog } from '../host-log.js';
import type { AppHost } from '../iisnode/app-host.js';
import type { FrontDoor } from '../iisnode/front-door-share.js';
import { AcmeCertificates, type CertificateStatus } from './acme/acme-certificates.js';
import { Certificates, type CertificateEntry } from './certificates.js';
import { Listener, type Route } from './listener.js';
import { SiteHost, type Site, type SiteStatus } from './site-host.js';

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
  readonly log: HostLog;
  /** The front door this server is (hostProcesses > 1, see front-doors.ts); absent when it is the only one. */
  readonly frontDoor?: FrontDoor | undefined;
  /** Receives the applications' IISNODE_CONTROL_PIPE recycles, so every front door recycles them; absent: the application recycles itself. */
  readonly onRecycleSignal?: ((scriptPath: string) => void) | undefined;
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
    bindings: [{ protocol: 'http', host: '*', port: options.port, text: `http://*:${options.port}` }],
  };
}

export class NodehostServer {
  readonly #sites: SiteHost[];
  readonly #listeners: Listener[] = [];
  readonly #acme: AcmeCertificates | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions) {
    const specs = options.sites ?? [shortFormSite(options)];
    const siteOf = new Map<SiteOptions, SiteHost>();
    this.#sites = specs.map((spec) => {
      const host = new SiteHost({
        root: spec.root,
        name: spec.name,
        accessLogDir: spec.accessLogDir,
        globalRules: options.globalRules,
        log: options.log,
        frontDoor: options.frontDoor,
        onRecycleSignal: options.onRecycleSignal,
      });
      siteOf.set(spec, host);
      return host;
    });
    const routeOf = (spec: SiteOptions, binding: Binding): Route => {
      const httpsPort = spec.redirectToHttps === true ? spec.bindings.find((b) => b.protocol === 'https')?.port : undefined;
      return { binding, site: siteOf.get(spec)!, httpsPort, hsts: spec.hsts };
    };
    const defaultSpec = specs.find((spec) => spec.name === options.defaultSite);
    const defaultRoute = defaultSpec === undefined ? undefined : routeOf(defaultSpec, { ...defaultSpec.bindings[0]!, host: '*' });
    this.#acme = this.#acmeFor(specs, options);
    const tlsOf = (spec: SiteOptions): TlsFiles | undefined => {
      if (spec.acme !== true || this.#acme === undefined) return spec.tls;
      const pem = this.#acme.pemFile(spec.name);
      return { certificate: pem, key: pem };
    };
    const ports = new Map<number, { protocol: 'http' | 'https'; routes: Route[]; tls: CertificateEntry[] }>();
    for (const spec of specs) {
      const tls = tlsOf(spec);
      for (const binding of spec.bindings) {
        const port = ports.get(binding.port) ?? { protocol: binding.protocol, routes: [], tls: [] };
        port.routes.push(routeOf(spec, binding));
        if (tls !== undefined) port.tls.push({ host: binding.host, files: tls });
        ports.set(binding.port, port);
      }
    }
    const allCertificates: Certificates[] = [];
    for (const [port, { protocol, routes, tls }] of ports) {
      let certificates: Certificates | undefined;
      if (protocol === 'https') {
        // The default certificate: the `*` binding's site, else the first site on the port.
        const fallback = tls.find((entry) => entry.host === '*') ?? tls[0]!;
        certificates = new Certificates(tls, fallback.files, options.log);
        allCertificates.push(certificates);
      }
      const acmeChallenges = this.#acme?.challenges;
      this.#listeners.push(
        new Listener({ address: options.host, port, protocol, routes, defaultSite: defaultRoute, certificates, acmeChallenges, log: options.log }),
      );
    }
    // A new certificate is read at once (not only when the folder watch sees it).
    if (this.#acme !== undefined)
      this.#acme.onIssued = () => {
        for (const certificates of allCertificates) certificates.reload();
      };
  }

  /** acmeFor makes the automatic certificates of the sites with `acme: true` (none: undefined). */
  #acmeFor(specs: readonly SiteOptions[], options: ServerOptions): AcmeCertificates | undefined {
    const sites = specs
      .filter((spec) => spec.acme === true)
      .map((spec) => ({
        name: spec.name,
        names: [...new Set(spec.bindings.filter((binding) => binding.protocol === 'https').map((binding) => binding.host))],
        challenge: spec.bindings.some((binding) => binding.protocol === 'http') ? ('http-01' as const) : ('tls-alpn-01' as const),
      }));
    if (sites.length === 0 || options.acme === undefined) return undefined;
    return new AcmeCertificates(options.acme, sites, options.log);
  }

  /** site is the first site (the short form's only one); the control socket is found by its root. */
  get site(): Site {
    return this.#sites[0]!.site;
  }

  /** urls lists every listener's URL once started. */
  get urls(): string[] {
    return this.#listeners.map((listener) => listener.url);
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

  /** status is a snapshot of the sites and their applications (the control API's `status`). */
  status(): ServerStatus {
    const statuses = this.#sites.map((site) => site.status());
    const first = statuses[0]!;
    const certificates = this.#acme === undefined ? {} : { certificates: this.#acme.status() };
    if (statuses.length === 1) return { ...first, ...certificates };
    return {
      ...certificates,
      site: first.site,
      root: first.root,
      configError: statuses.find((status) => status.configError !== '')?.configError ?? '',
      apps: statuses.flatMap((status) => status.apps.map((app) => ({ ...app, site: status.site }))),
      sites: statuses,
    };
  }

  /** start listens on every port and resolves with the first listener's URL once connections are accepted. */
  async start(): Promise<string> {
    try {
      for (const listener of this.#listeners) await listener.start();
    } catch (err) {
      for (const listener of this.#listeners) listener.stop();
      throw err;
    }
    for (const site of this.#sites) site.startWatching();
    this.#acme?.start();
    return this.#listeners[0]!.url;
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
    this.#acme?.close();
    for (const site of this.#sites) site.stopWatching();
    for (const listener of this.#listeners) listener.stop();
    await Promise.all(this.#sites.map((site) => site.drained(site.gracefulShutdownTimeout)));
    for (const listener of this.#listeners) listener.destroyAll();
    await Promise.all(this.#sites.map((site) => site.close()));
  }
}

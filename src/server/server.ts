/**
 * NodehostServer owns the public listener of one site: it builds the site's configuration,
 * the application host and the pipeline, serves HTTP, and shuts all of it down gracefully.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, resolve } from 'node:path';
import { SiteConfig } from '../config/site-config.js';
import type { FolderConfig } from '../config/types.js';
import { NodehostError } from '../errors.js';
import type { HostLog } from '../host-log.js';
import { AppHost } from '../iisnode/app-host.js';
import { sendConfigErrorPage } from '../iisnode/error-pages.js';
import type { RequestContext } from '../pipeline/context.js';
import { Pipeline, type SiteHandle } from '../pipeline/pipeline.js';
import { builtinModules } from '../pipeline/builtin-modules.js';
import { sendStatus } from '../modules/status-page.js';

export interface ServerOptions {
  readonly siteRoot: string;
  readonly host: string;
  readonly port: number;
  readonly siteName?: string;
  readonly log: HostLog;
}

/** Site is the live handle the pipeline reads; `config` is replaced whole when it is re-read. */
class Site implements SiteHandle {
  readonly root: string;
  readonly name: string;
  config: SiteConfig;
  constructor(root: string, name: string) {
    this.root = root;
    this.name = name;
    this.config = SiteConfig.load(root);
  }
}

export class NodehostServer {
  readonly site: Site;
  readonly #options: ServerOptions;
  readonly #appHost: AppHost;
  readonly #pipeline: Pipeline;
  readonly #server: Server;
  /** Requests whose response has not finished yet; shutdown waits for them. */
  #inFlight = 0;
  #onIdle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions) {
    this.#options = options;
    const root = resolve(options.siteRoot);
    this.site = new Site(root, options.siteName ?? basename(root));
    for (const err of this.site.config.errors) options.log.warn('configuration error', { error: err.toString() });
    const site = this.site;
    this.#appHost = new AppHost({
      log: options.log,
      resolveApp: (scriptPath, folder) => site.config.resolveAppSettings(scriptPath, folder),
    });
    this.#pipeline = new Pipeline({
      site,
      modules: builtinModules(site, this.#appHost),
      log: options.log,
      onConfigError: respondConfigError,
      sendStatus,
    });
    this.#server = createServer({ keepAliveTimeout: 5000 }, this.#onRequest);
  }

  /** start listens and resolves with the URL once connections are accepted. */
  start(): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      const onError = (err: Error) => reject(new NodehostError('NH_ERR_SERVER_LISTEN', `cannot listen on ${this.#options.host}:${this.#options.port}: ${err.message}`, { cause: err }));
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', onError);
        const address = this.#server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolvePromise(`http://${host}:${address.port}/`);
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
    this.#server.close();
    this.#server.closeIdleConnections();
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
    await this.#appHost.close();
  }

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.#inFlight++;
    res.once('close', this.#onResponseClose);
    // While shutting down, answered connections are not kept alive.
    if (this.#closing) res.shouldKeepAlive = false;
    void this.#pipeline.handle(req, res, false);
  };

  readonly #onResponseClose = (): void => {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#onIdle) this.#onIdle();
  };
}

function respondConfigError(ctx: RequestContext, config: FolderConfig): void {
  sendConfigErrorPage(ctx, config.errors[0]!);
}

/**
 * Pipeline is the phase engine (DESIGN §1, STYLE 2): one flat array of modules in phase
 * order, built once per site. It owns the rules that span modules: parsing the URL,
 * attaching the configuration, and re-mapping the handler after a default document.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FolderConfig } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import { RequestContext } from './context.js';
import { PHASES, type PipelineModule } from './module.js';
import { parseRequestUrl } from './request-url.js';

/** SiteHandle is what the pipeline needs of a site; `config` may be swapped whole on reload. */
export interface SiteHandle {
  readonly root: string;
  readonly name: string;
  readonly config: { forPath(urlPath: string): FolderConfig };
}

/** ConfigErrorResponder answers a request whose configuration has errors (friendly page to local clients). */
export type ConfigErrorResponder = (ctx: RequestContext, config: FolderConfig) => void;

/** StatusResponder writes a plain status page (e.g. 400, 500). */
export type StatusResponder = (ctx: RequestContext, status: number, substatus: number, message: string) => void;

export interface PipelineOptions {
  readonly site: SiteHandle;
  readonly modules: readonly PipelineModule[];
  readonly log: HostLog;
  readonly onConfigError: ConfigErrorResponder;
  readonly sendStatus: StatusResponder;
}

export class Pipeline {
  readonly #site: SiteHandle;
  readonly #steps: readonly PipelineModule[];
  readonly #log: HostLog;
  readonly #onConfigError: ConfigErrorResponder;
  readonly #sendStatus: StatusResponder;

  constructor(options: PipelineOptions) {
    this.#site = options.site;
    // Phase order is fixed; within a phase, the order of the module list. Built once.
    this.#steps = PHASES.flatMap((phase) => options.modules.filter((m) => m.phase === phase));
    this.#log = options.log;
    this.#onConfigError = options.onConfigError;
    this.#sendStatus = options.sendStatus;
  }

  /** handle runs one request through every phase. It never rejects: failures become responses. */
  async handle(req: IncomingMessage, res: ServerResponse, isHttps: boolean): Promise<void> {
    const ctx = new RequestContext(req, res, this.#site, isHttps);
    try {
      await this.#run(ctx);
    } catch (err) {
      this.#log.error('request failed inside nodehost', { url: ctx.rawUrl, err, stack: (err as Error)?.stack });
      if (!res.headersSent) this.#sendStatus(ctx, 500, 0, 'Internal Server Error');
      else res.destroy();
    }
  }

  async #run(ctx: RequestContext): Promise<void> {
    const url = parseRequestUrl(ctx.rawUrl);
    if (url === undefined) {
      this.#sendStatus(ctx, 400, 0, 'Bad Request');
      return;
    }
    ctx.path = url.path;
    ctx.query = url.query;
    ctx.hasQuery = url.hasQuery;
    ctx.physicalPath = this.#site.root + url.path;
    const config = this.#site.config.forPath(url.path);
    ctx.config = config;
    if (config.errors.length > 0) {
      this.#onConfigError(ctx, config);
      return;
    }
    const steps = this.#steps;
    let i = 0;
    while (i < steps.length) {
      const step = steps[i]!;
      const outcome = await step.handle(ctx);
      if (outcome === 'finish') return;
      if (outcome === 'next-phase') {
        const phase = step.phase;
        while (i < steps.length && steps[i]!.phase === phase) i++;
      } else {
        i++;
      }
    }
    // No handler answered: nothing claimed the URL.
    if (!ctx.res.headersSent) this.#sendStatus(ctx, 404, 0, 'Not Found');
  }
}

/**
 * Pipeline is the phase engine (DESIGN §1, STYLE 2): one flat array of modules in phase
 * order, built once per site. It owns the rules that span modules: parsing the URL,
 * attaching the configuration, and re-mapping the handler after a default document.
 */
import type { IncomingMessage } from 'node:http';
import { NodehostError, type ErrorCode } from '../errors.js';
import type { HostLog } from '../host-log.js';
import { equalsIgnoreAsciiCase } from '../http/equals-ignore-ascii-case.js';
import { RequestContext } from '../http/request-context.js';
import type { HttpResponse } from '../http/http-response.js';
import type { PendingUpgrade } from '../http/pending-upgrade.js';
import { fail } from '../http/error-outcome.js';
import { PHASES, type Outcome, type PipelineModule } from '../http/pipeline-module.js';
import { createErrorStep } from './error-step.js';
import type { ErrorResponder } from '../http/request-context.js';
import { ResponseChain } from './response-chain.js';
import type { ResponseFilter } from '../http/response-filter.js';
import { parseRequestUrl } from '../http/request-url.js';
import type { SiteHandle } from '../http/site-handle.js';

export interface PipelineOptions {
  readonly site: SiteHandle;
  readonly modules: readonly PipelineModule[];
  /** The response filters, in chain order (builtin-modules.ts). */
  readonly responseFilters?: readonly ResponseFilter[];
  readonly log: HostLog;
  /**
   * Called once when the response of a request (not an upgrade) has closed, after the 'log'
   * phase: the site's count of requests in flight. It rides on the pipeline's own close hook,
   * so the fast path's response gets no 'close' listener per request for it.
   */
  readonly onRequestClosed?: () => void;
}

export class Pipeline {
  readonly #site: SiteHandle;
  readonly #steps: readonly PipelineModule[];
  /** The 'log' phase (access log): run once the response has closed, finished or cut off. */
  readonly #logSteps: readonly PipelineModule[];
  /** A 'log' step reads the local address after the response (PipelineModule.readsLocalAddress). */
  readonly #isLocalAddressLogged: boolean;
  /** The filter- and authorize-phase modules, run again on a rewritten URL (spec/rewrite.md §1.2 step 4), so a rewrite reaches neither a hidden segment nor a protected folder. */
  readonly #filterSteps: readonly PipelineModule[];
  /** Index of the first step after the rewrite phase. */
  readonly #afterRewrite: number;
  readonly #responseChain: ResponseChain;
  readonly #log: HostLog;
  /** The error step, able to run an httpErrors ExecuteURL page through this pipeline. */
  readonly #errors: ErrorResponder;
  /** The 'log' phase as a response's close hook: one function per pipeline, none per request. */
  readonly #onResponseClosed = (ctx: RequestContext): void => {
    this.#runLogSteps(ctx);
    if (ctx.upgrade === undefined) this.#onRequestClosed?.();
  };
  readonly #onRequestClosed: (() => void) | undefined;

  constructor(options: PipelineOptions) {
    this.#site = options.site;
    // Phase order is fixed; within a phase, the order of the module list. Built once.
    // The 'log' phase runs apart, after the response (see handle).
    this.#steps = PHASES.flatMap((phase) => (phase === 'log' ? [] : options.modules.filter((m) => m.phase === phase)));
    this.#logSteps = options.modules.filter((m) => m.phase === 'log');
    this.#isLocalAddressLogged = this.#logSteps.some((m) => m.readsLocalAddress === true);
    this.#filterSteps = this.#steps.filter((m) => m.phase === 'filter' || m.phase === 'authorize');
    const rewritePhase = PHASES.indexOf('rewrite');
    const after = this.#steps.findIndex((m) => PHASES.indexOf(m.phase) > rewritePhase);
    this.#afterRewrite = after === -1 ? this.#steps.length : after;
    this.#responseChain = new ResponseChain(options.responseFilters ?? []);
    this.#log = options.log;
    this.#onRequestClosed = options.onRequestClosed;
    this.#errors = createErrorStep((ctx, url) => this.#executeErrorUrl(ctx, url));
  }

  /**
   * handle runs one request through every phase. It never throws and what it returns never
   * rejects: failures become responses. Steps that answer synchronously (most do, a static file
   * from memory entirely) are run without a promise; the first step that returns one hands the
   * rest of the request to an async continuation.
   */
  handle(req: IncomingMessage, res: HttpResponse, isHttps: boolean, upgrade?: PendingUpgrade): void {
    const ctx = new RequestContext(req, res, this.#site, isHttps, this.#errors, upgrade);
    // Read now, while the connection is open; the context keeps it for the 'log' phase.
    if (this.#isLocalAddressLogged) void ctx.localAddress;
    if (this.#logSteps.length > 0 || (this.#onRequestClosed !== undefined && upgrade === undefined)) {
      // The fast path's response calls the log phase from its own end code: no 'close'
      // listener, no closure per request.
      if (res.onClosed !== undefined) res.onClosed(this.#onResponseClosed, ctx);
      else res.once('close', () => this.#onResponseClosed(ctx));
    }
    let running: void | Promise<void>;
    try {
      running = this.#run(ctx);
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (running !== undefined) running.catch((err: unknown) => this.#fail(ctx, err));
  }

  /** fail answers a request whose step threw (a bug, not an expected failure) with a 500, and logs it. */
  #fail(ctx: RequestContext, err: unknown): void {
    this.#log.error('request failed inside nodehost', { url: ctx.rawUrl, err, stack: (err as Error)?.stack });
    ctx.sendError(fail(new NodehostError('NH_ERR_INTERNAL', 'A pipeline step failed unexpectedly.', { cause: err })));
  }

  /** runLogSteps runs the 'log' phase of a closed response; a failing log module is reported, never thrown. */
  #runLogSteps(ctx: RequestContext): void {
    for (const step of this.#logSteps) {
      try {
        void step.handle(ctx);
      } catch (err) {
        this.#log.error('log module failed', { module: step.id, err });
      }
    }
  }

  #run(ctx: RequestContext): void | Promise<void> {
    const refusal = refusedHead(ctx.req.rawHeaders);
    if (refusal !== undefined) {
      ctx.res.shouldKeepAlive = false;
      ctx.sendError(fail(refusal));
      return;
    }
    if (ctx.req.method === 'TRACE') {
      ctx.sendError(fail('NH_ERR_REQUEST_TRACE'));
      return;
    }
    if (this.#enter(ctx, ctx.rawUrl)) return this.#runSteps(ctx, 0, false, false);
  }

  /**
   * enter points ctx at `target`: its decoded path, the configuration of its folder, and the
   * response chain's first look. False when that already answered the request (a target that
   * names nothing, 400; a configuration with errors, its error page).
   */
  #enter(ctx: RequestContext, target: string): boolean {
    const url = parseRequestUrl(target);
    if (url === undefined) {
      ctx.sendError(fail('NH_ERR_REQUEST_TARGET'));
      return false;
    }
    ctx.path = url.path;
    ctx.query = url.query;
    ctx.hasQuery = url.hasQuery;
    ctx.physicalPath = ctx.mapPath(url.path);
    const config = this.#site.config.forPath(url.path);
    ctx.config = config;
    if (config.errors.length > 0) {
      ctx.sendError(fail(config.errors[0]!, { isConfigError: true }));
      return false;
    }
    this.#responseChain.attach(ctx);
    return true;
  }

  /**
   * runSteps runs the steps from index `from` on, phase by phase, until one finishes or fails;
   * 404 when none answers. It owns the rules between steps: the re-mapping after a rewrite
   * (unless `isRemapped` already, or not to be done), and the response chain's second look once
   * the handler is known (`isHandlerKnown`). It returns a promise only when a step did.
   */
  #runSteps(ctx: RequestContext, from: number, isRemapped: boolean, isHandlerKnown: boolean): void | Promise<void> {
    const steps = this.#steps;
    let i = from;
    while (i < steps.length) {
      if (ctx.isRewritten && !isRemapped && i >= this.#afterRewrite) {
        isRemapped = true;
        const remapped = this.#remapRewritten(ctx);
        if (remapped instanceof Promise) return this.#runStepsAfterRemap(ctx, remapped, i, isHandlerKnown);
        if (remapped === 'finish') return;
      }
      const step = steps[i]!;
      // Once handler mapping has chosen the handler, filters that depend on it (dynamic
      // compression wants iisnode responses only) may take the response over.
      if (!isHandlerKnown && step.phase === 'execute') {
        isHandlerKnown = true;
        this.#responseChain.attach(ctx);
      }
      const outcome = step.handle(ctx);
      if (outcome instanceof Promise) return this.#runStepsAfter(ctx, outcome, i, isRemapped, isHandlerKnown);
      i = this.#nextStep(ctx, outcome, i);
    }
    // No handler answered: nothing claimed the URL.
    if (i === steps.length && !ctx.res.headersSent) ctx.sendError(fail('NH_ERR_REQUEST_UNHANDLED'));
  }

  /**
   * nextStep is the index of the step to run after step `i` gave `outcome`: the next one, the
   * first of the next phase, or past the end + 1 when the request is finished (answered or failed).
   */
  #nextStep(ctx: RequestContext, outcome: Outcome, i: number): number {
    if (outcome === 'continue') return i + 1;
    const steps = this.#steps;
    if (outcome === 'next-phase') {
      const phase = steps[i]!.phase;
      while (i < steps.length && steps[i]!.phase === phase) i++;
      return i;
    }
    if (outcome !== 'finish') ctx.sendError(outcome);
    return steps.length + 1;
  }

  /** runStepsAfter waits for step `i`'s outcome, then runs the steps after it. */
  async #runStepsAfter(ctx: RequestContext, pending: Promise<Outcome>, i: number, isRemapped: boolean, isHandlerKnown: boolean): Promise<void> {
    const next = this.#nextStep(ctx, await pending, i);
    if (next <= this.#steps.length) await this.#runSteps(ctx, next, isRemapped, isHandlerKnown);
  }

  /** runStepsAfterRemap waits for the re-mapping of a rewritten URL, then runs the steps from `i` on. */
  async #runStepsAfterRemap(ctx: RequestContext, pending: Promise<Outcome>, i: number, isHandlerKnown: boolean): Promise<void> {
    if ((await pending) !== 'finish') await this.#runSteps(ctx, i, true, isHandlerKnown);
  }

  /**
   * executeErrorUrl produces an httpErrors ExecuteURL page (spec/rewrite.md §2.5): the URL
   * replaces the request's (node still receives the original request target, as after any
   * rewrite) and runs from handler mapping on, with its own folder's configuration; request
   * filtering is not run again, the page is the site's own. The error step has set
   * ctx.errorStatus, which the response keeps (httpErrors filter); an error on the way gets
   * the plain page of the first error.
   */
  async #executeErrorUrl(ctx: RequestContext, target: string): Promise<void> {
    try {
      ctx.handler = 'none';
      ctx.scriptPath = '';
      ctx.scriptUrl = '';
      ctx.pathInfo = '';
      if (!this.#enter(ctx, target)) return;
      await this.#runSteps(ctx, this.#afterRewrite, true, false);
    } catch (err) {
      this.#log.error('custom error page failed inside nodehost', { url: ctx.rawUrl, page: target, err, stack: (err as Error)?.stack });
      ctx.sendError(fail(new NodehostError('NH_ERR_INTERNAL', 'A pipeline step failed unexpectedly.', { cause: err })));
    }
  }

  /**
   * After a URL Rewrite, everything downstream works on the new URL: its configuration
   * (handlers, MIME map, ... of the rewritten folder, spec §2.1), request filtering and
   * authorization again, so a rewrite cannot reach a hidden segment or a protected folder.
   */
  #remapRewritten(ctx: RequestContext): Outcome | Promise<Outcome> {
    const config = this.#site.config.forPath(ctx.path);
    ctx.config = config;
    if (config.errors.length > 0) {
      ctx.sendError(fail(config.errors[0]!, { isConfigError: true }));
      return 'finish';
    }
    this.#responseChain.attach(ctx);
    return this.#filterAgain(ctx, 0);
  }

  /** filterAgain runs the filter and authorize steps from index `from` on a rewritten URL: 'finish' when one answered, else 'continue'. */
  #filterAgain(ctx: RequestContext, from: number): Outcome | Promise<Outcome> {
    const steps = this.#filterSteps;
    for (let k = from; k < steps.length; k++) {
      const outcome = steps[k]!.handle(ctx);
      if (outcome instanceof Promise) return this.#filterAgainAfter(ctx, outcome, k);
      if (outcome === 'finish') return 'finish';
      if (typeof outcome === 'object') {
        ctx.sendError(outcome);
        return 'finish';
      }
    }
    return 'continue';
  }

  async #filterAgainAfter(ctx: RequestContext, pending: Promise<Outcome>, k: number): Promise<Outcome> {
    const outcome = await pending;
    if (outcome === 'finish') return 'finish';
    if (typeof outcome === 'object') {
      ctx.sendError(outcome);
      return 'finish';
    }
    return this.#filterAgain(ctx, k + 1);
  }
}

/**
 * refusedHead checks what node's parser lets through but RFC 9112 says a server must refuse
 * with 400 and a close: two Host fields (§3.2; which one names the site would depend on who
 * reads them), and a Transfer-Encoding whose last coding is not chunked (§6.1: the body's end
 * cannot be known, the classic request-smuggling lever). Returns the error, or undefined.
 */
function refusedHead(rawHeaders: readonly string[]): ErrorCode | undefined {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 4 && equalsIgnoreAsciiCase(name, 'host') && ++hosts > 1) return 'NH_ERR_REQUEST_HOST';
    if (name.length === 17 && equalsIgnoreAsciiCase(name, 'transfer-encoding') && !/(?:^|,)[ \t]*chunked[ \t]*$/i.test(rawHeaders[i + 1]!))
      return 'NH_ERR_REQUEST_TRANSFER_ENCODING';
  }
  return undefined;
}

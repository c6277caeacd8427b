/**
 * The URL Rewrite module, phase 'rewrite' (DESIGN §1 stage 3, spec/rewrite.md §1). It reads the
 * compiled rules of the request's configuration (chosen from the URL as the client sent it)
 * and costs one property read for a site without rules. After a Rewrite the engine maps the
 * new URL: it re-reads the configuration for it and runs request filtering again.
 *
 * Global rules (nodehost.yml, spec §1.14) run first, in a module of their own that is only
 * installed when the host has some: a Rewrite by a global rule changes the URL from which the
 * distributed rules are then chosen (the configuration of the rewritten URL) and which they
 * read. A stopProcessing global rule ends the global pass only; the distributed rules still run.
 */
import type { InboundRule, RewriteConfig } from '../../config/rewrite-types.js';
import type { FolderConfig } from '../../config/types.js';
import { escapeHtml } from '../../http/escape-html.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import type { SiteHandle } from '../../http/site-handle.js';
import { fail } from '../../http/error-outcome.js';
import { RewriteState } from './evaluate.js';
import { runInboundRules, setRequestHeader } from './inbound.js';
import type { InboundResult, RewriteTracer } from './rewrite-tracer.js';
import { proxyRequest } from './proxy.js';

const CONTINUE: InboundResult = Object.freeze({ kind: 'continue' });

/**
 * rewriteRequest runs the inbound rules of ctx.config (outbound rules are a response filter:
 * outbound.ts). On a Rewrite it updates ctx.path, query and physicalPath, sets
 * `isRewritten`, and adds `X-Original-URL` (the URL as sent) to the request node receives.
 */
export function rewriteRequest(ctx: RequestContext): Outcome | Promise<Outcome> {
  const rewrite = ctx.config?.rewrite;
  if (rewrite === undefined) return 'continue';
  return outcomeOf(ctx, runDistributed(ctx, rewrite, undefined));
}

function outcomeOf(ctx: RequestContext, result: InboundResult): Outcome | Promise<Outcome> {
  return result.kind === 'continue' ? 'continue' : finish(ctx, result);
}

function runDistributed(ctx: RequestContext, rewrite: RewriteConfig, tracer: RewriteTracer | undefined): InboundResult {
  if (rewrite.rules.length === 0) return CONTINUE;
  if (tracer !== undefined) tracer.pass('distributed', ctx.path, rewrite.rules);
  const state = new RewriteState(ctx, tracer);
  const result = runInboundRules(rewrite.rules, state);
  if (ctx.isRewritten || result.kind === 'proxy') {
    // iisnode shows node the original URL (spec §1.2 step 5); the header is what it reads.
    setRequestHeader(ctx.req, 'x-original-url', originalTarget(ctx.rawUrl));
  }
  if (result.kind === 'continue' && ctx.isRewritten) applyRewrite(ctx, state);
  return result;
}

function applyRewrite(ctx: RequestContext, state: RewriteState): void {
  ctx.path = state.path;
  ctx.query = state.query;
  ctx.hasQuery = state.hasQuery;
  ctx.physicalPath = ctx.mapPath(state.path);
}

/**
 * rewriteGlobalFirst runs the global rules on the URL (scope `/`: the whole path), then the
 * distributed rules of the configuration of the URL they produced (spec §1.2 steps 2–3). A
 * Redirect, CustomResponse, AbortRequest or proxy by a global rule ends the request there.
 */
export function rewriteGlobalFirst(ctx: RequestContext, site: SiteHandle, globalRules: readonly InboundRule[]): Outcome | Promise<Outcome> {
  return outcomeOf(ctx, runGlobalFirst(ctx, site.config, globalRules, undefined));
}

/**
 * runRewritePasses is the whole inbound side of URL Rewrite for one request, without writing
 * any response: the global rules (when some), then the distributed rules of the configuration
 * the URL then has. ctx.config must be the configuration of ctx.path. On a Rewrite ctx.path,
 * query, physicalPath and config describe the new URL. `tracer` sees every step
 * (`nodehost rewrite test`); the module passes undefined.
 */
export function runRewritePasses(
  ctx: RequestContext,
  config: { forPath(path: string): FolderConfig },
  globalRules: readonly InboundRule[] | undefined,
  tracer: RewriteTracer | undefined,
): InboundResult {
  if (globalRules !== undefined && globalRules.length > 0) return runGlobalFirst(ctx, config, globalRules, tracer);
  const rewrite = ctx.config?.rewrite;
  if (rewrite === undefined) return CONTINUE;
  const result = runDistributed(ctx, rewrite, tracer);
  if (ctx.isRewritten && result.kind === 'continue') ctx.config = config.forPath(ctx.path);
  return result;
}

function runGlobalFirst(
  ctx: RequestContext,
  siteConfig: { forPath(path: string): FolderConfig },
  globalRules: readonly InboundRule[],
  tracer: RewriteTracer | undefined,
): InboundResult {
  if (tracer !== undefined) tracer.pass('global', ctx.path, globalRules);
  const state = new RewriteState(ctx, tracer);
  const result = runInboundRules(globalRules, state);
  if (result.kind !== 'continue') {
    if (result.kind === 'proxy' || ctx.isRewritten) setRequestHeader(ctx.req, 'x-original-url', originalTarget(ctx.rawUrl));
    return result;
  }
  if (!ctx.isRewritten) {
    const rewrite = ctx.config?.rewrite;
    return rewrite === undefined ? CONTINUE : runDistributed(ctx, rewrite, tracer);
  }
  applyRewrite(ctx, state);
  setRequestHeader(ctx.req, 'x-original-url', originalTarget(ctx.rawUrl));
  // The distributed rules are those of the rewritten URL's configuration (spec §1.14). When
  // it has errors, the engine's re-mapping of the rewritten URL answers with them.
  const config = siteConfig.forPath(ctx.path);
  ctx.config = config;
  if (config.errors.length > 0 || config.rewrite === undefined) return CONTINUE;
  return runDistributed(ctx, config.rewrite, tracer);
}

function finish(ctx: RequestContext, result: Exclude<InboundResult, { kind: 'continue' }>): Outcome | Promise<Outcome> {
  const res = ctx.res;
  switch (result.kind) {
    case 'abort':
      // Nothing is written: the connection just ends (spec §1.11).
      ctx.status = 0;
      ctx.req.socket.destroy();
      return 'finish';
    case 'redirect': {
      ctx.status = result.status;
      const body = `<head><title>Document Moved</title></head>\n<body><h1>Object Moved</h1>This document may be found <a href="${escapeHtml(result.location)}">here</a></body>`;
      res.statusCode = result.status;
      res.setHeader('Location', result.location);
      res.setHeader('Content-Type', 'text/html; charset=UTF-8');
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(ctx.req.method === 'HEAD' ? undefined : body);
      return 'finish';
    }
    case 'response': {
      const action = result.action;
      ctx.status = action.statusCode;
      ctx.substatus = action.subStatusCode;
      res.statusCode = action.statusCode;
      if (action.statusReason !== '') res.statusMessage = action.statusReason;
      const body = action.statusDescription;
      const hasBody = body !== '' && ctx.req.method !== 'HEAD' && action.statusCode !== 204 && action.statusCode !== 304;
      if (body !== '') res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      if (action.statusCode !== 204 && action.statusCode !== 304)
        res.setHeader('Content-Length', hasBody || ctx.req.method === 'HEAD' ? Buffer.byteLength(body) : 0);
      res.end(hasBody ? body : undefined);
      return 'finish';
    }
    case 'bad-url':
      return fail('NH_ERR_REWRITE_BAD_URL');
    case 'proxy':
      return proxyRequest(ctx, result.target).then(finished);
  }
}

function finished(): Outcome {
  return 'finish';
}

/** The request target as sent, as an origin-form path (absolute-form targets lose scheme and host). */
function originalTarget(rawUrl: string): string {
  if (rawUrl.startsWith('/')) return rawUrl;
  const scheme = rawUrl.indexOf('://');
  if (scheme === -1) return rawUrl;
  const slash = rawUrl.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : rawUrl.slice(slash);
}

/** urlRewrite is the pipeline module that runs rewriteRequest in the 'rewrite' phase. */
export const urlRewrite = {
  id: 'url-rewrite',
  phase: 'rewrite',
  handle: rewriteRequest,
} as const satisfies PipelineModule;

/**
 * createUrlRewriteModule returns the URL Rewrite module for a site: `urlRewrite` when the host
 * has no global rules (so they cost nothing), else a module running them first (rewriteGlobalFirst).
 */
export function createUrlRewriteModule(site: SiteHandle): PipelineModule {
  const globalRules = site.globalRules;
  if (globalRules === undefined || globalRules.length === 0) return urlRewrite;
  return {
    id: 'url-rewrite',
    phase: 'rewrite',
    handle: (ctx: RequestContext) => rewriteGlobalFirst(ctx, site, globalRules),
  };
}

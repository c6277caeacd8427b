/**
 * traceRewrite runs the inbound URL Rewrite rules for one made-up request and records every
 * step (`nodehost rewrite test`). It runs the module's own passes (runRewritePasses) with a
 * RewriteTracer that writes down what the engine tells it: there is no second engine here.
 * Nothing is sent anywhere: the request and response are stand-ins that only hold headers.
 */
import type { IncomingMessage } from 'node:http';
import type { Condition, Expr, InboundRule } from '../../config/rewrite-types.js';
import type { SitePaths } from '../../config/site-paths.js';
import type { FolderConfig } from '../../config/types.js';
import type { HttpResponse } from '../../http/http-response.js';
import { RequestContext, type ErrorResponder } from '../../http/request-context.js';
import { parseRequestUrl } from '../../http/request-url.js';
import type { InboundResult, RewriteTracer } from './rewrite-tracer.js';
import { runRewritePasses } from './url-rewrite.js';

/** TraceRequest is the request to trace: a method, an origin-form or absolute URL, and headers. */
export interface TraceRequest {
  readonly method: string;
  /** `/path?query`, or `http(s)://host/path?query` (then Host and HTTPS come from it). */
  readonly url: string;
  readonly headers: readonly (readonly [string, string])[];
}

/** ConditionTrace is one evaluated condition. */
export interface ConditionTrace {
  /** The input as written (`{REQUEST_FILENAME}`) and after expansion. */
  readonly input: string;
  readonly value: string;
  readonly matchType: string;
  readonly pattern: string | undefined;
  readonly negate: boolean;
  readonly isMatch: boolean;
  readonly captures: readonly string[];
}

/** RuleStepTrace is what one rule did. */
export interface RuleStepTrace {
  readonly name: string;
  /** `file:line` of the rule. */
  readonly source: string;
  readonly scope: string;
  /** False when the URL is not under the rule's scope (nothing else was looked at). */
  readonly applies: boolean;
  readonly input: string;
  readonly pattern: string;
  readonly patternSyntax: string;
  readonly negate: boolean;
  readonly isPatternMatch: boolean;
  /** {R:0}, {R:1}, ... */
  readonly ruleCaptures: readonly string[];
  readonly logicalGrouping: string;
  readonly conditions: ConditionTrace[];
  /** {C:0}, {C:1}, ... of a matched rule. */
  readonly conditionCaptures: readonly string[];
  readonly isMatch: boolean;
  readonly serverVariables: { name: string; value: string }[];
  /** The action type and its URL as written. */
  readonly action: { readonly type: string; readonly url: string };
  /** What the action did: 'none', 'rewrite', 'redirect', 'response', 'abort', 'proxy', 'bad-url' ('' for a rule that did not match). */
  readonly outcome: string;
  /** The current URL after the rule. */
  readonly urlAfter: string;
  /** True when the rule matched with stopProcessing and ended its pass. */
  readonly isStop: boolean;
}

/** PassTrace is one pass: the global rules, or the distributed rules of one configuration. */
export interface PassTrace {
  readonly kind: 'global' | 'distributed';
  /** The URL path whose configuration the rules came from. */
  readonly path: string;
  readonly ruleCount: number;
  readonly rules: RuleStepTrace[];
}

/** TraceResult is where the request ends up. */
export type TraceResult =
  | { readonly kind: 'unchanged'; readonly url: string }
  | { readonly kind: 'rewrite'; readonly url: string }
  | { readonly kind: 'redirect'; readonly status: number; readonly location: string }
  | { readonly kind: 'response'; readonly status: number; readonly substatus: number; readonly reason: string; readonly description: string }
  | { readonly kind: 'abort' }
  | { readonly kind: 'proxy'; readonly target: string }
  | { readonly kind: 'bad-url'; readonly url: string }
  | { readonly kind: 'bad-request'; readonly url: string };

/** RewriteTraceReport is the whole trace of one request. */
export interface RewriteTraceReport {
  readonly request: { readonly method: string; readonly url: string; readonly headers: Record<string, string> };
  readonly passes: PassTrace[];
  readonly result: TraceResult;
  /** Server variables set by rules (other than HTTP_* and RESPONSE_*). */
  readonly serverVariables: Record<string, string>;
  /** Request headers as node would receive them, after the rules (only those that changed). */
  readonly requestHeaders: Record<string, string>;
  /** Response headers set by RESPONSE_* variables. */
  readonly responseHeaders: Record<string, string>;
}

/**
 * traceRewrite traces `request` through the global rules (when given) and the distributed rules
 * of `config` (a SiteConfig, or anything with its forPath), rooted at `siteRoot` (and its
 * applications and virtual directories, `paths`, which map URLs to their folders). Never throws
 * for a request the server would answer; configuration errors are the caller's to report.
 */
export function traceRewrite(
  siteRoot: string,
  config: { forPath(path: string): FolderConfig },
  globalRules: readonly InboundRule[] | undefined,
  request: TraceRequest,
  paths?: SitePaths,
): RewriteTraceReport {
  const { req, isHttps } = fakeRequest(request);
  const res = new HeaderOnlyResponse();
  const before = { ...req.headers };
  const ctx = new RequestContext(req, res as unknown as HttpResponse, { root: siteRoot, name: 'trace', paths }, isHttps, NO_ERRORS);
  const requestSummary = { method: request.method, url: req.url ?? '/', headers: { ...before } as Record<string, string> };
  const url = parseRequestUrl(ctx.rawUrl);
  if (url === undefined) {
    return {
      request: requestSummary,
      passes: [],
      result: { kind: 'bad-request', url: ctx.rawUrl },
      serverVariables: {},
      requestHeaders: {},
      responseHeaders: {},
    };
  }
  ctx.path = url.path;
  ctx.query = url.query;
  ctx.hasQuery = url.hasQuery;
  ctx.physicalPath = ctx.mapPath(url.path);
  ctx.config = config.forPath(url.path);
  const tracer = new RecordingTracer();
  const result = runRewritePasses(ctx, config, globalRules, tracer);
  const changed: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && before[name] !== value) changed[name] = value;
  }
  return {
    request: requestSummary,
    passes: tracer.passes,
    result: describeResult(result, ctx),
    serverVariables: Object.fromEntries(ctx.serverVariables ?? []),
    requestHeaders: changed,
    responseHeaders: Object.fromEntries(res.headers),
  };
}

function describeResult(result: InboundResult, ctx: RequestContext): TraceResult {
  const url = ctx.path + (ctx.hasQuery ? `?${ctx.query}` : '');
  switch (result.kind) {
    case 'continue':
      return ctx.isRewritten ? { kind: 'rewrite', url } : { kind: 'unchanged', url };
    case 'redirect':
      return { kind: 'redirect', status: result.status, location: result.location };
    case 'response': {
      const a = result.action;
      return { kind: 'response', status: a.statusCode, substatus: a.subStatusCode, reason: a.statusReason, description: a.statusDescription };
    }
    case 'abort':
      return { kind: 'abort' };
    case 'proxy':
      return { kind: 'proxy', target: result.target };
    case 'bad-url':
      return { kind: 'bad-url', url: result.url };
  }
}

/** RecordingTracer keeps every step as plain data (copies: the engine reuses its arrays). */
class RecordingTracer implements RewriteTracer {
  readonly passes: PassTrace[] = [];
  #conditions: ConditionTrace[] = [];
  #variables: { name: string; value: string }[] = [];
  #input = '';
  #captures: readonly string[] | undefined = undefined;

  pass(kind: 'global' | 'distributed', path: string, rules: readonly InboundRule[]): void {
    this.passes.push({ kind, path, ruleCount: rules.length, rules: [] });
  }
  skip(rule: InboundRule, path: string): void {
    this.#current().push({
      ...ruleShape(rule),
      applies: false,
      input: path,
      isPatternMatch: false,
      ruleCaptures: [],
      conditions: [],
      conditionCaptures: [],
      isMatch: false,
      serverVariables: [],
      outcome: '',
      urlAfter: path,
      isStop: false,
    });
  }
  pattern(_rule: InboundRule, input: string, captures: readonly string[] | undefined): void {
    this.#input = input;
    this.#captures = captures === undefined ? undefined : [...captures];
    this.#conditions = [];
    this.#variables = [];
  }
  condition(condition: Condition, input: string, captures: readonly string[] | undefined): void {
    this.#conditions.push({
      input: condition.input.source,
      value: input,
      matchType: condition.matchType,
      pattern: condition.pattern?.source,
      negate: condition.pattern?.negate ?? condition.negate,
      isMatch: captures !== undefined,
      captures: captures === undefined ? [] : [...captures],
    });
  }
  serverVariable(set: { name: string }, value: string): void {
    this.#variables.push({ name: set.name, value });
  }
  ruleEnd(rule: InboundRule, isMatch: boolean, conditionCaptures: readonly string[], result: InboundResult | undefined, url: string): void {
    let outcome = '';
    if (isMatch) outcome = result !== undefined ? result.kind : rule.action.type === 'Rewrite' ? 'rewrite' : 'none';
    this.#current().push({
      ...ruleShape(rule),
      applies: true,
      input: this.#input,
      isPatternMatch: this.#captures !== undefined,
      ruleCaptures: this.#captures ?? [],
      conditions: this.#conditions,
      conditionCaptures: [...conditionCaptures],
      isMatch,
      serverVariables: this.#variables,
      outcome,
      urlAfter: url,
      isStop: isMatch && result === undefined && rule.stopProcessing,
    });
    this.#conditions = [];
    this.#variables = [];
  }
  #current(): RuleStepTrace[] {
    return this.passes[this.passes.length - 1]!.rules;
  }
}

function ruleShape(
  rule: InboundRule,
): Pick<RuleStepTrace, 'name' | 'source' | 'scope' | 'pattern' | 'patternSyntax' | 'negate' | 'logicalGrouping' | 'action'> {
  const at = rule.source;
  return {
    name: rule.name,
    source: `${at.file}:${at.line}`,
    scope: rule.scope,
    pattern: rule.match.source,
    patternSyntax: rule.match.syntax,
    negate: rule.match.negate,
    logicalGrouping: rule.conditions.logicalGrouping,
    action: { type: rule.action.type, url: exprSource(rule.action.url) },
  };
}

function exprSource(expr: Expr): string {
  return expr.source;
}

const NO_ERRORS: ErrorResponder = { respond() {} };

function fakeRequest(request: TraceRequest): { req: IncomingMessage; isHttps: boolean } {
  let target = request.url;
  let isHttps = false;
  let host: string | undefined;
  const absolute = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(target);
  if (absolute !== null) {
    isHttps = absolute[1]!.toLowerCase() === 'https';
    host = absolute[2]!;
    target = absolute[3] === '' ? '/' : absolute[3]!;
  }
  const rawHeaders: string[] = [];
  const headers: Record<string, string> = {};
  if (host !== undefined && !request.headers.some(([k]) => k.toLowerCase() === 'host')) request = { ...request, headers: [['Host', host], ...request.headers] };
  if (!request.headers.some(([k]) => k.toLowerCase() === 'host')) request = { ...request, headers: [['Host', 'localhost'], ...request.headers] };
  for (const [name, value] of request.headers) {
    rawHeaders.push(name, value);
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  const socket = { remoteAddress: '127.0.0.1', remotePort: 50000, localAddress: '127.0.0.1', localPort: isHttps ? 443 : 80, destroy() {} };
  const req = { method: request.method, url: target, httpVersion: '1.1', headers, rawHeaders, socket };
  return { req: req as unknown as IncomingMessage, isHttps };
}

/** HeaderOnlyResponse is the stand-in response: RESPONSE_* server variables set headers on it. */
class HeaderOnlyResponse {
  readonly headers = new Map<string, string>();
  setHeader(name: string, value: string): this {
    this.headers.set(name, String(value));
    return this;
  }
  hasHeader(name: string): boolean {
    for (const key of this.headers.keys()) if (key.toLowerCase() === name.toLowerCase()) return true;
    return false;
  }
  getHeader(name: string): string | undefined {
    for (const [key, value] of this.headers) if (key.toLowerCase() === name.toLowerCase()) return value;
    return undefined;
  }
}

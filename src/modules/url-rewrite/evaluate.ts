/**
 * Evaluation of URL Rewrite expressions, patterns and conditions for one request
 * (spec/rewrite.md §1.5–§1.10). RewriteState holds what a pass over the rules changes: the
 * current path and query and the back-references of the last match.
 */
import { statSync, type Stats } from 'node:fs';
import type { CompiledPattern, ConditionSet, Expr, FunctionName, RewriteMap } from '../../config/rewrite-types.js';
import { escapeHtml } from '../../http/escape-html.js';
import type { RequestContext } from '../../http/request-context.js';
import { normalizePath } from '../../http/request-url.js';
import type { RewriteTracer } from './rewrite-tracer.js';

const NO_CAPTURES: readonly string[] = Object.freeze([]);

/**
 * RewriteState is the per-request state of a rule pass. `responseHeaders` is set for outbound
 * evaluation so RESPONSE_* variables read the response.
 */
export class RewriteState {
  readonly ctx: RequestContext;
  /** Current URL path: decoded, normalised, starting with `/`. */
  path: string;
  /** Current raw query, without `?`. */
  query: string;
  hasQuery: boolean;
  ruleCaptures: readonly string[];
  conditionCaptures: readonly string[];
  /** For outbound rules: reads a response header or status; undefined for inbound. */
  response: ((name: string) => string) | undefined;
  /** Told every step of the pass (`nodehost rewrite test`); undefined when serving requests. */
  readonly tracer: RewriteTracer | undefined;

  constructor(ctx: RequestContext, tracer?: RewriteTracer) {
    this.ctx = ctx;
    this.path = ctx.path;
    this.query = ctx.query;
    this.hasQuery = ctx.hasQuery;
    this.ruleCaptures = NO_CAPTURES;
    this.conditionCaptures = NO_CAPTURES;
    this.response = undefined;
    this.tracer = tracer;
  }

  /**
   * variable reads a server variable (spec §1.9). URL, QUERY_STRING and REQUEST_FILENAME
   * follow the current (possibly rewritten) URL; unknown names read as ''.
   */
  variable(name: string): string {
    switch (name) {
      case 'URL':
      case 'PATH_INFO':
      case 'SCRIPT_NAME':
        return this.path;
      case 'QUERY_STRING':
        return this.query;
      case 'REQUEST_FILENAME':
      case 'PATH_TRANSLATED':
        return physicalPath(this.ctx, this.path) ?? '';
    }
    if (this.response !== undefined && name.startsWith('RESPONSE_')) return this.response(name);
    return this.ctx.serverVariable(name) ?? '';
  }
}

/**
 * physicalPath maps a URL path to its file (under the site root, or the folder of the
 * application or virtual directory serving it); undefined when it would leave the site (then it
 * is never a file or a directory).
 */
export function physicalPath(ctx: RequestContext, urlPath: string): string | undefined {
  const normal = normalizePath(urlPath);
  return normal === undefined ? undefined : ctx.mapPath(normal);
}

/** evaluate computes an expression's value for the state. */
export function evaluate(expr: Expr, state: RewriteState): string {
  if (expr.constant !== undefined) return expr.constant;
  let out = '';
  for (const node of expr.nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'rule':
        out += state.ruleCaptures[node.index] ?? '';
        break;
      case 'cond':
        out += state.conditionCaptures[node.index] ?? '';
        break;
      case 'var':
        out += state.variable(node.name);
        break;
      case 'func':
        out += applyFunction(node.fn, evaluate(node.arg, state));
        break;
      case 'map':
        out += lookupMap(node.map, evaluate(node.arg, state));
        break;
    }
  }
  return out;
}

/** lookupMap returns the map's value for `key`, or its defaultValue. */
export function lookupMap(map: RewriteMap, key: string): string {
  return map.entries.get(map.ignoreCase ? key.toLowerCase() : key) ?? map.defaultValue;
}

/** applyFunction runs a built-in string function (spec §1.10). */
export function applyFunction(fn: FunctionName, value: string): string {
  switch (fn) {
    case 'ToLower':
      return value.toLowerCase();
    case 'UrlEncode':
    case 'EscapeDataString':
      return urlEncode(value);
    case 'UrlDecode':
      return urlDecode(value);
    case 'HtmlEncode':
      return escapeHtml(value);
  }
}

/** urlEncode percent-encodes everything but A–Z a–z 0–9 `-_.~`, as UTF-8 with upper-case hex. */
export function urlEncode(value: string): string {
  // encodeURIComponent leaves !'()* alone; they are encoded too (spec §1.10).
  return encodeURIComponent(value).replace(/[!'()*]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase());
}

/** urlDecode decodes %XX sequences as UTF-8; `+` stays; a malformed sequence is kept as written. */
export function urlDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/**
 * matchPattern matches `input` and returns the captures ([0] = the matched text) when the
 * pattern (after negate) succeeds, or undefined. A negated success has no captures.
 */
export function matchPattern(pattern: CompiledPattern, input: string): readonly string[] | undefined {
  let captures: readonly string[] | undefined;
  if (pattern.regex !== undefined) {
    const m = pattern.regex.exec(input);
    if (m !== null) captures = m.length === 1 ? [m[0]] : Array.from(m, (group) => group ?? '');
  } else {
    const equal = pattern.ignoreCase ? input.toLowerCase() === pattern.exact : input === pattern.exact;
    if (equal) captures = [input];
  }
  if (pattern.negate) return captures === undefined ? NO_CAPTURES : undefined;
  return captures;
}

/**
 * checkConditions evaluates a condition set (spec §1.6, §1.7) and, when it passes, leaves the
 * condition back-references on the state: the last matched condition's groups, or with
 * trackAllCaptures the first match's {C:0} followed by groups 1..n of every matched condition.
 */
export function checkConditions(set: ConditionSet, state: RewriteState): boolean {
  const conditions = set.conditions;
  if (conditions.length === 0) return true;
  const isAll = set.logicalGrouping === 'MatchAll';
  let tracked: string[] | undefined;
  for (let i = 0; i < conditions.length; i++) {
    const condition = conditions[i]!;
    const input = evaluate(condition.input, state);
    let captures: readonly string[] | undefined;
    if (condition.matchType === 'Pattern') {
      captures = matchPattern(condition.pattern!, input);
    } else {
      const isMatch = fileKind(input, state.ctx) === (condition.matchType === 'IsFile' ? 'file' : 'directory');
      captures = isMatch !== condition.negate ? NO_CAPTURES : undefined;
    }
    if (state.tracer !== undefined) state.tracer.condition(condition, input, captures);
    if (captures !== undefined) {
      if (set.trackAllCaptures) {
        if (tracked === undefined) tracked = [...captures];
        else for (let g = 1; g < captures.length; g++) tracked.push(captures[g]!);
        state.conditionCaptures = tracked;
      } else {
        state.conditionCaptures = captures;
      }
      if (!isAll) return true;
    } else if (isAll) {
      return false;
    }
  }
  return isAll;
}

/**
 * fileKind tells what `file` is, but only inside `root`: a path that leaves the site root is
 * neither a file nor a directory (spec §6). statSync is used on purpose: it is one cached
 * inode lookup, cheaper than a promise round trip through the thread pool, and keeps rule
 * evaluation synchronous.
 */
/** isBelow tells whether `file` is `root` or inside it. */
function isBelow(file: string, root: string): boolean {
  return file === root || file.startsWith(root.endsWith('/') ? root : root + '/');
}

function fileKind(file: string, ctx: RequestContext): 'file' | 'directory' | 'none' {
  if (file === '' || !(isBelow(file, ctx.siteRoot) || (ctx.sitePaths?.mounts.some((mount) => isBelow(file, mount.dir)) ?? false))) return 'none';
  if (file.includes('/../') || file.endsWith('/..') || file.includes('\0')) return 'none';
  let stats: Stats | undefined;
  try {
    stats = statSync(file, { throwIfNoEntry: false });
  } catch {
    return 'none'; // ENOTDIR (`a.txt/`), EACCES, ...: not something that can be served.
  }
  if (stats === undefined) return 'none';
  return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'none';
}

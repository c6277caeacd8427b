/**
 * The inbound rule pass (spec/rewrite.md §1.2–§1.12): every rule once, in order, each on the
 * current URL made relative to the rule's scope; Rewrite changes the current URL and goes on,
 * Redirect, CustomResponse, AbortRequest and a proxying Rewrite end the pass.
 */
import type { InboundRule, RewriteAction, ServerVariableSet } from '../../config/rewrite-types.js';
import type { IncomingMessage } from 'node:http';
import { normalizePath } from '../../http/request-url.js';
import { checkConditions, evaluate, matchPattern, NO_CAPTURES, urlDecode, type RewriteState } from './evaluate.js';
import type { InboundResult } from './rewrite-tracer.js';

export type { InboundResult } from './rewrite-tracer.js';

const CONTINUE: InboundResult = Object.freeze({ kind: 'continue' });

/**
 * runInboundRules runs `rules` over the state. When a Rewrite happened, state.path/query hold
 * the new URL and `isRewritten` is set on the state's context. A tracer on the state
 * (state.tracer) is told every step.
 */
export function runInboundRules(rules: readonly InboundRule[], state: RewriteState): InboundResult {
  const tracer = state.tracer;
  // The input is cut once per path and scope, not once per rule: the rules of one
  // web.config share a scope, and only a Rewrite changes the path.
  let inputPath: string | undefined;
  let inputScope = '';
  let input: string | undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (state.path !== inputPath || rule.scope !== inputScope) {
      inputPath = state.path;
      inputScope = rule.scope;
      input = ruleInput(rule, inputPath);
    }
    if (input === undefined) {
      if (tracer !== undefined) tracer.skip(rule, state.path);
      continue;
    }
    const captures = matchPattern(rule.match, input);
    if (tracer !== undefined) tracer.pattern(rule, input, captures);
    let isMatch = false;
    if (captures !== undefined) {
      state.ruleCaptures = captures;
      state.conditionCaptures = NO_CAPTURES;
      isMatch = checkConditions(rule.conditions, state);
    }
    let result: InboundResult | undefined;
    if (isMatch) {
      const sets = rule.serverVariables;
      for (let k = 0; k < sets.length; k++) setServerVariable(sets[k]!, state);
      result = runAction(rule, state);
    }
    if (tracer !== undefined) {
      tracer.ruleEnd(rule, isMatch, isMatch ? state.conditionCaptures : [], result, state.path + (state.hasQuery ? `?${state.query}` : ''));
    }
    if (result !== undefined) return result;
    if (isMatch && rule.stopProcessing) break;
  }
  return CONTINUE;
}

/**
 * ruleInput is the current path relative to the rule's scope, without the leading `/`
 * (`/blog/article/1` is `article/1` for a rule of /blog/web.config); undefined when the URL
 * is not under the scope (then the rule does not apply). Scopes compare case-insensitively.
 */
export function ruleInput(rule: InboundRule, path: string): string | undefined {
  const scope = rule.scope;
  if (scope === '/') return path.slice(1);
  if (path.length >= scope.length && path.slice(0, scope.length).toLowerCase() === rule.scopeLower) return path.slice(scope.length);
  if (path.length === scope.length - 1 && (path + '/').toLowerCase() === rule.scopeLower) return '';
  return undefined;
}

function runAction(rule: InboundRule, state: RewriteState): InboundResult | undefined {
  const action = rule.action;
  switch (action.type) {
    case 'None':
      return undefined;
    case 'AbortRequest':
      return { kind: 'abort' };
    case 'CustomResponse':
      return { kind: 'response', action };
    case 'Redirect': {
      const url = substitute(evaluate(action.url, state), action, state);
      let location: string;
      if (isAbsoluteUrl(url.path)) location = url.path;
      else {
        const ctx = state.ctx;
        const host = ctx.req.headers.host ?? ctx.serverName;
        location = `${ctx.isHttps ? 'https' : 'http'}://${host}${url.path.startsWith('/') ? url.path : rule.scope + url.path}`;
      }
      if (url.hasQuery) location += '?' + url.query;
      return { kind: 'redirect', status: action.redirectStatus, location: escapeUnsafe(location) };
    }
    case 'Rewrite': {
      const url = substitute(evaluate(action.url, state), action, state);
      if (isAbsoluteUrl(url.path)) return { kind: 'proxy', target: escapeUnsafe(url.path + (url.hasQuery ? `?${url.query}` : '')) };
      const target = url.path.charCodeAt(0) === 47 ? url.path : rule.scope + url.path;
      let path: string | undefined = target;
      if (!isPlainTarget(target)) {
        path = normalizePath(urlDecode(target));
        if (path === undefined || path.includes('\0')) return { kind: 'bad-url', url: target };
      }
      state.path = path;
      state.query = url.query;
      state.hasQuery = url.hasQuery;
      state.ctx.isRewritten = true;
      return undefined;
    }
  }
}

interface Substituted {
  readonly path: string;
  readonly query: string;
  readonly hasQuery: boolean;
}

/**
 * substitute splits the action's evaluated URL at its first `?` and applies appendQueryString
 * (spec §1.11): the substitution's query first, then `&` and the current query. [I] IIS's
 * order is inferred from the documentation ("appended to the substituted URL").
 */
function substitute(value: string, action: RewriteAction, state: RewriteState): Substituted {
  const q = indexOfQuestionMark(value);
  const path = q === -1 ? value : value.slice(0, q);
  const subQuery = q === -1 ? undefined : value.slice(q + 1);
  if (!action.appendQueryString) return { path, query: subQuery ?? '', hasQuery: subQuery !== undefined };
  const current = state.query;
  if (subQuery === undefined) return { path, query: current, hasQuery: state.hasQuery };
  if (subQuery === '' || current === '') return { path, query: subQuery + current, hasQuery: true };
  return { path, query: `${subQuery}&${current}`, hasQuery: true };
}

/** indexOfQuestionMark is `value.indexOf('?')` as a loop: on the short substitutions rules make, cheaper than the builtin's call. */
function indexOfQuestionMark(value: string): number {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) === 63) return i;
  return -1;
}

/**
 * isPlainTarget tells whether a rewritten path needs neither decoding nor normalising: it has
 * no `%`, no NUL, no `/.` and no `//`, so urlDecode and normalizePath would return it as it is
 * and it cannot be refused. One scan instead of their four searches.
 */
export function isPlainTarget(path: string): boolean {
  let previous = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 || c === 0 || (previous === 47 && (c === 46 || c === 47))) return false;
    previous = c;
  }
  return true;
}

function isAbsoluteUrl(value: string): boolean {
  // Most substitutions are paths: one that does not start with h or H and then t or T (`hello.js`) needs no RegExp.
  const first = value.charCodeAt(0) | 32;
  return first === 104 && (value.charCodeAt(1) | 32) === 116 && /^https?:\/\//i.test(value);
}

/** escapeUnsafe percent-encodes what cannot appear in a header or request target (spaces, controls, non-ASCII). */
function escapeUnsafe(url: string): string {
  return /[^\x21-\x7e]/.test(url) ? url.replace(/[^\x21-\x7e]+/g, (run) => encodeURIComponent(run)) : url;
}

/**
 * setServerVariable runs one `<set>` (spec §1.12): HTTP_* names set a request header (node and
 * later rules see it), RESPONSE_* names set a response header, anything else is a server
 * variable for promoteServerVars. replace="false" leaves an existing value alone.
 */
export function setServerVariable(set: ServerVariableSet, state: RewriteState): void {
  const value = evaluate(set.value, state).replace(/[\r\n]/g, '');
  if (state.tracer !== undefined) state.tracer.serverVariable(set, value);
  const ctx = state.ctx;
  const name = set.name;
  if (name.startsWith('HTTP_')) {
    setRequestHeader(ctx.req, name.slice(5).replaceAll('_', '-').toLowerCase(), value, set.replace);
  } else if (name.startsWith('RESPONSE_')) {
    const header = name.slice(9).replaceAll('_', '-');
    if (set.replace || !ctx.res.hasHeader(header)) {
      try {
        ctx.res.setHeader(header, value);
      } catch {
        // A value node refuses in a header (non-Latin-1) is dropped rather than failing the request.
      }
    }
  } else if (set.replace || ctx.serverVariable(name) === undefined) {
    ctx.serverVariables ??= new Map();
    ctx.serverVariables.set(name, value);
  }
}

/**
 * setRequestHeader sets a request header as node will receive it: every earlier line of that
 * header is dropped from rawHeaders (what the iisnode transport forwards) and the parsed
 * `headers` object is updated (what later rules read).
 */
export function setRequestHeader(req: IncomingMessage, lowerName: string, value: string, replace = true): void {
  const isPresent = req.headers[lowerName] !== undefined;
  if (!replace && isPresent) return;
  const raw = req.rawHeaders;
  // The parsed object has a key for every name in rawHeaders: without one there is no line to drop.
  if (isPresent) {
    for (let i = raw.length - 2; i >= 0; i -= 2) {
      if (raw[i]!.toLowerCase() === lowerName) raw.splice(i, 2);
    }
  }
  raw.push(displayNameOf(lowerName), value);
  req.headers[lowerName] = value;
}

/** Display forms of the header names rules set (`x-original-url` → `X-Original-Url`), made once per name. */
const DISPLAY_NAMES = new Map<string, string>();

function displayNameOf(lowerName: string): string {
  let display = DISPLAY_NAMES.get(lowerName);
  if (display === undefined) {
    display = lowerName.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
    // Names come from the configuration (and X-Original-URL), so the map stays small; a bound keeps it so anyway.
    if (DISPLAY_NAMES.size < 1000) DISPLAY_NAMES.set(lowerName, display);
  }
  return display;
}

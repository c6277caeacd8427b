/**
 * Evaluation of URL Rewrite expressions, patterns and conditions for one request
 * (spec/rewrite.md §1.5–§1.10). RewriteState holds what a pass over the rules changes: the
 * current path and query and the back-references of the last match.
 */
import type { CompiledPattern, ConditionSet, Expr, ExprNode, FunctionName, LiteralPattern, RewriteMap } from '../../config/rewrite-types.js';
import { StatCache, type FileKind } from '../../file-system/stat-cache.js';
import { escapeHtml } from '../../http/escape-html.js';
import { serverVariableReader, type RequestContext } from '../../http/request-context.js';
import { normalizePath } from '../../http/request-url.js';
import type { RewriteTracer } from './rewrite-tracer.js';

/** NO_CAPTURES is the empty, shared list of back-references. */
export const NO_CAPTURES: readonly string[] = Object.freeze([]);

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
   * follow the current (possibly rewritten) URL; unknown names read as ''. Expressions read
   * theirs through readers resolved once per expression (evaluate); this is for a name known
   * only at run time.
   */
  variable(name: string): string {
    return variableReader(name)(this);
  }
}

/** VariableReader reads one server variable for a rule pass; made once per name by variableReader. */
type VariableReader = (state: RewriteState) => string;

function readPath(state: RewriteState): string {
  return state.path;
}

function readQuery(state: RewriteState): string {
  return state.query;
}

function readFilename(state: RewriteState): string {
  return physicalPath(state.ctx, state.path) ?? '';
}

/**
 * variableReader resolves an upper-case variable name (the compiler's) to its reader, so that
 * no request matches names: the current URL's path, query and file, a response header for
 * outbound rules (RESPONSE_*), else what RequestContext.serverVariableOf reads, '' when nothing.
 */
export function variableReader(name: string): VariableReader {
  switch (name) {
    case 'URL':
    case 'PATH_INFO':
    case 'SCRIPT_NAME':
      return readPath;
    case 'QUERY_STRING':
      return readQuery;
    case 'REQUEST_FILENAME':
    case 'PATH_TRANSLATED':
      return readFilename;
  }
  const read = serverVariableReader(name);
  if (name.startsWith('RESPONSE_')) return (state) => (state.response !== undefined ? state.response(name) : (read(state.ctx) ?? ''));
  return (state) => read(state.ctx) ?? '';
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

/** ExprReader computes one expression's value for a rule pass. */
type ExprReader = (state: RewriteState) => string;

/**
 * EXPR_READERS are the expressions of the frozen configurations resolved to readers, made on
 * their first evaluation: variable names are matched once, not on every request. Weak, so a
 * configuration swapped out takes its readers with it.
 */
const EXPR_READERS = new WeakMap<Expr, ExprReader>();

/** evaluate computes an expression's value for the state. */
export function evaluate(expr: Expr, state: RewriteState): string {
  if (expr.constant !== undefined) return expr.constant;
  return readerOf(expr)(state);
}

function readerOf(expr: Expr): ExprReader {
  let read = EXPR_READERS.get(expr);
  if (read === undefined) {
    read = expr.constant === undefined ? exprReader(expr) : constantReader(expr.constant);
    EXPR_READERS.set(expr, read);
  }
  return read;
}

function constantReader(constant: string): ExprReader {
  return () => constant;
}

function exprReader(expr: Expr): ExprReader {
  const nodes = expr.nodes;
  // `{HTTP_HOST}`, `{REQUEST_FILENAME}`: the usual condition input is one variable.
  if (nodes.length === 1 && nodes[0]!.kind === 'var') return variableReader(nodes[0]!.name);
  const readers = nodes.map(nodeReader);
  return (state) => {
    let out = '';
    for (let i = 0; i < readers.length; i++) out += readers[i]!(state);
    return out;
  };
}

function argReader(arg: Expr): ExprReader {
  return arg.constant === undefined ? exprReader(arg) : constantReader(arg.constant);
}

function nodeReader(node: ExprNode): ExprReader {
  switch (node.kind) {
    case 'text': {
      const text = node.text;
      return () => text;
    }
    case 'rule': {
      const index = node.index;
      return (state) => state.ruleCaptures[index] ?? '';
    }
    case 'cond': {
      const index = node.index;
      return (state) => state.conditionCaptures[index] ?? '';
    }
    case 'var':
      return variableReader(node.name);
    case 'func': {
      const fn = node.fn;
      const arg = argReader(node.arg);
      return (state) => applyFunction(fn, arg(state));
    }
    case 'map': {
      const map = node.map;
      const arg = argReader(node.arg);
      return (state) => lookupMap(map, arg(state));
    }
  }
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
  const literal = pattern.literal;
  const anyText = pattern.anyText;
  if (anyText !== undefined) {
    // What `.` takes: everything up to the first line terminator (no `s` flag).
    const text = untilLineEnd(input);
    captures = anyText === 'group' ? [text, text] : [text];
  } else if (literal !== undefined) {
    const at = findLiteral(literal, input, pattern.ignoreCase);
    if (at !== -1) captures = [at === 0 && literal.text.length === input.length ? input : input.slice(at, at + literal.text.length)];
  } else if (pattern.regex !== undefined) {
    const prefix = pattern.prefix;
    const m = prefix === undefined || (input.length >= prefix.length && equalsAt(input, 0, prefix, pattern.ignoreCase)) ? pattern.regex.exec(input) : null;
    if (m !== null) {
      // A plain array of the groups, those that did not take part as '' (a loop: Array.from with a mapper costs more).
      const groups: string[] = new Array(m.length);
      for (let g = 0; g < m.length; g++) groups[g] = m[g] ?? '';
      captures = groups;
    }
  } else {
    const equal = pattern.ignoreCase ? input.toLowerCase() === pattern.exact : input === pattern.exact;
    if (equal) captures = [input];
  }
  if (pattern.negate) return captures === undefined ? NO_CAPTURES : undefined;
  return captures;
}

/** untilLineEnd is `input` up to its first line terminator (\n, \r, U+2028, U+2029: what a RegExp `.` does not match). */
function untilLineEnd(input: string): string {
  // Rules in a row match `(.*)` or `.*` on the same input string: the last answer is kept.
  if (input === lastLineInput) return lastLineText;
  lastLineInput = input;
  lastLineText = lineOf(input);
  return lastLineText;
}

let lastLineInput = '';
let lastLineText = '';

function lineOf(input: string): string {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return input.slice(0, i);
  }
  return input;
}

/**
 * findLiteral returns where a plain-text pattern matches `input` (the index of the matched
 * text), or -1: what its RegExp's `exec` would find. With ignoreCase only ASCII letters fold
 * (the text is lower-case ASCII), as in a RegExp with `i` and without `u`.
 */
export function findLiteral(literal: LiteralPattern, input: string, ignoreCase: boolean): number {
  const text = literal.text;
  const last = input.length - text.length;
  if (last < 0) return -1;
  switch (literal.kind) {
    case 'exact':
      return last === 0 && equalsAt(input, 0, text, ignoreCase) ? 0 : -1;
    case 'prefix':
      return equalsAt(input, 0, text, ignoreCase) ? 0 : -1;
    case 'suffix':
      return equalsAt(input, last, text, ignoreCase) ? last : -1;
    case 'contains':
      if (!ignoreCase) return input.indexOf(text);
      for (let at = 0; at <= last; at++) if (equalsAt(input, at, text, true)) return at;
      return -1;
  }
}

function equalsAt(input: string, at: number, text: string, ignoreCase: boolean): boolean {
  if (!ignoreCase) return input.startsWith(text, at);
  for (let i = 0; i < text.length; i++) {
    let c = input.charCodeAt(at + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== text.charCodeAt(i)) return false;
  }
  return true;
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
    let captures: readonly string[] | undefined;
    if (condition.matchType === 'Pattern') {
      const input = evaluate(condition.input, state);
      captures = matchPattern(condition.pattern!, input);
      if (state.tracer !== undefined) state.tracer.condition(condition, input, captures);
    } else {
      // `{REQUEST_FILENAME}`, the usual input, is answered by URL path without building the file's path.
      const isFilename = readerOf(condition.input) === readFilename && state.ctx.sitePaths === undefined && state.tracer === undefined;
      const input = isFilename ? '' : evaluate(condition.input, state);
      const kind = isFilename ? filenameKind(state) : fileKind(input, state.ctx);
      const isMatch = kind === (condition.matchType === 'IsFile' ? 'file' : 'directory');
      captures = isMatch !== condition.negate ? NO_CAPTURES : undefined;
      if (state.tracer !== undefined) state.tracer.condition(condition, input, captures);
    }
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
 * STAT_CACHE answers IsFile and IsDirectory for every site of this process: a lookup costs a
 * map read, and inotify keeps the answers exact (file-system/stat-cache.ts). It keeps rule
 * evaluation synchronous.
 */
const STAT_CACHE = new StatCache();

/** isBelow tells whether `file` is `root` or inside it. */
function isBelow(file: string, root: string): boolean {
  // No `root + '/'` per call: the character after the root must be a slash, unless the root ends in one.
  if (!file.startsWith(root)) return false;
  return file.length === root.length || root.endsWith('/') || file.charCodeAt(root.length) === 47;
}

/**
 * fileKind tells what `file` is, but only inside the site (its root, or the folder of one of its
 * applications or virtual directories): a path that leaves it is neither a file nor a directory (spec §6).
 */
export function fileKind(file: string, ctx: RequestContext): FileKind {
  return isInSite(file, ctx) ? STAT_CACHE.kind(file) : 'none';
}

function isInSite(file: string, ctx: RequestContext): boolean {
  if (file === '' || !(isBelow(file, ctx.siteRoot) || (ctx.sitePaths?.mounts.some((mount) => isBelow(file, mount.dir)) ?? false))) return false;
  return !((file.includes('/..') && (file.includes('/../') || file.endsWith('/..'))) || file.includes('\0'));
}

/**
 * FilenameKinds are fileKind's answers for `{REQUEST_FILENAME}` of URL paths under one site root
 * (a site without applications or virtual directories, so the file is the root plus the path):
 * exact while STAT_CACHE.generation is the one they were made in. Only answers that need no
 * stat (outside the site) or that the stat cache keeps (isKept) are remembered.
 */
interface FilenameKinds {
  readonly root: string;
  generation: number;
  readonly kinds: Map<string, FileKind>;
}

/** Most URL paths remembered per site root; past that the site's answers are forgotten. */
const MAX_FILENAME_KINDS = 10_000;

const FILENAME_KINDS = new Map<string, FilenameKinds>();
let lastFilenameKinds: FilenameKinds | undefined;

/** filenameKind is `fileKind(physicalPath(ctx, state.path) ?? '', ctx)` for a site without mounts, by URL path. */
export function filenameKind(state: RewriteState): FileKind {
  const ctx = state.ctx;
  const root = ctx.siteRoot;
  let site = lastFilenameKinds;
  if (site === undefined || site.root !== root) {
    site = FILENAME_KINDS.get(root);
    if (site === undefined) {
      site = { root, generation: STAT_CACHE.generation, kinds: new Map() };
      FILENAME_KINDS.set(root, site);
    }
    lastFilenameKinds = site;
  }
  if (site.generation !== STAT_CACHE.generation) {
    site.kinds.clear();
    site.generation = STAT_CACHE.generation;
  }
  const path = state.path;
  const known = site.kinds.get(path);
  if (known !== undefined) return known;
  const file = physicalPath(ctx, path) ?? '';
  const isInside = isInSite(file, ctx);
  const kind = isInside ? STAT_CACHE.kind(file) : 'none';
  // The generation is read again: the lookup itself may have reset the stat cache's budget.
  if ((!isInside || STAT_CACHE.isKept(file)) && site.generation === STAT_CACHE.generation) {
    if (site.kinds.size >= MAX_FILENAME_KINDS) site.kinds.clear();
    site.kinds.set(path, kind);
  }
  return kind;
}

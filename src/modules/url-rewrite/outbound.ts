/**
 * The outbound-rule response filter (spec/rewrite.md §1.15). It is installed only on requests
 * whose configuration has outbound rules, by wrapping the response's writeHead/write/end:
 *
 *   writeHead / first write / end ──▶ decide(status)
 *       ├─ header rules (serverVariable=RESPONSE_*) rewrite headers in place
 *       ├─ no body rule applies ──▶ original writeHead, then pass-through (nothing buffered)
 *       └─ a body rule applies   ──▶ buffer the body; at end: rewrite, recompute
 *                                    Content-Length, original writeHead + end
 *
 * Body rules apply when their precondition holds and the response has a body (not HEAD, 204
 * or 304). A compressed body (gzip, deflate or br) is decompressed, rewritten and compressed
 * again with the same coding; an unknown coding is left alone, since matching its bytes would
 * be meaningless. Bodies are decoded as UTF-8.
 */
import type { HttpResponse } from '../../http/http-response.js';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { OutboundRule, RewriteConfig } from '../../config/rewrite-types.js';
import type { RequestContext } from '../../http/request-context.js';
import { checkConditions, evaluate, matchPattern, RewriteState } from './evaluate.js';

// The originals are called with the arguments the caller gave, whatever overload that was.
type AnyMethod = (this: HttpResponse, ...args: unknown[]) => unknown;
type WriteHead = HttpResponse['writeHead'];
type Write = HttpResponse['write'];
type End = HttpResponse['end'];

/** installOutboundFilter wraps ctx.res so the outbound rules of `rewrite` apply to the response. */
export function installOutboundFilter(ctx: RequestContext, rewrite: RewriteConfig): void {
  const filter = new OutboundFilter(ctx, rewrite.outbound);
  const res = ctx.res;
  res.writeHead = filter.writeHead as WriteHead;
  res.write = filter.write as Write;
  res.end = filter.end as End;
}

class OutboundFilter {
  readonly #ctx: RequestContext;
  readonly #rules: readonly OutboundRule[];
  readonly #writeHead: AnyMethod;
  readonly #write: AnyMethod;
  readonly #end: AnyMethod;
  #decided = false;
  #bodyRules: OutboundRule[] | undefined;
  #chunks: Buffer[] = [];
  #statusMessage: string | undefined;
  #state: RewriteState | undefined;

  constructor(ctx: RequestContext, rules: readonly OutboundRule[]) {
    this.#ctx = ctx;
    this.#rules = rules;
    const res = ctx.res;
    this.#writeHead = res.writeHead as AnyMethod;
    this.#write = res.write as AnyMethod;
    this.#end = res.end as AnyMethod;
  }

  readonly writeHead = (status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown): HttpResponse => {
    const res = this.#ctx.res;
    if (this.#decided) return this.#writeHead.call(res, status, reasonOrHeaders, maybeHeaders) as HttpResponse;
    let reason: string | undefined;
    let headers = maybeHeaders;
    if (typeof reasonOrHeaders === 'string') reason = reasonOrHeaders;
    else headers = reasonOrHeaders;
    applyHeaders(res, headers);
    res.statusCode = status;
    if (reason !== undefined) this.#statusMessage = reason;
    this.#decide();
    return res;
  };

  readonly write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    if (!this.#decided) this.#decide();
    if (this.#bodyRules === undefined) return this.#write.call(this.#ctx.res, chunk, encoding, callback) as boolean;
    this.#collect(chunk, encoding);
    const cb = typeof encoding === 'function' ? encoding : callback;
    if (typeof cb === 'function') process.nextTick(cb as () => void);
    return true;
  };

  readonly end = (chunk?: unknown, encoding?: unknown, callback?: unknown): HttpResponse => {
    const res = this.#ctx.res;
    if (!this.#decided) this.#decide();
    if (this.#bodyRules === undefined) return this.#end.call(res, chunk, encoding, callback) as HttpResponse;
    if (typeof chunk !== 'function') this.#collect(chunk, encoding);
    const cb = typeof chunk === 'function' ? chunk : typeof encoding === 'function' ? encoding : callback;
    const raw = Buffer.concat(this.#chunks);
    this.#chunks = [];
    const coding = contentCoding(res);
    if (coding === 'identity') {
      this.#send(Buffer.from(this.#rewriteBody(raw.toString('utf8')), 'utf8'), cb);
    } else if (coding === undefined) {
      this.#send(raw, cb);
    } else {
      // Compressed: inflate, rewrite, deflate again with the same coding (off the event loop).
      // A body that does not inflate is passed on as it came.
      const codec = CODECS[coding];
      codec.decode(raw)
        .then((plain) => codec.encode(Buffer.from(this.#rewriteBody(plain.toString('utf8')), 'utf8')))
        .then((body) => this.#send(body, cb), () => this.#send(raw, cb));
    }
    return res;
  };

  #send(body: Buffer, cb: unknown): void {
    const res = this.#ctx.res;
    res.setHeader('Content-Length', body.length);
    this.#writeHead.call(res, res.statusCode, this.#statusMessage);
    this.#end.call(res, body, cb);
  }

  #collect(chunk: unknown, encoding: unknown): void {
    if (chunk === undefined || chunk === null) return;
    if (typeof chunk === 'string') this.#chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    else this.#chunks.push(Buffer.from(chunk as Uint8Array));
  }

  /** Runs the header rules and decides whether the body is buffered; writes the head when it is not. */
  #decide(): void {
    this.#decided = true;
    const ctx = this.#ctx;
    const res = ctx.res;
    const state = this.#stateFor();
    let bodyRules: OutboundRule[] | undefined;
    const isBodyless = ctx.req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
    const canRewriteBody = !isBodyless && contentCoding(res) !== undefined;
    for (const rule of this.#rules) {
      if (rule.preCondition !== undefined && !checkConditions(rule.preCondition.conditions, state)) continue;
      if (rule.header === '') {
        if (!canRewriteBody) continue;
        (bodyRules ??= []).push(rule);
        if (rule.stopProcessing) break;
        continue;
      }
      const current = headerValue(res, rule.header);
      const captures = matchPattern(rule.pattern, current);
      if (captures === undefined) continue;
      state.ruleCaptures = captures;
      state.conditionCaptures = [];
      if (!checkConditions(rule.conditions, state)) continue;
      if (rule.actionType === 'Rewrite') res.setHeader(rule.header, evaluate(rule.value, state).replace(/[\r\n]/g, ''));
      if (rule.stopProcessing) break;
    }
    this.#bodyRules = bodyRules;
    if (bodyRules === undefined) this.#writeHead.call(res, res.statusCode, this.#statusMessage);
  }

  #stateFor(): RewriteState {
    if (this.#state !== undefined) return this.#state;
    const res = this.#ctx.res;
    const state = new RewriteState(this.#ctx);
    state.response = (name) => (name === 'RESPONSE_STATUS' ? String(res.statusCode) : headerValue(res, name.slice(9).replaceAll('_', '-').toLowerCase()));
    this.#state = state;
    return state;
  }

  #rewriteBody(body: string): string {
    let text = body;
    for (const rule of this.#bodyRules!) {
      text = rule.tags.length > 0 ? this.#rewriteTags(rule, text) : this.#rewriteText(rule, text);
    }
    return text;
  }

  /** Replaces every match (up to `occurrences`) of the rule's pattern in the body. */
  #rewriteText(rule: OutboundRule, text: string): string {
    const state = this.#stateFor();
    const pattern = rule.pattern;
    let count = 0;
    const limit = rule.occurrences === 0 ? Infinity : rule.occurrences;
    const replaceOne = (match: string, groups: readonly string[]): string => {
      if (count >= limit) return match;
      state.ruleCaptures = groups;
      state.conditionCaptures = [];
      if (!checkConditions(rule.conditions, state)) return match;
      count++;
      return rule.actionType === 'Rewrite' ? evaluate(rule.value, state) : match;
    };
    if (pattern.regex === undefined) {
      if (pattern.exact === '') return text;
      const haystack = pattern.ignoreCase ? text.toLowerCase() : text;
      let out = '';
      let from = 0;
      for (let at = haystack.indexOf(pattern.exact); at !== -1; at = haystack.indexOf(pattern.exact, from)) {
        const found = text.slice(at, at + pattern.exact.length);
        out += text.slice(from, at) + replaceOne(found, [found]);
        from = at + pattern.exact.length;
      }
      return out + text.slice(from);
    }
    const global = new RegExp(pattern.regex.source, pattern.regex.flags.includes('g') ? pattern.regex.flags : pattern.regex.flags + 'g');
    return text.replace(global, (...args: unknown[]) => {
      const groupCount = args.findIndex((arg) => typeof arg === 'number') - 1;
      const groups = args.slice(0, groupCount + 1).map((group) => (group === undefined ? '' : String(group)));
      return replaceOne(groups[0]!, groups);
    });
  }

  /** Rewrites the listed attributes of the listed tags: each value is matched and, on a match, replaced by the rule's value. */
  #rewriteTags(rule: OutboundRule, html: string): string {
    const state = this.#stateFor();
    let count = 0;
    const limit = rule.occurrences === 0 ? Infinity : rule.occurrences;
    return html.replace(TAG, (tagText: string, tagName: string) => {
      const name = tagName.toLowerCase();
      const attributes = rule.tags.filter((pair) => pair.tag === name);
      if (attributes.length === 0) return tagText;
      return tagText.replace(ATTRIBUTE, (whole: string, lead: string, attrName: string, eq: string, dq?: string, sq?: string, bare?: string) => {
        if (!attributes.some((pair) => pair.attribute === attrName.toLowerCase()) || count >= limit) return whole;
        const value = dq ?? sq ?? bare ?? '';
        const captures = matchPattern(rule.pattern, value);
        if (captures === undefined) return whole;
        state.ruleCaptures = captures;
        state.conditionCaptures = [];
        if (!checkConditions(rule.conditions, state)) return whole;
        count++;
        if (rule.actionType !== 'Rewrite') return whole;
        const replaced = evaluate(rule.value, state);
        const quote = sq !== undefined ? "'" : '"';
        return `${lead}${attrName}${eq}${quote}${replaced.replaceAll(quote, quote === '"' ? '&quot;' : '&#39;')}${quote}`;
      });
    });
  }
}

const TAG = /<([A-Za-z][\w:-]*)(?:\s[^>]*)?>/g;
const ATTRIBUTE = /(\s)([\w:-]+)(\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;

function headerValue(res: HttpResponse, lowerName: string): string {
  const value = res.getHeader(lowerName);
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** applyHeaders moves headers passed to writeHead onto the response, so rules can read and change them. */
function applyHeaders(res: HttpResponse, headers: unknown): void {
  if (headers === undefined || headers === null) return;
  if (Array.isArray(headers)) {
    // Either [[name, value], ...] or a flat [name, value, name, value, ...] list; repeats stay repeated.
    const flat = Array.isArray(headers[0]) ? (headers as string[][]).flat() : (headers as string[]);
    for (let i = 0; i < flat.length; i += 2) res.appendHeader(flat[i]!, flat[i + 1]!);
    return;
  }
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value !== undefined) res.setHeader(name, value as string | string[] | number);
  }
}

type Coding = 'identity' | 'gzip' | 'deflate' | 'br';

interface Codec {
  decode(body: Buffer): Promise<Buffer>;
  encode(body: Buffer): Promise<Buffer>;
}

/** The compressed codings whose bodies outbound rules can rewrite. */
const CODECS: Record<Exclude<Coding, 'identity'>, Codec> = {
  gzip: { decode: promisify(zlib.gunzip), encode: promisify(zlib.gzip) },
  deflate: { decode: promisify(zlib.inflate), encode: promisify(zlib.deflate) },
  br: { decode: promisify(zlib.brotliDecompress), encode: promisify(zlib.brotliCompress) },
};

/** contentCoding names the response's Content-Encoding when outbound rules can handle it, else undefined. */
function contentCoding(res: HttpResponse): Coding | undefined {
  const value = String(res.getHeader('content-encoding') ?? 'identity').trim().toLowerCase();
  if (value === 'identity' || value === '') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate' || value === 'br') return value;
  return undefined;
}

/**
 * The outbound-rule response filter (spec/rewrite.md §1.15), one filter of the engine's
 * response chain (pipeline/response-chain.ts): for requests whose configuration has outbound
 * rules, header rules (serverVariable=RESPONSE_*) rewrite headers in place when the head goes
 * out; when a body rule applies, the whole body is rewritten (the engine buffers it and
 * recomputes its framing).
 *
 * Body rules apply when their precondition holds and the response has a body (not HEAD, 204
 * or 304). A compressed body (gzip, deflate or br) is decompressed, rewritten and compressed
 * again with the same coding; an unknown coding is left alone, since matching its bytes would
 * be meaningless. Bodies are decoded as UTF-8.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { OutboundRule } from '../../config/rewrite-types.js';
import type { HttpResponse } from '../../http/http-response.js';
import type { RequestContext } from '../../http/request-context.js';
import type { BodyFilter, ResponseFilter } from '../../http/response-filter.js';
import { checkConditions, evaluate, matchPattern, RewriteState } from './evaluate.js';

/** outboundRewrite is the response filter of URL Rewrite's outbound rules. */
export const outboundRewrite = {
  id: 'url-rewrite-outbound',
  wants: (ctx: RequestContext): boolean => (ctx.config?.rewrite?.outbound.length ?? 0) > 0,
  open: (ctx: RequestContext, hasBody: boolean): BodyFilter | undefined => new OutboundRun(ctx, ctx.config!.rewrite!.outbound).open(hasBody),
} as const satisfies ResponseFilter;

/** OutboundRun applies the outbound rules to one response. */
class OutboundRun {
  readonly #ctx: RequestContext;
  readonly #rules: readonly OutboundRule[];
  #bodyRules: OutboundRule[] | undefined;
  #state: RewriteState | undefined;

  constructor(ctx: RequestContext, rules: readonly OutboundRule[]) {
    this.#ctx = ctx;
    this.#rules = rules;
  }

  /** open runs the header rules and returns the body filter when a body rule applies. */
  open(hasBody: boolean): BodyFilter | undefined {
    const res = this.#ctx.res;
    const state = this.#stateFor();
    let bodyRules: OutboundRule[] | undefined;
    const canRewriteBody = hasBody && contentCoding(res) !== undefined;
    for (const rule of this.#rules) {
      if (rule.preCondition !== undefined && !checkConditions(rule.preCondition.conditions, state)) continue;
      if (rule.header === '') {
        if (!canRewriteBody) continue;
        bodyRules ??= [];
        bodyRules.push(rule);
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
    if (bodyRules === undefined) return undefined;
    return { mode: 'buffer', body: (whole) => this.#rewrite(whole) };
  }

  /** Rewrites a whole body; a compressed one is inflated and deflated again (off the event loop). A body that does not inflate rejects: the engine sends it as it came. */
  #rewrite(raw: Buffer): Buffer | Promise<Buffer> {
    const coding = contentCoding(this.#ctx.res);
    if (coding === 'identity') return Buffer.from(this.#rewriteBody(raw.toString('utf8')), 'utf8');
    if (coding === undefined) return raw;
    const codec = CODECS[coding];
    return codec.decode(raw).then((plain) => codec.encode(Buffer.from(this.#rewriteBody(plain.toString('utf8')), 'utf8')));
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
  const value = String(res.getHeader('content-encoding') ?? 'identity')
    .trim()
    .toLowerCase();
  if (value === 'identity' || value === '') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate' || value === 'br') return value;
  return undefined;
}

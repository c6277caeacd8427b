/**
 * The request-filtering module (spec/rewrite.md 2.6), phase 'filter': verbs, requestLimits
 * (content length, header limits, URL and query length), double escaping, URL and query-string
 * sequences, hidden segments and file extensions. The engine runs it again on a rewritten URL.
 */
import type { ErrorCode } from '../../errors.js';
import type { RequestFilteringConfig } from '../../config/request-filtering-config.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import { fail } from '../../http/error-outcome.js';
import { isHiddenPath } from './is-hidden-path.js';
import { lastIndexOfChar } from '../../http/last-index-of-char.js';

const NO_SEGMENTS: ReadonlySet<string> = new Set();

/**
 * filterRequest refuses the request ('finish') when a limit, a hidden segment (404.8, see
 * isHiddenPath) or a file extension forbids it, and otherwise lets it through ('continue').
 * Without a configuration it lets every request through: the names nodehost never serves are
 * refused by the static handler, after URL Rewrite (static-files/never-served.ts).
 */
export function filterRequest(ctx: RequestContext): Outcome {
  const rules = ctx.config?.requestFiltering;
  const refusal = rules === undefined ? undefined : checkLimits(ctx, rules);
  if (refusal !== undefined) {
    return fail(refusal);
  }
  if (isHiddenPath(ctx.path, ctx.config?.hiddenSegments ?? NO_SEGMENTS)) {
    return fail('NH_ERR_FILTER_HIDDEN_SEGMENT');
  }
  const extension = rules === undefined ? undefined : checkExtension(ctx.path, rules);
  if (extension !== undefined) {
    return fail(extension);
  }
  return 'continue';
}

/**
 * checkLimits applies the checks that do not depend on the file named: verbs (404.6), content
 * length (413.1), header limits (431), URL and query length (404.14, 404.15), double escaping
 * (404.11) and denied sequences (404.5, 404.18). Returns the refusal's code, or undefined.
 * Lengths are violated when they exceed the limit [I].
 */
export function checkLimits(ctx: RequestContext, rules: RequestFilteringConfig): ErrorCode | undefined {
  const req = ctx.req;
  if (rules.verbs.size > 0 || !rules.verbsAllowUnlisted) {
    const allowed = rules.verbs.get(req.method ?? 'GET');
    if (allowed === false || (allowed === undefined && !rules.verbsAllowUnlisted)) return 'NH_ERR_FILTER_VERB';
  }
  const contentLength = req.headers['content-length'];
  if (contentLength !== undefined && Number(contentLength) > rules.maxAllowedContentLength) return 'NH_ERR_FILTER_CONTENT_TOO_LARGE';
  if (rules.headerLimits.size > 0) {
    for (const [name, limit] of rules.headerLimits) {
      const value = req.headers[name];
      const length = value === undefined ? 0 : Array.isArray(value) ? value.join(', ').length : value.length;
      if (length > limit) return 'NH_ERR_FILTER_HEADER_TOO_LARGE';
    }
  }
  const path = ctx.path;
  if (path.length > rules.maxUrl) return 'NH_ERR_FILTER_URL_TOO_LONG';
  if (ctx.query.length > rules.maxQueryString) return 'NH_ERR_FILTER_QUERY_TOO_LONG';
  // Double escaping: a `+`, or an escape still present once the path was decoded (`%2541` → `%41`).
  if (!rules.allowDoubleEscaping && (path.includes('+') || DOUBLE_ESCAPE.test(path))) return 'NH_ERR_FILTER_DOUBLE_ESCAPED';
  if (rules.denyUrlSequences.length > 0) {
    const lower = path.toLowerCase();
    const raw = ctx.rawUrl.toLowerCase();
    const q = raw.indexOf('?');
    const rawPath = q === -1 ? raw : raw.slice(0, q);
    for (const sequence of rules.denyUrlSequences) if (lower.includes(sequence) || rawPath.includes(sequence)) return 'NH_ERR_FILTER_URL_SEQUENCE';
  }
  if (rules.denyQueryStringSequences.length > 0 && ctx.query !== '') {
    const raw = ctx.query.toLowerCase();
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw.replaceAll('+', ' '));
    } catch {
      // A malformed escape leaves the raw text to compare.
    }
    for (const sequence of rules.denyQueryStringSequences) if (raw.includes(sequence) || decoded.includes(sequence)) return 'NH_ERR_FILTER_QUERY_SEQUENCE';
  }
  return undefined;
}

const DOUBLE_ESCAPE = /%[0-9A-Fa-f]{2}/;

/**
 * checkExtension applies fileExtensions to the last segment of `path` (404.7): a listed
 * extension with allowed="false" is refused, and with allowUnlisted="false" so is every
 * extension not listed as allowed (`.` stands for names without an extension).
 */
export function checkExtension(path: string, rules: RequestFilteringConfig): ErrorCode | undefined {
  const slash = lastIndexOfChar(path, 47);
  const dot = lastIndexOfChar(path, 46);
  const extension = dot > slash ? path.slice(dot).toLowerCase() : '.';
  const allowed = rules.fileExtensions.get(extension);
  if (allowed === false || (allowed === undefined && !rules.fileExtensionsAllowUnlisted)) return 'NH_ERR_FILTER_FILE_EXTENSION';
  return undefined;
}

/** requestFiltering is the pipeline module that runs filterRequest in the 'filter' phase. */
export const requestFiltering = {
  id: 'request-filtering',
  phase: 'filter',
  handle: filterRequest,
} as const satisfies PipelineModule;

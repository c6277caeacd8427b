/**
 * The httpErrors response filter (spec/rewrite.md §2.5), for responses nodehost did not write
 * itself (the error step answers its own errors, pipeline/error-step.ts):
 *
 * - a node response with status ≥ 400 whose status has a custom page for this client
 *   (customErrorPage) is replaced by that page, as existingResponse says:
 *     PassThrough ─▶ never; node's body goes out unchanged
 *     Replace     ─▶ always
 *     Auto        ─▶ only when node sent no body (Content-Length: 0, or an empty chunked body).
 *                    nodehost's choice, not IIS's: IIS replaced node's bodies under Auto because
 *                    iisnode never set fTrySkipCustomErrors (spec/iisnode.md 2.5); a node app
 *                    that writes an error body (an API's JSON 404) means it. docs/error-pages.md.
 *   File pages are read from disk; Redirect answers 302 to the path; an ExecuteURL page (which
 *   may itself be a node app) runs through the pipeline once node's response has ended: the
 *   chain drops node's response and the page answers anew (Reanswer). A HEAD request gets
 *   nodehost's own status page's head in its place, with no page run for a body never sent.
 *   A client that gets detailed pages (isDetailedFor) gets node's own body: it is the detail.
 * - while an ExecuteURL page runs (ctx.isExecutingErrorUrl), its response keeps the status of
 *   the error it answers, whatever the page's handler said.
 *
 * Replacing happens at head time: the filter discards node's body (buffer mode) and the engine
 * sends the page with its own Content-Length.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpErrorPage } from '../../config/types.js';
import type { HttpResponse } from '../../http/http-response.js';
import type { ErrorResponder, RequestContext } from '../../http/request-context.js';
import type { BodyFilter, Reanswer, ResponseFilter } from '../../http/response-filter.js';
import { friendlyMessage, renderStatusPage } from '../../http/status-page-html.js';
import { customErrorPage, errorPageContentType, hasCustomPages, readErrorPageFile } from './error-page-choice.js';

/** httpErrorsFilter is the response filter of httpErrors (see the file comment). */
export const httpErrorsFilter = {
  id: 'http-errors',
  wants(ctx: RequestContext): boolean {
    if (ctx.isExecutingErrorUrl) return true;
    const httpErrors = ctx.config?.httpErrors;
    return ctx.errorStatus === 0 && httpErrors !== undefined && httpErrors.existingResponse !== 'PassThrough' && hasCustomPages(ctx);
  },
  open(ctx: RequestContext, hasBody: boolean): BodyFilter | undefined {
    const res = ctx.res;
    if (ctx.isExecutingErrorUrl) {
      res.statusCode = ctx.errorStatus;
      res.statusMessage = STATUS_CODES[ctx.errorStatus] ?? '';
      return undefined;
    }
    if (ctx.handler !== 'iisnode' || ctx.errorStatus !== 0 || res.statusCode < 400) return undefined;
    const status = res.statusCode;
    const page = customErrorPage(ctx, status, 0);
    if (page === undefined) return undefined;
    const executeUrl = ctx.errors.executeUrl;
    const isExecuted = page.responseMode === 'ExecuteURL' && hasBody && executeUrl !== undefined;
    if (ctx.config!.httpErrors.existingResponse === 'Auto') {
      const length = res.getHeader('content-length');
      if (length !== undefined && String(length).trim() !== '0') return undefined;
      if (length === undefined) {
        // No length yet (chunked): node's body decides; an empty one is replaced.
        if (!hasBody) return undefined;
        return {
          mode: 'buffer',
          body: (whole) => (whole.length > 0 ? whole : isExecuted ? executed(ctx, page, status, executeUrl) : replace(ctx, page, status, true)),
        };
      }
    }
    if (isExecuted) return { mode: 'buffer', body: () => executed(ctx, page, status, executeUrl) };
    const body = replace(ctx, page, status, hasBody);
    return hasBody ? { mode: 'buffer', body: () => body } : undefined;
  },
} as const satisfies ResponseFilter;

/** executed answers with an ExecuteURL page for `status`, run through the pipeline once node's response is dropped. */
function executed(ctx: RequestContext, page: HttpErrorPage, status: number, executeUrl: NonNullable<ErrorResponder['executeUrl']>): Reanswer {
  return {
    answer: () => {
      ctx.errorStatus = status;
      ctx.status = status;
      ctx.isExecutingErrorUrl = true;
      void executeUrl(ctx, page.path);
    },
  };
}

/** replace turns the response into the custom page: its head now, its body when the promise settles. */
function replace(ctx: RequestContext, page: HttpErrorPage, status: number, hasBody: boolean): Promise<Buffer> {
  const res = ctx.res;
  ctx.errorStatus = status;
  ctx.status = status;
  clearEntityHeaders(res);
  if (page.responseMode === 'Redirect') {
    ctx.status = 302;
    res.statusCode = 302;
    res.statusMessage = 'Found';
    res.setHeader('Location', page.path);
    return Promise.resolve(EMPTY);
  }
  if (page.responseMode === 'File' && hasBody) {
    res.setHeader('Content-Type', errorPageContentType(ctx, page));
    return readErrorPageFile(ctx, page).then((file) => file ?? ownPage(res, status));
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  return Promise.resolve(hasBody ? ownPage(res, status) : EMPTY);
}

function ownPage(res: HttpResponse, status: number): Buffer {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  return Buffer.from(renderStatusPage(status, friendlyMessage(status)), 'utf8');
}

/** Headers that describe node's body, which is no longer sent. */
const ENTITY_HEADERS = [
  'content-type',
  'content-encoding',
  'content-language',
  'content-disposition',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'location',
];

function clearEntityHeaders(res: HttpResponse): void {
  for (const name of ENTITY_HEADERS) res.removeHeader(name);
}

const EMPTY: Buffer = Buffer.alloc(0);

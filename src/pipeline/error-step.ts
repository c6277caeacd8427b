/**
 * The engine's one error step (DESIGN §1, STYLE 10): every error outcome, from a module's
 * return or a handler's `ctx.sendError`, is answered here, so request filtering, static files,
 * URL Rewrite and worker failures get their pages by the same rules:
 *
 *   iisnode's own 200 pages (developer page, 1028)   ──▶ iisnode's pages (spec/iisnode.md 2.9)
 *   a configuration error                            ──▶ the configuration error page (friendly locally)
 *   httpErrors names a custom page for this client   ──▶ that page: File, ExecuteURL or Redirect
 *   message public (a setting conflict)              ──▶ plain text naming the settings, to every client
 *   a worker failure                                 ──▶ iisnode's plain status
 *   anything else                                    ──▶ the status page: detailed for the clients
 *                                                        httpErrors' errorMode allows, else one
 *                                                        friendly sentence
 *
 * Before writing, the step records the error's status in ctx.errorStatus, so response filters
 * leave the page alone and an error raised while a custom page runs (its file missing, its
 * ExecuteURL failing) gets the plain status page of the first error, never a second custom page.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpErrorPage } from '../config/types.js';
import type { ErrorOutcome } from '../http/error-outcome.js';
import type { ErrorResponder, RequestContext } from '../http/request-context.js';
import { customErrorPage, errorPageContentType, isDetailedFor, readErrorPageFile } from '../modules/custom-errors/error-page-choice.js';
import { isIisnodePageShown, sendConfigErrorPage, sendIisnodeError, sendSettingConflict } from './error-pages/iisnode-pages.js';
import { friendlyMessage, sendStatus } from './error-pages/status-page.js';

/** ErrorUrlRunner runs a custom page's ExecuteURL through the pipeline for ctx (the engine provides it). */
export type ErrorUrlRunner = (ctx: RequestContext, url: string) => Promise<void>;

/** createErrorStep builds the error step; without `executeUrl`, ExecuteURL pages fall back to the status page. */
export function createErrorStep(executeUrl?: ErrorUrlRunner): ErrorResponder {
  return {
    executeUrl,
    respond(ctx: RequestContext, outcome: ErrorOutcome): void {
      const { error, page } = outcome;
      const isNested = ctx.errorStatus !== 0;
      if (isNested) {
        // The custom page of an error failed in turn: the first error's plain page.
        ctx.isExecutingErrorUrl = false;
        sendStatus(ctx, ctx.errorStatus, 0, friendlyMessage(ctx.errorStatus));
        return;
      }
      ctx.errorStatus = error.status;
      if (page.worker !== undefined && isIisnodePageShown(ctx, error, page.worker)) sendIisnodeError(ctx, error, page.worker);
      else if (page.isConfigError === true || error.code.startsWith('NH_ERR_CONFIG_')) sendConfigErrorPage(ctx, error);
      else {
        const custom = customErrorPage(ctx, error.status, error.substatus);
        if (custom !== undefined) sendCustomPage(ctx, custom, error.status, error.substatus, executeUrl);
        else if (page.isMessagePublic === true) sendSettingConflict(ctx, error);
        else if (page.worker !== undefined) sendIisnodeError(ctx, error, page.worker);
        else if (isDetailedFor(ctx))
          sendStatus(ctx, error.status, error.substatus, page.publicMessage ?? friendlyMessage(error.status), {
            substatus: error.substatus,
            code: error.code,
            message: error.message,
          });
        else sendStatus(ctx, error.status, error.substatus, page.publicMessage ?? friendlyMessage(error.status));
      }
    },
  };
}

/** errorStep is the error step without ExecuteURL, for contexts made outside a pipeline (unit tests). */
export const errorStep: ErrorResponder = createErrorStep();

/** sendCustomPage answers with an httpErrors page, keeping the error's status (Redirect: 302). */
function sendCustomPage(ctx: RequestContext, page: HttpErrorPage, status: number, substatus: number, executeUrl: ErrorUrlRunner | undefined): void {
  const res = ctx.res;
  ctx.status = status;
  ctx.substatus = substatus;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  for (const name of STALE_HEADERS) res.removeHeader(name);
  if (page.responseMode === 'Redirect') {
    ctx.status = 302;
    res.statusCode = 302;
    res.setHeader('Location', page.path);
    res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  if (page.responseMode === 'ExecuteURL') {
    if (executeUrl === undefined) {
      sendStatus(ctx, status, substatus, friendlyMessage(status));
      return;
    }
    ctx.isExecutingErrorUrl = true;
    void executeUrl(ctx, page.path);
    return;
  }
  void readErrorPageFile(ctx, page).then((body) => {
    if (body === undefined || res.headersSent || res.destroyed) {
      if (!res.headersSent) sendStatus(ctx, status, substatus, friendlyMessage(status));
      return;
    }
    res.statusCode = status;
    res.statusMessage = STATUS_CODES[status] ?? '';
    res.setHeader('Content-Type', errorPageContentType(ctx, page));
    res.setHeader('Content-Length', body.length);
    res.end(ctx.req.method === 'HEAD' ? undefined : body);
  });
}

/** Headers of a file or range the handler meant to send, which the error page is not. */
const STALE_HEADERS = ['ETag', 'Last-Modified', 'Accept-Ranges', 'Content-Range', 'Content-Type', 'Content-Length'];

/**
 * errorStep is the engine's one error step (DESIGN §1, STYLE 10): every error outcome, from a
 * module's return or a handler's `ctx.sendError`, is answered here, so request filtering,
 * static files, URL Rewrite and worker failures get their pages by the same rules:
 *
 *   worker failure (the iisnode handler)  ──▶ iisnode's pages (spec/iisnode.md 2.9)
 *   a configuration error                 ──▶ the configuration error page (friendly locally)
 *   message public (a setting conflict)   ──▶ plain text naming the settings, to every client
 *   anything else                         ──▶ the plain status page, one friendly sentence
 *
 * A custom error page module (httpErrors) attaches here.
 */
import type { ErrorOutcome } from '../http/error-outcome.js';
import type { ErrorResponder, RequestContext } from '../http/request-context.js';
import { sendConfigErrorPage, sendIisnodeError, sendSettingConflict } from './error-pages/iisnode-pages.js';
import { friendlyMessage, sendStatus } from './error-pages/status-page.js';

/** errorStep renders error outcomes; it keeps no state, so one serves every site. */
export const errorStep: ErrorResponder = {
  respond(ctx: RequestContext, outcome: ErrorOutcome): void {
    const { error, page } = outcome;
    if (page.worker !== undefined) sendIisnodeError(ctx, error, page.worker);
    else if (page.isConfigError === true || error.code.startsWith('NH_ERR_CONFIG_')) sendConfigErrorPage(ctx, error);
    else if (page.isMessagePublic === true) sendSettingConflict(ctx, error);
    else sendStatus(ctx, error.status, error.substatus, page.publicMessage ?? friendlyMessage(error.status));
  },
};

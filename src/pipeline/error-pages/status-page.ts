/**
 * The plain status page nodehost writes when a request fails in a module (404.8, 404.3,
 * 403.14, 405, ...). Without details it is the remote-client page of IIS's DetailedLocalOnly
 * mode: status code and reason, one friendly sentence, no internals; the substatus goes only to
 * the access log (through ctx.substatus), as on IIS. The detailed page adds the substatus and
 * the error, for the clients httpErrors allows. The error step (../error-step.ts) chooses.
 */
import type { RequestContext } from '../../http/request-context.js';
import { friendlyMessage, renderStatusPage, type StatusPageDetail } from '../../http/status-page-html.js';

/**
 * sendStatus answers the request with `status` and a minimal HTML page titled
 * "<status> - <reason>" that shows `message` (HTML-escaped); with `detail`, the detailed page
 * (http/status-page-html.ts). It records `status` and `substatus` on ctx for the access log.
 * HEAD gets the same headers and no body. Headers already set on the response (Allow,
 * Content-Range, custom headers) are kept. When the response head has already gone out
 * nothing valid can be sent, so the response is destroyed.
 */
export function sendStatus(ctx: RequestContext, status: number, substatus: number, message: string, detail?: StatusPageDetail): void {
  ctx.status = status;
  ctx.substatus = substatus;
  const res = ctx.res;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = renderStatusPage(status, message, detail);
  res.statusCode = status;
  // Headers that describe a file we are no longer sending must not leak into the error page.
  res.removeHeader('ETag');
  res.removeHeader('Last-Modified');
  res.removeHeader('Accept-Ranges');
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (ctx.req.method === 'HEAD') res.end();
  else res.end(body);
}

export { friendlyMessage };

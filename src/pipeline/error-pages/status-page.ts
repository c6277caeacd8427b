/**
 * The plain status page nodehost writes when a request fails in a module (404.8, 404.3,
 * 403.14, 405, ...). It is the remote-client page of IIS's DetailedLocalOnly mode: status code
 * and reason, one friendly sentence, no internals. The substatus goes only to the access log
 * (through ctx.substatus), as on IIS. The error step (../error-step.ts) chooses it.
 */
import { STATUS_CODES } from 'node:http';
import { escapeHtml } from '../../http/escape-html.js';
import type { RequestContext } from '../../http/request-context.js';

/**
 * sendStatus answers the request with `status` and a minimal HTML page titled
 * "<status> - <reason>" that shows `message` (HTML-escaped). It records `status` and
 * `substatus` on ctx for the access log. HEAD gets the same headers and no body. Headers
 * already set on the response (Allow, Content-Range, custom headers) are kept. When the
 * response head has already gone out nothing valid can be sent, so the response is destroyed.
 */
export function sendStatus(ctx: RequestContext, status: number, substatus: number, message: string): void {
  ctx.status = status;
  ctx.substatus = substatus;
  const res = ctx.res;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const title = `${status} - ${STATUS_CODES[status] ?? 'Error'}`;
  const body =
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>' + title +
    '</title></head>\n<body><h1>' + title + '</h1>\n<p>' + escapeHtml(message) + '</p></body></html>\n';
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

/** friendlyMessage gives the sentence a client sees for a status; it says nothing about why. */
export function friendlyMessage(status: number): string {
  switch (status) {
    case 400: return 'The request could not be understood by the server.';
    case 403: return 'You do not have permission to view this page.';
    case 404: return 'The page you are looking for could not be found.';
    case 405: return 'This method is not allowed for the requested page.';
    case 412: return 'A precondition of the request did not hold.';
    case 416: return 'The requested range cannot be served.';
    case 503: return 'The service is temporarily unavailable. Please try again later.';
  }
  return status >= 500 ? 'The server could not complete the request.' : 'The request could not be completed.';
}

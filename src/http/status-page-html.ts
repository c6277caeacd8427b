/**
 * The HTML of nodehost's own status pages, the one renderer for the error step's plain and
 * detailed pages (pipeline/error-pages/status-page.ts) and for the fallback of a custom error
 * page that cannot be read. Clean, readable HTML: the status and its reason, one sentence of
 * what to do, and details only when the caller passes them (the detailed page, given to the
 * clients httpErrors' errorMode allows).
 */
import { STATUS_CODES } from 'node:http';
import { escapeHtml } from './escape-html.js';

/** StatusPageDetail is what the detailed page adds: the substatus and the error behind the status. */
export interface StatusPageDetail {
  readonly substatus: number;
  /** The error code (NH_ERR_...). */
  readonly code: string;
  /** The error's own message (may name files and settings: loopback clients only by default). */
  readonly message: string;
}

/**
 * renderStatusPage returns the page "<status> - <reason>" with `message` (HTML-escaped); with
 * `detail`, the heading names the substatus ("404.8 - Not Found") and a block shows the error
 * code and message, with the sentence saying why this client sees them.
 */
export function renderStatusPage(status: number, message: string, detail?: StatusPageDetail): string {
  const reason = STATUS_CODES[status] ?? 'Error';
  const title = `${status} - ${reason}`;
  if (detail === undefined) {
    return (
      '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>' +
      title +
      '</title></head>\n<body><h1>' +
      title +
      '</h1>\n<p>' +
      escapeHtml(message) +
      '</p></body></html>\n'
    );
  }
  const heading = `${status}.${detail.substatus} - ${reason}`;
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>' +
    heading +
    '</title>' +
    DETAIL_STYLE +
    '</head>\n<body><h1>' +
    heading +
    '</h1>\n<p>' +
    escapeHtml(message) +
    '</p>\n' +
    '<pre>Error: ' +
    escapeHtml(detail.code) +
    '\nHTTP status: ' +
    status +
    '.' +
    detail.substatus +
    '\n\n' +
    escapeHtml(detail.message) +
    '</pre>\n' +
    '<p class="why">This detailed page is shown because <code>system.webServer/httpErrors/@errorMode</code> allows it for this client ' +
    '(DetailedLocalOnly, the default, shows it to requests from this machine only). Other clients see the status and the first sentence.</p></body></html>\n'
  );
}

/** friendlyMessage gives the sentence a client sees for a status; it says nothing about why. */
export function friendlyMessage(status: number): string {
  switch (status) {
    case 400:
      return 'The request could not be understood by the server.';
    case 403:
      return 'You do not have permission to view this page.';
    case 404:
      return 'The page you are looking for could not be found.';
    case 405:
      return 'This method is not allowed for the requested page.';
    case 412:
      return 'A precondition of the request did not hold.';
    case 416:
      return 'The requested range cannot be served.';
    case 431:
      return 'A request header is too large.';
    case 413:
      return 'The request body is too large.';
    case 503:
      return 'The service is temporarily unavailable. Please try again later.';
  }
  return status >= 500 ? 'The server could not complete the request.' : 'The request could not be completed.';
}

const DETAIL_STYLE =
  '<style>body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222;line-height:1.5}' +
  'h1{font-size:1.3em;color:#b00}pre{background:#f6f6f6;border:1px solid #ddd;padding:.8em;overflow:auto;white-space:pre-wrap;word-break:break-all}' +
  '.why{color:#555;font-size:.9em}code{background:#f0f0f0;padding:0 .2em}</style>';

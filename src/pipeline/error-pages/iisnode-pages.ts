/**
 * The three kinds of output for iisnode failures (spec 2.9):
 * 1. the developer page: HTTP 200, text/html, `Cache-Control: no-cache`, with status,
 *    substatus, reason and the worker's last 64 KiB of stderr — for the clients that may see
 *    internals (local ones, users the site authenticated and allowed) when devErrorsEnabled,
 *    the status is ≥ 500 and a process was assigned;
 * 2. a plain status (500/503, ...) with a short body and no internals, otherwise;
 * 3. friendly message pages: configuration errors (1031/1032; 200 to the same clients, plain
 *    500 to others, regardless of devErrorsEnabled) and 1028 "unable to start node"
 *    (friendly page when devErrorsEnabled, else plain 500).
 *
 * The HTTP status line cannot carry IIS's substatus, so every page also sends it in the
 * response header `X-Nodehost-Substatus` (e.g. `1002` for 500.1002), and sets ctx.status /
 * ctx.substatus for the access log (ctx.status is the status actually sent).
 */
import { STATUS_CODES } from 'node:http';
import type { NodehostError } from '../../errors.js';
import type { WorkerFailure } from '../../http/error-outcome.js';
import { escapeLogText } from '../../http/escape-html.js';
import type { RequestContext } from '../../http/request-context.js';

/** SUBSTATUS_HEADER carries the IIS substatus of nodehost's own error responses. */
export const SUBSTATUS_HEADER = 'X-Nodehost-Substatus';

/**
 * sendIisnodeError answers a request that failed in the iisnode handler with the page its
 * error and the settings call for (see the file comment). The 1028 spawn error gets its
 * friendly page. Does nothing but destroy the response when its head was already sent.
 */
export function sendIisnodeError(ctx: RequestContext, error: NodehostError, options: WorkerFailure): void {
  if (error.code === 'NH_ERR_WORKER_SPAWN') {
    if (options.devErrorsEnabled) writePage(ctx, 200, error.substatus, friendlyPage(START_NODE_FAILED_MESSAGE, error.message));
    else writePlain(ctx, error.status, error.substatus);
    return;
  }
  if (error.code.startsWith('NH_ERR_CONFIG_')) {
    sendConfigErrorPage(ctx, error);
    return;
  }
  if (options.devErrorsEnabled && ctx.maySeeInternals && error.status >= 500 && options.isProcessAssigned) {
    writePage(ctx, 200, error.substatus, renderDevErrorPage(error, options.stderrTail));
    return;
  }
  writePlain(ctx, error.status, error.substatus);
}

/**
 * isIisnodePageShown is true when iisnode itself answers the failure with one of its HTTP 200
 * pages (the developer page, or 1028's friendly page): IIS's httpErrors never saw those, since
 * their status is 200, so no custom page replaces them.
 */
export function isIisnodePageShown(ctx: RequestContext, error: NodehostError, options: WorkerFailure): boolean {
  if (!options.devErrorsEnabled) return false;
  if (error.code === 'NH_ERR_WORKER_SPAWN') return true;
  return ctx.maySeeInternals && error.status >= 500 && options.isProcessAssigned;
}

/**
 * sendConfigErrorPage answers a request whose configuration could not be read (spec 2.9,
 * kind 3): local clients get HTTP 200 with iisnode's message (the iisnode.yml variant for
 * NH_ERR_CONFIG_YML) plus the error's file:line and text; others get a plain 500. It ignores
 * devErrorsEnabled, as iisnode did. The pipeline calls it for web.config errors too.
 */
export function sendConfigErrorPage(ctx: RequestContext, error: NodehostError): void {
  if (!ctx.maySeeInternals) {
    writePlain(ctx, 500, error.substatus);
    return;
  }
  const message = error.code === 'NH_ERR_CONFIG_YML' ? YML_CONFIG_MESSAGE : WEB_CONFIG_MESSAGE;
  const where = error.where();
  writePage(ctx, 200, error.substatus, friendlyPage(message, where === '' ? error.message : `${where}: ${error.message}`));
}

/**
 * sendSettingConflict answers a request that the host's settings keep from being served (an
 * application feature that nodehost.yml rules out): a plain 500 whose body is the error's
 * message, which names the settings and nothing internal, so every client gets it.
 */
export function sendSettingConflict(ctx: RequestContext, error: NodehostError): void {
  writeResponse(
    ctx,
    error.status,
    error.substatus,
    `${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\n${error.message}\n`,
    'text/plain; charset=utf-8',
    true,
  );
}

/** WEB_CONFIG_MESSAGE is iisnode's 1031 text (test 116 looks for it). */
export const WEB_CONFIG_MESSAGE =
  'iisnode was unable to read the configuration file. Make sure the web.config file syntax is correct. In particular, verify the ' +
  '<a href="https://github.com/tjanczuk/iisnode/blob/master/src/samples/configuration/web.config">iisnode configuration section</a> matches the expected schema.';

/** YML_CONFIG_MESSAGE is iisnode's 1032 text (test 126 looks for "unable to read the configuration file iisnode.yml"). */
export const YML_CONFIG_MESSAGE =
  'iisnode was unable to read the configuration file iisnode.yml. Make sure the iisnode.yml file syntax is correct. For reference, check ' +
  '<a href="https://github.com/tjanczuk/iisnode/blob/master/src/samples/configuration/iisnode.yml">the sample iisnode.yml file</a>.';

/** START_NODE_FAILED_MESSAGE is iisnode's 1028 text (test 112). */
export const START_NODE_FAILED_MESSAGE =
  'The iisnode module is unable to start the node.exe process. Make sure the node.exe executable is available at the location specified in the ' +
  '<a href="https://github.com/tjanczuk/iisnode/blob/master/src/samples/configuration/web.config">system.webServer/iisnode/@nodeProcessCommandLine</a> ' +
  'element of web.config. By default node.exe is expected in one of the directories listed in the PATH environment variable.';

const STYLE =
  '<style>body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222;line-height:1.5}' +
  'h1{font-size:1.3em;color:#b00}pre{background:#f6f6f6;border:1px solid #ddd;padding:.8em;overflow:auto;white-space:pre-wrap;word-break:break-all}' +
  '.log{background:#1e1e1e;color:#eee}code{background:#f0f0f0;padding:0 .2em}</style>';

/**
 * renderDevErrorPage renders the developer error page body: iisnode's heading, the status
 * block, the explanation of the 200, and the worker's stderr tail HTML-escaped (or the
 * paragraph saying there is none).
 */
export function renderDevErrorPage(error: NodehostError, stderrTail: string): string {
  const reason = STATUS_CODES[error.status] ?? 'Error';
  const log =
    stderrTail === ''
      ? '<p>The node process has not written any information to stderr, or nodehost was unable to capture it.</p>'
      : '<p>The last 64k of the output generated by the node process to stderr is shown below:</p>\n<pre class="log">' + escapeLogText(stderrTail) + '</pre>';
  return (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>iisnode error ' +
    error.status +
    '.' +
    error.substatus +
    '</title>' +
    STYLE +
    '</head><body>\n' +
    '<h1>iisnode encountered an error when processing the request.</h1>\n' +
    '<pre>Error: ' +
    error.code +
    '\nHTTP status: ' +
    error.status +
    '\nHTTP subStatus: ' +
    error.substatus +
    '\nHTTP reason: ' +
    escapeLogText(reason) +
    '\n\n' +
    escapeLogText(error.message) +
    '</pre>\n' +
    "<p>You are receiving this HTTP 200 response because <code>system.webServer/iisnode/@devErrorsEnabled</code> is 'true' and the request " +
    'comes from this machine or from a user the site authenticated. The real status is ' +
    error.status +
    '.' +
    error.substatus +
    ' (also sent in the <code>' +
    SUBSTATUS_HEADER +
    '</code> header).</p>\n' +
    '<p>In addition to the stdout and stderr of the node process, consider using debugging and the nodehost host log to further diagnose the problem.</p>\n' +
    log +
    '\n</body></html>\n'
  );
}

function friendlyPage(message: string, detail: string): string {
  return (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>iisnode</title>' +
    STYLE +
    '</head><body>\n' +
    '<p>' +
    message +
    '</p>\n' +
    (detail === '' ? '' : '<pre>' + escapeLogText(detail) + '</pre>\n') +
    '</body></html>\n'
  );
}

function writePlain(ctx: RequestContext, status: number, substatus: number): void {
  const reason = STATUS_CODES[status] ?? 'Error';
  writeResponse(ctx, status, substatus, `${status} ${reason}\n`, 'text/plain; charset=utf-8', false);
}

function writePage(ctx: RequestContext, status: number, substatus: number, html: string): void {
  writeResponse(ctx, status, substatus, html, 'text/html; charset=utf-8', true);
}

function writeResponse(ctx: RequestContext, status: number, substatus: number, body: string, contentType: string, isNoCache: boolean): void {
  const res = ctx.res;
  ctx.status = status;
  ctx.substatus = substatus;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  if (isNoCache) res.setHeader('Cache-Control', 'no-cache');
  res.setHeader(SUBSTATUS_HEADER, String(substatus));
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

/**
 * What node sees: the request target and header list nodehost forwards (spec 2.4, 2.12), and
 * the `iisnode-debug` response header. Pure functions over the request; the transport decides
 * how the bytes travel.
 */
import os from 'node:os';
import { equalsIgnoreAsciiCase } from '../http/equals-ignore-ascii-case.js';
import { isHttpToken } from '../http/http-token.js';
import type { RequestContext } from '../http/request-context.js';

/**
 * compilePromoteServerVars turns `promoteServerVars` into the header names to add, once per
 * application: the list is split on commas, empty entries are skipped, spaces are NOT trimmed
 * (spec 2.4), and the result is in reverse list order because iisnode added the headers that
 * way. An entry that cannot be part of a header name (e.g. ` AUTH_USER` with its space) is
 * dropped, since it could never be sent.
 */
export function compilePromoteServerVars(list: string): readonly PromotedVariable[] {
  const out: PromotedVariable[] = [];
  for (const name of list.split(',')) {
    if (!isHttpToken(name)) continue;
    out.push({ name, header: `X-iisnode-${name}` });
  }
  return out.reverse();
}

/** PromotedVariable is a server variable to send as the header `X-iisnode-<name as written>`. */
export interface PromotedVariable {
  readonly name: string;
  readonly header: string;
}

/** ForwardSettings are the per-application inputs of request head building. */
export interface ForwardSettings {
  readonly enableXFF: boolean;
  readonly promoted: readonly PromotedVariable[];
}

/** RequestHead is what node receives: the request target and the raw header list (name, value, name, value, …). */
export interface RequestHead {
  readonly target: string;
  readonly headers: string[];
  /** Approximate size of the serialised head in bytes, for maxRequestBufferSize (500.1005). */
  readonly size: number;
  /** True when the request has a body: Transfer-Encoding, or a Content-Length other than 0. */
  readonly hasBody: boolean;
}

/**
 * buildRequestHead builds the request node sees (spec 2.4):
 * - target: `ctx.rawUrl` exactly as the client sent it. After a rewrite this is still the
 *   original URL, as iisnode showed node (the rewrite adds `X-Original-URL` with the same
 *   value); a client-sent `X-Original-URL` never chooses the URL node sees;
 * - every client header in order, repeats kept separate, empty values kept, except the
 *   hop-by-hop `Connection`, `Keep-Alive`, `Proxy-Connection` and `Expect`, and `Authorization`
 *   when a Basic login consumed it (ctx.isAuthorizationHidden). Unlike an
 *   intermediary's full list (http/hop-by-hop-headers.ts), `Transfer-Encoding`, `TE` and
 *   `Upgrade` reach node as iisnode forwarded them: the body goes on with the client's framing,
 *   and an upgrade is node's to accept;
 * - `Host` added when the client sent none (node's HTTP/1.1 server requires one);
 * - an absolute-form target (`GET http://host/path`) reaches node in origin-form (`/path`)
 *   with the target's authority as `Host`, replacing the client's: RFC 9112 §3.2.2 says the
 *   server must ignore the Host field then, and an app reading `req.url` and `Host` would
 *   otherwise see two different sites;
 * - enableXFF: the client IP appended to the last `X-Forwarded-For` with `, ` unless that value
 *   already ends with it (case-insensitive, tjanczuk/iisnode#340), else a new header; then
 *   `X-Forwarded-Proto: http|https` unless the client sent one;
 * - each promoted server variable that exists (may be empty) as `X-iisnode-<NAME>`.
 */
export function buildRequestHead(ctx: RequestContext, settings: ForwardSettings): RequestHead {
  const raw = ctx.req.rawHeaders;
  const headers: string[] = [];
  const absolute = splitAbsoluteForm(ctx.rawUrl);
  const target = absolute === undefined ? ctx.rawUrl : absolute.originForm;
  let lastXff = -1;
  let hasProto = false;
  let hasHost = false;
  let hasBody = false;
  let size = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    switch (name.length) {
      case 4:
        if (equalsIgnoreAsciiCase(name, 'host')) {
          if (absolute !== undefined) continue;
          hasHost = true;
        }
        break;
      case 6:
        if (equalsIgnoreAsciiCase(name, 'expect')) continue;
        break;
      case 10:
        if (equalsIgnoreAsciiCase(name, 'connection') || equalsIgnoreAsciiCase(name, 'keep-alive')) continue;
        break;
      case 13:
        // A Basic login nodehost accepted is not node's to see (basicAuthentication forwardAuthorizationHeader).
        if (ctx.isAuthorizationHidden && equalsIgnoreAsciiCase(name, 'authorization')) continue;
        break;
      case 14:
        if (value !== '0' && equalsIgnoreAsciiCase(name, 'content-length')) hasBody = true;
        break;
      case 15:
        if (equalsIgnoreAsciiCase(name, 'x-forwarded-for')) lastXff = headers.length + 1;
        break;
      case 16:
        if (equalsIgnoreAsciiCase(name, 'proxy-connection')) continue;
        break;
      case 17:
        if (equalsIgnoreAsciiCase(name, 'x-forwarded-proto')) hasProto = true;
        else if (equalsIgnoreAsciiCase(name, 'transfer-encoding')) hasBody = true;
        break;
    }
    headers.push(name, value);
    size += name.length + value.length + 4;
  }
  if (!hasHost) {
    const host = absolute?.authority || ctx.serverName || 'localhost';
    headers.push('Host', host);
    size += host.length + 10;
  }
  if (settings.enableXFF) {
    const ip = ctx.remoteAddress;
    if (lastXff >= 0) {
      const current = headers[lastXff];
      if (!endsWithIgnoreCase(current, ip)) {
        headers[lastXff] = current === '' ? ip : `${current}, ${ip}`;
        size += ip.length + 2;
      }
    } else {
      headers.push('X-Forwarded-For', ip);
      size += ip.length + 19;
    }
    if (!hasProto) {
      headers.push('X-Forwarded-Proto', ctx.isHttps ? 'https' : 'http');
      size += 26;
    }
  }
  const promoted = settings.promoted;
  for (let i = 0; i < promoted.length; i++) {
    const value = ctx.serverVariable(promoted[i].name);
    if (value === undefined) continue;
    headers.push(promoted[i].header, value);
    size += promoted[i].header.length + value.length + 4;
  }
  size += (ctx.req.method ?? 'GET').length + target.length + 13;
  return { target, headers, size, hasBody };
}

/** endsWithIgnoreCase compares the end of `value` with `suffix`, ignoring ASCII case. */
export function endsWithIgnoreCase(value: string, suffix: string): boolean {
  if (suffix.length > value.length) return false;
  return value.slice(value.length - suffix.length).toLowerCase() === suffix.toLowerCase();
}

/**
 * isHopByHopResponseHeader tells whether a response header from node concerns only the
 * connection to node and is not forwarded: `Connection`, `Keep-Alive`, `Proxy-Connection`
 * (spec 2.6: node's Connection header is dropped). Not the full hop-by-hop list
 * (http/hop-by-hop-headers.ts): the transport decides `Transfer-Encoding` itself and an
 * `Upgrade` must reach the client with the 101 of a tunnel.
 */
export function isHopByHopResponseHeader(name: string): boolean {
  switch (name.length) {
    case 10:
      return equalsIgnoreAsciiCase(name, 'connection') || equalsIgnoreAsciiCase(name, 'keep-alive');
    case 16:
      return equalsIgnoreAsciiCase(name, 'proxy-connection');
    default:
      return false;
  }
}

/** DebugHeaderFields are the facts nodehost knows for the `iisnode-debug` header (spec 2.12). */
export interface DebugHeaderFields {
  readonly version: string;
  readonly nodeCommandLine: string;
  readonly nodePid: number;
  readonly appProcesses: number;
  readonly processActiveRequests: number;
  readonly appActiveRequests: number;
  readonly hostTotalRequests: number;
  readonly retries: number;
  /** Milliseconds from sending the request head to node until its response head arrived. */
  readonly requestMs: number;
}

const HOST_NAME = os.hostname();

/**
 * buildDebugHeader renders the `iisnode-debug` value: the `http://bit.ly/NsU2nd#` prefix that
 * tools parse (iisnode test 132), then `&`-separated `key=value` pairs in iisnode's order.
 * Values are URI-encoded so a command line with `&` or spaces cannot break the format.
 * nodehost's own pid stands for iisnode's IIS worker pid; memory figures other than the
 * host's resident set are not known and are left out.
 */
export function buildDebugHeader(fields: DebugHeaderFields): string {
  const rssKb = Math.round(process.memoryUsage.rss() / 1024);
  return (
    'http://bit.ly/NsU2nd#iisnode_ver=' +
    encodeURIComponent(fields.version) +
    '&node=' +
    encodeURIComponent(fields.nodeCommandLine) +
    '&dns=' +
    encodeURIComponent(HOST_NAME) +
    '&worker_pid=' +
    process.pid +
    '&node_pid=' +
    fields.nodePid +
    '&worker_mem_ws=' +
    rssKb +
    '&app_processes=' +
    fields.appProcesses +
    '&process_active_req=' +
    fields.processActiveRequests +
    '&app_active_req=' +
    fields.appActiveRequests +
    '&worker_total_req=' +
    fields.hostTotalRequests +
    '&np_retry=' +
    fields.retries +
    '&req_time=' +
    fields.requestMs +
    '&hresult=0'
  );
}

/** splitAbsoluteForm splits an absolute-form target (`http://host:port/p?q`) into its authority and origin-form; undefined for any other form. */
function splitAbsoluteForm(target: string): { authority: string; originForm: string } | undefined {
  if (target.charCodeAt(0) === 0x2f) return undefined;
  const scheme = /^https?:\/\//i.exec(target);
  if (scheme === null) return undefined;
  const start = scheme[0].length;
  let end = start;
  while (end < target.length && target[end] !== '/' && target[end] !== '?') end++;
  const rest = target.slice(end);
  const authority = target.slice(start, end);
  return { authority: authority.slice(authority.lastIndexOf('@') + 1), originForm: rest.charCodeAt(0) === 0x2f ? rest : '/' + rest };
}

/**
 * adaptHttp2 makes an HTTP/2 exchange (node's Http2ServerRequest/Response compat API) look
 * like the HTTP/1.1 one the pipeline and the iisnode forwarder are written for, so both paths
 * run the same modules and workers keep speaking HTTP/1.1:
 *
 * - request: the pseudo-headers leave `rawHeaders` (what is forwarded); `:authority` becomes
 *   `Host` when the client sent none; a body without `content-length` (HTTP/2 frames it by
 *   DATA frames and END_STREAM) is marked `Transfer-Encoding: chunked`, so the forwarder
 *   frames it to the worker;
 * - response: the connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2: Connection,
 *   Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, TE, HTTP2-Settings) are dropped
 *   wherever they are set (node throws on them), and the reason phrase, which HTTP/2 does not
 *   carry, is kept on the response without node's warning; `destroyed` follows the stream.
 *
 * It patches the two objects of one exchange (HTTP/2 is not the fast path: clarity first).
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { HttpResponse } from '../http/http-response.js';

const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);

type HeaderValue = number | string | readonly string[];

/** adaptHttp2 patches one HTTP/2 exchange in place and returns it as the pipeline's types. */
export function adaptHttp2(req: Http2ServerRequest, res: Http2ServerResponse): { req: IncomingMessage; res: HttpResponse } {
  const headers = req.headers;
  const raw = req.rawHeaders;
  const rawHeaders: string[] = [];
  let authority: string | undefined;
  let hasHost = false;
  let hasLength = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':authority') authority = raw[i + 1];
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'host') hasHost = true;
    else if (lower === 'content-length') hasLength = true;
    rawHeaders.push(name, raw[i + 1]!);
  }
  if (!hasHost && authority !== undefined) {
    rawHeaders.unshift('Host', authority);
    headers.host = authority;
  }
  if (!hasLength && !req.stream.endAfterHeaders) {
    rawHeaders.push('Transfer-Encoding', 'chunked');
    headers['transfer-encoding'] = 'chunked';
  }
  Object.defineProperty(req, 'rawHeaders', { value: rawHeaders, configurable: true });

  const target = res as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(res) as Http2ServerResponse;
  target.setHeader = function setHeader(this: Http2ServerResponse, name: string, value: HeaderValue) {
    return CONNECTION_HEADERS.has(name.toLowerCase()) ? this : proto.setHeader.call(this, name, value as string);
  };
  target.appendHeader = function appendHeader(this: Http2ServerResponse, name: string, value: string | readonly string[]) {
    return CONNECTION_HEADERS.has(name.toLowerCase()) ? this : proto.appendHeader.call(this, name, value as string[]);
  };
  target.writeHead = function writeHead(this: Http2ServerResponse, status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown) {
    let list = maybeHeaders;
    if (typeof reasonOrHeaders === 'string') target.statusMessage = reasonOrHeaders;
    // As node's own writeHead: (status, undefined, headers) is a head without a reason phrase.
    else list ??= reasonOrHeaders;
    if (Array.isArray(list)) {
      // A flat [name, value, ...] list (or [name, value] pairs), repeats kept.
      const flat = (list.length > 0 && Array.isArray(list[0]) ? list.flat() : list) as string[];
      for (let i = 0; i < flat.length; i += 2) (target.appendHeader as (n: string, v: string) => void).call(this, String(flat[i]), flat[i + 1]!);
      return (proto.writeHead as (this: Http2ServerResponse, code: number) => Http2ServerResponse).call(this, status);
    }
    if (list !== null && typeof list === 'object') {
      for (const [name, value] of Object.entries(list))
        if (value !== undefined) (target.setHeader as (n: string, v: HeaderValue) => void).call(this, name, value as HeaderValue);
    }
    return (proto.writeHead as (this: Http2ServerResponse, code: number) => Http2ServerResponse).call(this, status);
  };
  Object.defineProperty(res, 'statusMessage', { value: '', writable: true, configurable: true });
  Object.defineProperty(res, 'destroyed', { get: () => res.stream.destroyed, configurable: true });
  // Set by the pipeline before shutdown; an HTTP/2 session is closed by the listener instead.
  target.shouldKeepAlive = true;
  return { req: req as unknown as IncomingMessage, res: res as unknown as HttpResponse };
}

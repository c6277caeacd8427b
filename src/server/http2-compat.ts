/**
 * Http2Request and Http2Response make an HTTP/2 exchange (node's Http2ServerRequest/Response
 * compat API) look like the HTTP/1.1 one the pipeline and the iisnode forwarder are written
 * for, so both paths run the same modules and workers keep speaking HTTP/1.1. The listener
 * hands them to `createSecureServer` (its `Http2ServerRequest`/`Http2ServerResponse`
 * options), so node builds them for every stream: one fixed shape per class, no per-request
 * closures or property definitions (STYLE 11).
 *
 * - request: the pseudo-headers leave `rawHeaders` (what is forwarded); `:authority` becomes
 *   `Host` when the client sent none; a body without `content-length` (HTTP/2 frames it by
 *   DATA frames and END_STREAM) is marked `Transfer-Encoding: chunked`, so the forwarder
 *   frames it to the worker;
 * - response: the connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2: Connection,
 *   Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, TE, HTTP2-Settings) are dropped
 *   wherever they are set (node throws on them), and the reason phrase, which HTTP/2 does not
 *   carry, is kept on the response without node's warning; `destroyed` follows the stream.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader } from 'node:http';
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import type { ReadableOptions } from 'node:stream';
import type { HttpResponse } from '../http/http-response.js';
import { lazyRequire } from '../lazy-require.js';

const http2 = lazyRequire<typeof import('node:http2')>('node:http2');

const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);

/** Http2Request is an HTTP/2 request whose header list reads as an HTTP/1.1 one (see the file comment). */
export type Http2Request = InstanceType<Http2Classes['Http2Request']>;
/** Http2Response is an HTTP/2 response that takes the pipeline's HTTP/1.1 calls (see the file comment). */
export type Http2Response = InstanceType<Http2Classes['Http2Response']>;
/** Http2Classes are the two classes, for `createSecureServer`'s options and `instanceof`. */
export type Http2Classes = ReturnType<typeof defineClasses>;

let classes: Http2Classes | undefined;

/**
 * http2Compat returns the two classes, defined on the first call: they extend node:http2's,
 * which a host without an https binding never loads.
 */
export function http2Compat(): Http2Classes {
  classes ??= defineClasses();
  return classes;
}

const kReason = Symbol('nodehost.reason');

function defineClasses() {
  const { Http2ServerRequest, Http2ServerResponse } = http2();

  class Http2Request extends Http2ServerRequest {
    /** The stream's session, kept past the stream's end (node forgets it then), for the byte counters of /metrics. */
    readonly h2Session: Http2Session | undefined;
    /** How many header fields the client sent, pseudo-headers aside (rawHeaders may have gained Host and Transfer-Encoding). */
    readonly fieldCount: number;

    constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: ReadableOptions, raw: readonly string[]) {
      super(stream, headers, options, http1Headers(stream, headers, raw));
      this.h2Session = stream.session;
      // Pseudo-headers come first (RFC 9113 §8.3, which nghttp2 enforces).
      let pseudo = 0;
      while (pseudo < raw.length && raw[pseudo]!.charCodeAt(0) === 58 /* ':' */) pseudo += 2;
      this.fieldCount = (raw.length - pseudo) / 2;
    }
  }

  class Http2Response extends Http2ServerResponse<Http2Request> {
    /** Set by the pipeline before shutdown; an HTTP/2 session is closed by the listener instead. */
    shouldKeepAlive = true;
    [kReason] = '';

    override setHeader(name: string, value: number | string | readonly string[]): void {
      if (!CONNECTION_HEADERS.has(name.toLowerCase())) super.setHeader(name, value);
    }

    override appendHeader(name: string, value: string | string[]): void {
      if (!CONNECTION_HEADERS.has(name.toLowerCase())) super.appendHeader(name, value);
    }

    override writeHead(status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown): this {
      let list = maybeHeaders;
      if (typeof reasonOrHeaders === 'string') this[kReason] = reasonOrHeaders;
      // As node's own writeHead: (status, undefined, headers) is a head without a reason phrase.
      else list ??= reasonOrHeaders;
      if (Array.isArray(list)) {
        // A flat [name, value, ...] list (or [name, value] pairs), repeats kept.
        const flat = (list.length > 0 && Array.isArray(list[0]) ? list.flat() : list) as string[];
        for (let i = 0; i < flat.length; i += 2) this.appendHeader(String(flat[i]), flat[i + 1]!);
      } else if (list !== null && typeof list === 'object') {
        for (const [name, value] of Object.entries(list as Record<string, OutgoingHttpHeader | undefined>))
          if (value !== undefined) this.setHeader(name, value);
      }
      return super.writeHead(status);
    }
  }

  // Accessors over node's own (its statusMessage warns and reads ''; it has no `destroyed`),
  // defined once on the prototype: TypeScript cannot override a declared property with one.
  Object.defineProperties(Http2Response.prototype, {
    statusMessage: {
      get(this: Http2Response) {
        return this[kReason];
      },
      set(this: Http2Response, reason: string) {
        this[kReason] = reason;
      },
    },
    destroyed: {
      get(this: Http2Response) {
        return this.stream.destroyed;
      },
    },
  });

  return { Http2Request, Http2Response };
}

/**
 * http1Headers is the header list of an HTTP/2 request as HTTP/1.1 has it: no pseudo-headers,
 * `Host` from `:authority`, chunked framing for a body of unknown length (`headers` follows).
 */
function http1Headers(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: readonly string[]): string[] {
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
  if (!hasLength && !stream.endAfterHeaders) {
    rawHeaders.push('Transfer-Encoding', 'chunked');
    headers['transfer-encoding'] = 'chunked';
  }
  return rawHeaders;
}

/** asHttp1 gives an HTTP/2 exchange the pipeline's types (the classes above make them fit). */
export function asHttp1(req: Http2Request, res: Http2Response): { req: IncomingMessage; res: HttpResponse } {
  return { req: req as unknown as IncomingMessage, res: res as unknown as HttpResponse };
}

/**
 * The fast path's request-head reader. It accepts only the plain case, a complete HTTP/1.1
 * head of a request with no body or a body of one plain Content-Length, followed by nothing
 * but (part of) that body, and says `handoff` for everything else: chunked bodies, upgrades,
 * `Expect`, HTTP/1.0, pipelined bytes, unknown methods, odd bytes, oversized heads. Those connections go to node's own HTTP server, which answers the odd and
 * hostile cases (400, 431, request smuggling) with its full rules; this reader never answers.
 */

/** RequestHead is one accepted request head. */
export interface RequestHead {
  readonly method: string;
  /** The request target exactly as sent. */
  readonly url: string;
  /** Header names and values in order, as node's `rawHeaders` (values without surrounding blanks). */
  readonly rawHeaders: string[];
  /** The client asked to close the connection after this response (`Connection: close`). */
  readonly wantsClose: boolean;
  /** Bytes of the head, including the blank line: the body (if any) starts there. */
  readonly headLength: number;
  /** Content-Length of the body; 0 without one. */
  readonly bodyLength: number;
}

/** NEEDS_MORE: no complete head yet; HANDOFF: node's server must take the connection. */
export const NEEDS_MORE = 0;
export const HANDOFF = 1;

/** Largest head read here; a longer one is node's (its limit is 16 KiB as well, with a 431). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** More header lines than this go to node (whose maxHeadersCount is 2000). */
const MAX_HEADER_LINES = 200;

/** Methods read here; others (WebDAV, CONNECT, ...) go to node. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

/** A header name: an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A Content-Length read here: plain digits, at most 15 (anything else is node's to judge). */
const LENGTH = /^\d{1,15}$/;
/** A request target here: visible ASCII only (anything else is node's to judge). */
const TARGET = /^[\x21-\x7e]+$/;
/** A header value: visible characters, blanks and obs-text; no other control characters. */
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * readRequestHead reads the head at the start of `buf`: a RequestHead, NEEDS_MORE, or
 * HANDOFF. What follows the head in `buf` must be no more than its body.
 */
export function readRequestHead(buf: Buffer): RequestHead | typeof NEEDS_MORE | typeof HANDOFF {
  const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
  if (end === -1) return buf.length > MAX_HEAD_BYTES ? HANDOFF : NEEDS_MORE;
  if (end + 4 > MAX_HEAD_BYTES) return HANDOFF;
  const text = buf.toString('latin1', 0, end);
  const lineEnd = text.indexOf('\r\n');
  const requestLine = lineEnd === -1 ? text : text.slice(0, lineEnd);
  const firstSpace = requestLine.indexOf(' ');
  const lastSpace = requestLine.lastIndexOf(' ');
  if (firstSpace <= 0 || lastSpace === firstSpace) return HANDOFF;
  if (requestLine.length - lastSpace !== 9 || !requestLine.endsWith(' HTTP/1.1')) return HANDOFF;
  const method = requestLine.slice(0, firstSpace);
  const url = requestLine.slice(firstSpace + 1, lastSpace);
  if (!METHODS.has(method) || !TARGET.test(url)) return HANDOFF;

  const rawHeaders: string[] = [];
  let wantsClose = false;
  let hasHost = false;
  let bodyLength = -1;
  let at = lineEnd === -1 ? text.length : lineEnd + 2;
  while (at < text.length) {
    let next = text.indexOf('\r\n', at);
    if (next === -1) next = text.length;
    const colon = text.indexOf(':', at);
    if (colon === -1 || colon >= next) return HANDOFF;
    const name = text.slice(at, colon);
    // A bare CR or LF inside a line, obs-fold, or a blank before the colon: node's to judge.
    if (!TOKEN.test(name)) return HANDOFF;
    const value = text.slice(colon + 1, next).trim();
    if (BAD_VALUE.test(value)) return HANDOFF;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          if (hasHost) return HANDOFF;
          hasHost = true;
        }
        break;
      case 6:
        if (name.toLowerCase() === 'expect') return HANDOFF;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') return HANDOFF;
        break;
      case 10:
        if (name.toLowerCase() === 'connection' && hasToken(value, 'close')) wantsClose = true;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          // One plain length only: repeats, lists and signs are request-smuggling material.
          if (bodyLength !== -1 || !LENGTH.test(value)) return HANDOFF;
          bodyLength = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return HANDOFF;
        break;
    }
    rawHeaders.push(name, value);
    if (rawHeaders.length > MAX_HEADER_LINES * 2) return HANDOFF;
    at = next + 2;
  }
  // HTTP/1.1 requires Host; node answers its absence with 400.
  if (!hasHost) return HANDOFF;
  if (bodyLength === -1) bodyLength = 0;
  // Bytes past the body are a pipelined request: node's server reads those.
  if (buf.length - (end + 4) > bodyLength) return HANDOFF;
  return { method, url, rawHeaders, wantsClose, headLength: end + 4, bodyLength };
}

/** hasToken says whether a comma-separated header value lists `token` (case-insensitive). */
function hasToken(value: string, token: string): boolean {
  for (const part of value.split(',')) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

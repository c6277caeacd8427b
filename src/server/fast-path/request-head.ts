/**
 * The fast path's request-head reader. It accepts only the plain case, a complete HTTP/1.1
 * head of a request with no body or a body of one plain Content-Length, followed by nothing
 * but (part of) that body, and says `handoff` for everything else: chunked bodies, upgrades,
 * `Expect`, HTTP/1.0, pipelined bytes, unknown methods, odd bytes, oversized heads. Those
 * connections go to node's own HTTP server, which answers the odd and hostile cases (400, 431,
 * request smuggling) with its full rules. Two cases it names itself, because node would wait
 * for more bytes or give the wrong status: bytes that cannot start an HTTP/1.x request line
 * (binary garbage, HTTP/0.9, a TLS handshake: `BAD_REQUEST`, 400 at once) and a request line
 * longer than the head limit (`URI_TOO_LONG`, 414 as RFC 9112 §3 says, where node answers 431).
 * A third it names because node has no such answer: more header fields than the limit
 * (`TOO_MANY_HEADERS`, 431; node's maxHeadersCount drops the extra fields silently).
 */
import { equalsIgnoreAsciiCase } from '../../http/equals-ignore-ascii-case.js';
import { INVALID_FIELD_VALUE_CHAR, isHttpToken, isTokenCharCode } from '../../http/http-token.js';

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

/**
 * NEEDS_MORE: no complete head yet; HANDOFF: node's server must take the connection;
 * BAD_REQUEST, URI_TOO_LONG and TOO_MANY_HEADERS: answer 400, 414 or 431 and close.
 */
export const NEEDS_MORE = 0;
export const HANDOFF = 1;
export const BAD_REQUEST = 2;
export const URI_TOO_LONG = 3;
export const TOO_MANY_HEADERS = 4;
export type HeadVerdict = typeof NEEDS_MORE | typeof HANDOFF | typeof BAD_REQUEST | typeof URI_TOO_LONG | typeof TOO_MANY_HEADERS;

/** Largest head read here; a longer one is node's (its limit is 16 KiB as well, with a 431). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** Methods read here; others (WebDAV, CONNECT, ...) go to node. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

/** A Content-Length read here: plain digits, at most 15 (anything else is node's to judge). */
const LENGTH = /^\d{1,15}$/;
/** A request target here: visible ASCII only (anything else is node's to judge). */
const TARGET = /^[\x21-\x7e]+$/;

/**
 * readRequestHead reads the head at the start of `buf`: a RequestHead, or a verdict. A head
 * with more than `maxHeaderCount` header fields (0: no limit) is TOO_MANY_HEADERS as soon as
 * the field past the limit is read. What follows the head in `buf` must be no more than its body.
 */
export function readRequestHead(buf: Buffer, maxHeaderCount: number): RequestHead | HeadVerdict {
  const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
  if (end === -1) return incompleteHead(buf);
  if (end + 4 > MAX_HEAD_BYTES) return buf.indexOf('\r\n', 0, 'latin1') >= MAX_HEAD_BYTES ? URI_TOO_LONG : HANDOFF;
  const text = buf.toString('latin1', 0, end);
  const lineEnd = text.indexOf('\r\n');
  const requestLine = lineEnd === -1 ? text : text.slice(0, lineEnd);
  const firstSpace = requestLine.indexOf(' ');
  const lastSpace = requestLine.lastIndexOf(' ');
  if (firstSpace <= 0 || lastSpace === firstSpace) return startVerdict(buf);
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
    if (!isHttpToken(name)) return HANDOFF;
    const value = text.slice(colon + 1, next).trim();
    // Visible characters, blanks and obs-text only (the head is latin1: nothing above 0xff).
    if (INVALID_FIELD_VALUE_CHAR.test(value)) return HANDOFF;
    switch (name.length) {
      case 4:
        if (equalsIgnoreAsciiCase(name, 'host')) {
          if (hasHost) return HANDOFF;
          hasHost = true;
        }
        break;
      case 6:
        if (equalsIgnoreAsciiCase(name, 'expect')) return HANDOFF;
        break;
      case 7:
        if (equalsIgnoreAsciiCase(name, 'upgrade')) return HANDOFF;
        break;
      case 10:
        if (equalsIgnoreAsciiCase(name, 'connection') && hasToken(value, 'close')) wantsClose = true;
        break;
      case 14:
        if (equalsIgnoreAsciiCase(name, 'content-length')) {
          // One plain length only: repeats, lists and signs are request-smuggling material.
          if (bodyLength !== -1 || !LENGTH.test(value)) return HANDOFF;
          bodyLength = Number(value);
        }
        break;
      case 17:
        if (equalsIgnoreAsciiCase(name, 'transfer-encoding')) return HANDOFF;
        break;
    }
    rawHeaders.push(name, value);
    if (maxHeaderCount > 0 && rawHeaders.length > maxHeaderCount * 2) return TOO_MANY_HEADERS;
    at = next + 2;
  }
  // HTTP/1.1 requires Host; node answers its absence with 400.
  if (!hasHost) return HANDOFF;
  if (bodyLength === -1) bodyLength = 0;
  // Bytes past the body are a pipelined request: node's server reads those.
  if (buf.length - (end + 4) > bodyLength) return HANDOFF;
  return { method, url, rawHeaders, wantsClose, headLength: end + 4, bodyLength };
}

/**
 * incompleteHead judges the start of a head whose blank line has not come yet: more bytes are
 * worth waiting for only while they can still become a request. A bare LF (which node refuses
 * at once) goes to node; a request line past the head limit is 414, a longer head node's 431.
 */
function incompleteHead(buf: Buffer): HeadVerdict {
  const verdict = startVerdict(buf);
  if (verdict !== NEEDS_MORE) return verdict;
  const lineEnd = buf.indexOf('\r\n', 0, 'latin1');
  if (lineEnd === -1) return buf.length > MAX_HEAD_BYTES ? URI_TOO_LONG : NEEDS_MORE;
  if (buf.length > MAX_HEAD_BYTES) return HANDOFF;
  for (let at = buf.indexOf(0x0a, lineEnd + 2); at !== -1; at = buf.indexOf(0x0a, at + 1)) if (buf[at - 1] !== 0x0d) return HANDOFF;
  return NEEDS_MORE;
}

/** Request-line states of startVerdict. */
const IN_METHOD = 0;
const IN_TARGET = 1;
const IN_VERSION = 2;
/** What an HTTP/1.x version looks like, byte by byte (the digits are checked apart). */
const VERSION = 'HTTP/?.?';

/**
 * startVerdict reads the request line at the start of `buf` (complete or not): NEEDS_MORE when
 * it is, or can still become, `method SP target SP HTTP/d.d CRLF`; HANDOFF for a leading empty
 * line, which node skips (RFC 9112 §2.2); BAD_REQUEST for anything else.
 */
function startVerdict(buf: Buffer): HeadVerdict {
  const length = Math.min(buf.length, MAX_HEAD_BYTES);
  if (length > 0 && (buf[0] === 0x0d || buf[0] === 0x0a)) return HANDOFF;
  let state = IN_METHOD;
  let start = 0;
  for (let i = 0; i < length; i++) {
    const c = buf[i]!;
    if (state === IN_METHOD) {
      if (c === 0x20 && i > 0) {
        state = IN_TARGET;
        start = i + 1;
      } else if (!isTokenCharCode(c)) return BAD_REQUEST;
    } else if (state === IN_TARGET) {
      if (c === 0x20 && i > start) {
        state = IN_VERSION;
        start = i + 1;
      } else if (c <= 0x20 || c === 0x7f) return BAD_REQUEST;
    } else {
      const at = i - start;
      if (at === VERSION.length) return c === 0x0d && (i + 1 === length || buf[i + 1] === 0x0a) ? NEEDS_MORE : BAD_REQUEST;
      const expected = VERSION.charCodeAt(at);
      if (expected === 0x3f ? c < 0x30 || c > 0x39 : c !== expected) return BAD_REQUEST;
    }
  }
  return NEEDS_MORE;
}

/** hasToken says whether a comma-separated header value lists `token` (case-insensitive). */
function hasToken(value: string, token: string): boolean {
  for (const part of value.split(',')) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

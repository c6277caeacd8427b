/**
 * http-response.ts finds where one HTTP/1.1 response ends in the bytes read so far from a
 * raw keep-alive socket (bench/keep-alive-pool.ts), so the next request can be sent on it.
 * Only what the bench's apps and fronts send is understood: Content-Length or chunked bodies.
 */

/** ResponseEnd is a complete response at the start of the buffer. */
export interface ResponseEnd {
  readonly status: number;
  /** bytes is the response's whole length: head, body and (chunked) trailers. */
  readonly bytes: number;
  /** isClosing is true when the response says `Connection: close`. */
  readonly isClosing: boolean;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * responseEnd returns the first complete response in `buf`, or undefined while more bytes
 * are needed. It throws on a response it cannot delimit (no status line, no length).
 */
export function responseEnd(buf: Buffer): ResponseEnd | undefined {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd === -1) return undefined;
  const head = buf.subarray(0, headEnd).toString('latin1');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!statusLine) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(head.slice(0, 60))}`);
  const status = Number(statusLine[1]);
  const isClosing = /^connection:[ \t]*close[ \t]*$/im.test(head);
  const bodyStart = headEnd + HEAD_END.length;
  if (/^transfer-encoding:[ \t]*chunked[ \t]*$/im.test(head)) {
    const end = chunkedEnd(buf, bodyStart);
    return end === undefined ? undefined : { status, bytes: end, isClosing };
  }
  const length = /^content-length:[ \t]*(\d+)[ \t]*$/im.exec(head);
  // 204 and 304 have no body; anything else without a length would end only at close.
  if (!length) {
    if (status === 204 || status === 304) return { status, bytes: bodyStart, isClosing };
    throw new Error(`HTTP ${status} response without Content-Length or chunked encoding`);
  }
  const end = bodyStart + Number(length[1]);
  return buf.length >= end ? { status, bytes: end, isClosing } : undefined;
}

/** chunkedEnd returns the offset just past the last chunk and its trailers, or undefined. */
function chunkedEnd(buf: Buffer, from: number): number | undefined {
  let at = from;
  // Each pass consumes one chunk; a chunk is at least 3 bytes, so this ends.
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(buf.subarray(at, lineEnd).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size)) throw new Error(`bad chunk size line: ${JSON.stringify(buf.subarray(at, lineEnd).toString('latin1').slice(0, 40))}`);
    if (size === 0) {
      // Trailers, if any, end with an empty line.
      const trailersEnd = buf.indexOf(CRLF, lineEnd + 2);
      if (trailersEnd === -1) return undefined;
      if (trailersEnd === lineEnd + 2) return trailersEnd + 2;
      const end = buf.indexOf(HEAD_END, lineEnd + 2);
      return end === -1 ? undefined : end + HEAD_END.length;
    }
    at = lineEnd + 2 + size + 2;
    if (buf.length < at) return undefined;
  }
}

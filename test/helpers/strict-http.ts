/**
 * A strict HTTP/1.1 client for feature tests that read ordinary responses. It sends the
 * request with node's own `http` client, whose llhttp parser refuses what a tolerant reader
 * lets through (Content-Length together with Transfer-Encoding is HPE_INVALID_CONTENT_LENGTH,
 * or HPE_INVALID_TRANSFER_ENCODING when Content-Length comes first; a repeated Content-Length
 * is HPE_UNEXPECTED_CONTENT_LENGTH), and then asserts that the
 * response has exactly one framing: one Content-Length or `Transfer-Encoding: chunked`,
 * never both, never neither for a response that has a body, and none at all where HTTP has
 * no body to frame (1xx, 204; 304 without Transfer-Encoding). Raw sockets (raw-http.ts)
 * remain the tool for byte-level tests of malformed input.
 */
import { AssertionError } from 'node:assert';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Reply, RequestOptions } from './nodehost.js';

/** StrictReply is a fully read response that passed the framing checks. */
export interface StrictReply extends Reply {
  /** How the body was delimited: 'none' only where HTTP allows no framing (HEAD, 1xx, 204, 304). */
  readonly framing: 'content-length' | 'chunked' | 'none';
  /** Interim 1xx responses received before the final one, in order. */
  readonly interim: readonly { readonly status: number; readonly rawHeaders: readonly string[] }[];
}

export interface StrictRequestOptions extends RequestOptions {
  /** Accept a body delimited by the connection's close (no Content-Length, no chunking). Off by default. */
  allowCloseDelimited?: boolean;
  /** The client's source address (e.g. 127.0.0.2, to be another loopback client); the system's choice by default. */
  localAddress?: string;
}

/** The llhttp errors that mean a double or contradictory framing. */
const FRAMING_ERRORS: ReadonlySet<string> = new Set(['HPE_INVALID_CONTENT_LENGTH', 'HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING']);

/** How many bytes of the response are quoted in a failure message. */
const QUOTED_BYTES = 600;

/**
 * fetchStrict sends one request on a fresh connection (the target is sent exactly as given)
 * and reads the whole response. It rejects with an AssertionError naming the request and
 * quoting the start of the response as received when node's parser refuses the response or
 * when the framing checks fail; it rejects with the client's own error (ECONNRESET, socket
 * hang up) when the connection breaks.
 */
export function fetchStrict(base: string, target: string, options: StrictRequestOptions = {}): Promise<StrictReply> {
  const url = new URL(base);
  const method = options.method ?? 'GET';
  const what = `${method} ${target}`;
  return new Promise((resolve, reject) => {
    // A copy of the bytes as they arrived, for the failure message only.
    let received = Buffer.alloc(0);
    const interim: { status: number; rawHeaders: string[] }[] = [];
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method,
      path: target,
      headers: options.headers,
      agent: false,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    req.on('socket', (socket: Socket) => {
      // Before the client's own listener, whose parser reports an error while handling the chunk.
      socket.prependListener('data', (chunk: Buffer) => {
        if (received.length < QUOTED_BYTES) received = Buffer.concat([received, chunk]);
      });
    });
    req.on('information', (info) => interim.push({ status: info.statusCode, rawHeaders: info.rawHeaders }));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (typeof err.code === 'string' && err.code.startsWith('HPE_')) {
        const problem = FRAMING_ERRORS.has(err.code) ? "refused the response's framing" : 'refused the response';
        reject(new AssertionError({ message: `${what}: node's HTTP parser ${problem} (${err.code}: ${err.message})\n${quote(received)}` }));
      } else {
        reject(err);
      }
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(parts);
        const status = res.statusCode!;
        try {
          const framing = checkFraming(what, method, status, res.rawHeaders, body, options.allowCloseDelimited === true, received);
          resolve({ status, headers: res.headers as IncomingHttpHeaders, rawHeaders: res.rawHeaders, body, text: body.toString('utf8'), framing, interim });
        } catch (err) {
          reject(err);
        }
      });
    });
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/**
 * checkFraming asserts RFC 9112 6 on a parsed response: at most one Content-Length line and
 * one Transfer-Encoding line, never both; Transfer-Encoding only as `chunked`; no framing
 * header in 1xx and 204 (RFC 9110 8.6), no Transfer-Encoding in 304; a body-bearing response
 * framed by exactly one of them (unless close-delimited bodies are allowed), and a body as
 * long as its Content-Length says.
 */
function checkFraming(
  what: string,
  method: string,
  status: number,
  rawHeaders: readonly string[],
  body: Buffer,
  allowCloseDelimited: boolean,
  received: Buffer,
): StrictReply['framing'] {
  const lengths: string[] = [];
  const encodings: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === 'content-length') lengths.push(rawHeaders[i + 1]!);
    else if (name === 'transfer-encoding') encodings.push(rawHeaders[i + 1]!);
  }
  const fail = (problem: string): never => {
    throw new AssertionError({ message: `${what}: ${status} response ${problem}\n${quote(received)}` });
  };
  if (lengths.length > 0 && encodings.length > 0) fail(`has both Content-Length (${lengths.join(', ')}) and Transfer-Encoding (${encodings.join(', ')})`);
  if (lengths.length > 1) fail(`has ${lengths.length} Content-Length headers (${lengths.join(', ')})`);
  if (encodings.length > 1) fail(`has ${encodings.length} Transfer-Encoding headers (${encodings.join(', ')})`);
  if (encodings.length === 1 && encodings[0]!.trim().toLowerCase() !== 'chunked') fail(`has Transfer-Encoding '${encodings[0]}', not chunked`);
  if ((status < 200 || status === 204) && (lengths.length > 0 || encodings.length > 0)) fail('frames a body it must not have');
  if (status === 304 && encodings.length > 0) fail('is chunked although a 304 has no body');
  const framing = encodings.length === 1 ? 'chunked' : lengths.length === 1 ? 'content-length' : 'none';
  const hasNoBody = method === 'HEAD' || status < 200 || status === 204 || status === 304;
  if (hasNoBody) {
    if (body.length > 0) fail(`carries ${body.length} body bytes`);
    return framing;
  }
  if (framing === 'none' && !allowCloseDelimited) fail('has neither Content-Length nor Transfer-Encoding: chunked (its body ends with the connection)');
  if (framing === 'content-length' && Number(lengths[0]!.trim()) !== body.length) fail(`says Content-Length ${lengths[0]} and carried ${body.length} bytes`);
  return framing;
}

function quote(received: Buffer): string {
  const text = received.subarray(0, QUOTED_BYTES).toString('latin1').replace(/\r\n/g, '\\r\\n\n');
  return `response as received${received.length > QUOTED_BYTES ? ` (first ${QUOTED_BYTES} bytes)` : ''}:\n${text}`;
}

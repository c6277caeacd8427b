/**
 * HttpResponse is what the pipeline and its modules may use of a client response. Node's
 * `ServerResponse` has it (upgrade answers, connections node's server reads), and so has the
 * fast path's own lighter response (src/server/fast-path/fast-response.ts) for the plain
 * requests it reads itself. Keeping modules to this list is what lets both serve them.
 */
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';

export interface HttpResponse extends NodeJS.WritableStream {
  statusCode: number;
  statusMessage: string;
  /** False: the connection closes after this response (set before the head is written). */
  shouldKeepAlive: boolean;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  /** Bytes written and not yet taken by the kernel (queued by the socket or the response); undefined where the response cannot tell. */
  readonly writableLength?: number;
  setHeader(name: string, value: number | string | readonly string[]): this;
  appendHeader(name: string, value: string | readonly string[]): this;
  getHeader(name: string): number | string | string[] | undefined;
  getHeaderNames(): string[];
  hasHeader(name: string): boolean;
  removeHeader(name: string): void;
  writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  flushHeaders(): void;
  destroy(error?: Error): this;
  /**
   * onClosed, on responses that have it (the fast path's), calls `hook(arg)` once when the
   * response has closed (finished or cut off), before its 'close' listeners: no listener and no
   * closure per request. One hook per response; a second call replaces the first. Without it,
   * listen for 'close'.
   */
  onClosed?<T>(hook: (arg: T) => void, arg: T): void;
  end(cb?: () => void): this;
  end(chunk: string | Uint8Array | undefined, cb?: () => void): this;
  end(chunk: string | Uint8Array | undefined, encoding: BufferEncoding, cb?: () => void): this;
}

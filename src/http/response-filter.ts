/**
 * The response side of the module contract (DESIGN §1, STYLE 3): a response filter sees the
 * head of every response it asks for, may change its status and headers, and may transform
 * its body. The engine runs the filters in the one order it declares
 * (pipeline/builtin-modules.ts) and decides the framing once, after the last filter
 * (pipeline/response-chain.ts): a filter never sets Content-Length or Transfer-Encoding.
 */
import type { RequestContext } from './request-context.js';

/** ResponseFilter is one step of the response filter chain. */
export interface ResponseFilter {
  readonly id: string;
  /**
   * isHeadOnly: open never returns a body filter. When every filter that wants a response is
   * head-only, the engine only hooks the head (the body is written as the handler writes it),
   * which keeps such filters off the slow path.
   */
  readonly isHeadOnly?: boolean;
  /**
   * wants is a cheap test, run whenever the request's configuration is attached or changes,
   * and once more when handler mapping has chosen `ctx.handler` (before the 'execute' phase):
   * false for every request the filter cannot touch, so those responses keep the unfiltered
   * (zero-copy) path. It must not change anything.
   */
  wants(ctx: RequestContext): boolean;
  /**
   * open runs once per response, just before its head would be written, in chain order. It may
   * change `ctx.res.statusCode`, `statusMessage` and headers. It returns a body filter when it
   * will change the body, else undefined. `hasBody` is false for HEAD, 1xx, 204 and 304
   * responses: then a body filter is ignored.
   */
  open(ctx: RequestContext, hasBody: boolean): BodyFilter | undefined;
  /**
   * extendHeadList, on a head-only filter, stands in for open when the handler gives its whole
   * head to writeHead as a flat list (name, value, ...) on a response with no header set (a
   * cached static file's precomputed head): it returns the list to write instead, `list` itself
   * or a longer one, and changes nothing on the response. The head then goes out without being
   * copied onto the response header by header. The filter may keep a list it built and return
   * it again for the same `list`, status and configuration. A head-only filter without it is
   * opened as usual.
   */
  extendHeadList?(ctx: RequestContext, status: number, list: readonly string[]): readonly string[];
}

/**
 * BodyFilter transforms one response body. In 'buffer' mode it receives the whole body at
 * once (its length may change: the engine recomputes Content-Length). In 'stream' mode it sees
 * each piece as it is written (the engine drops Content-Length and the body goes chunked).
 * When any filter of a response buffers, every filter of that response sees the whole body.
 */
export type BodyFilter = BufferedBodyFilter | StreamingBodyFilter | ObservingBodyFilter;

/**
 * BufferedBodyFilter rewrites a whole body; a rejected promise sends the body unchanged. It may
 * instead give the response back to be answered anew (Reanswer), once the handler has ended it.
 */
export interface BufferedBodyFilter {
  readonly mode: 'buffer';
  body(whole: Buffer): Buffer | Promise<Buffer> | Reanswer;
}

/**
 * Reanswer is a buffered body filter's "answer this response from the start": the handler's
 * response (already ended, its body collected) is dropped with every header set on it, the
 * chain lets go of the response, and `answer` runs, writing a new response that the chain
 * filters afresh (an httpErrors ExecuteURL page, which runs through the pipeline again). Later
 * filters of the dropped response are not run.
 */
export interface Reanswer {
  readonly answer: () => void;
}

/** StreamingBodyFilter rewrites a body piece by piece, synchronously, in order. */
export interface StreamingBodyFilter {
  readonly mode: 'stream';
  /** write returns the bytes to pass on for one piece (possibly empty); a copy of what it keeps past the call (the writer may fill the piece's memory again). */
  write(chunk: Buffer): Buffer;
  /** end returns the bytes to send after the last piece (possibly empty). */
  end(): Buffer;
  /**
   * flush, when present, returns the bytes the filter holds back (possibly empty), so that what
   * was written so far can reach the client. The engine calls it when the writer pauses: once
   * per turn of the event loop in which pieces were written, after that turn's I/O (a
   * setImmediate), never after end. A filter that keeps nothing back leaves it out.
   */
  flush?(): Buffer;
}

/**
 * ObservingBodyFilter sees the body exactly as it goes out (after every filter that changes
 * it) and never changes it, so it leaves the framing alone: a Content-Length response keeps
 * its Content-Length. `end` is called only when the whole body was sent; a response cut off
 * before its end never calls it (the observer learns of it from the response's 'close').
 */
export interface ObservingBodyFilter {
  readonly mode: 'observe';
  /** write sees one piece as it is sent; a copy of what it keeps (the writer may reuse the piece's memory once the write returns). */
  write(chunk: Buffer): void;
  /** end runs once the last piece was handed on. */
  end(): void;
}

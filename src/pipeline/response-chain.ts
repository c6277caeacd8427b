/**
 * ResponseChain runs the response filters of a site (DESIGN §1, STYLE 3) and owns the
 * framing of every response they touch.
 *
 *   attach(ctx) ── no filter wants ctx ──▶ nothing installed: the response is unfiltered
 *        │
 *        ├─ only head-only filters want it ──▶ writeHead alone is hooked (HeadHook): node's
 *        │                                    response and the fast path's both write every
 *        │                                    head through writeHead, so the body path stays
 *        │                                    the handler's own
 *        └─ some filter wants it ──▶ writeHead / write / end / flushHeaders of ctx.res are
 *                                    taken over once, for this response only
 *   attach runs again when the URL changes (a rewrite, an ExecuteURL error page): a head hook
 *   is then upgraded to the full take-over when a body filter now wants the response.
 *   first writeHead / write / end / flushHeaders:
 *        open every wanting filter in chain order (each may change status and headers)
 *        ├─ no body filter        ──▶ head as it is, body passes through untouched
 *        │                             ('observe' filters see it; the framing stays as it is)
 *        ├─ all 'stream'          ──▶ Content-Length dropped, pieces transformed as written;
 *        │                           filters with flush() are flushed when the writer pauses
 *        └─ any 'buffer'          ──▶ body collected; at end every filter runs on the whole
 *                                    body, Transfer-Encoding dropped, Content-Length set; or a
 *                                    filter answers Reanswer: the response is given back
 *                                    (headers cleared, attach free to take it over again)
 *                                    and answered anew (an httpErrors ExecuteURL page)
 *
 * A replayed response (ctx.isReplayed: an output-cache hit, already filtered when it was
 * stored) opens no filter at all: its head goes out as the cache gives it, through a head hook
 * or a take-over alike.
 *
 * Framing is decided here and nowhere else, so a response never carries both
 * Content-Length and Transfer-Encoding (RFC 9112 §6.1).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { HttpResponse } from '../http/http-response.js';
import type { RequestContext } from '../http/request-context.js';
import type { BodyFilter, ObservingBodyFilter, Reanswer, ResponseFilter } from '../http/response-filter.js';

/** ResponseChain is the ordered list of a site's response filters. */
export class ResponseChain {
  readonly #filters: readonly ResponseFilter[];
  /**
   * Requests whose response is fully taken over: attach runs again after a rewrite. A head
   * hook is found on the response itself (HEAD_HOOK): the common case then costs no weak
   * table entry per request, which the garbage collector pays for.
   */
  readonly #attached = new WeakSet<RequestContext>();

  constructor(filters: readonly ResponseFilter[]) {
    this.#filters = filters;
  }

  /** attach takes over ctx.res when a filter wants this request; idempotent, and free when none does. */
  attach(ctx: RequestContext): void {
    if (this.#filters.length === 0 || ctx.res.headersSent || this.#attached.has(ctx)) return;
    const hook = (ctx.res as unknown as HookedResponse)[HEAD_HOOK];
    let isWanted = false;
    const filters = this.#filters;
    for (let i = 0; i < filters.length; i++) {
      const filter = filters[i]!;
      if (!filter.wants(ctx)) continue;
      isWanted = true;
      if (filter.isHeadOnly === true) continue;
      hook?.uninstall();
      this.#attached.add(ctx);
      new FilteredResponse(ctx, this.#filters, this.#release).install();
      return;
    }
    if (isWanted && hook === undefined) new HeadHook(ctx, this.#filters).install();
  }

  /** release forgets a response given back by a Reanswer, so attach takes it over afresh for its new answer. */
  readonly #release = (ctx: RequestContext): void => {
    this.#attached.delete(ctx);
  };
}

/** HEAD_HOOK holds a response's HeadHook, on the response itself. */
const HEAD_HOOK = Symbol('nodehost.headHook');

interface HookedResponse {
  [HEAD_HOOK]?: HeadHook | undefined;
}

/**
 * HeadHook runs head-only filters on one response: it replaces writeHead only, which both
 * node's ServerResponse (through _implicitHeader) and FastResponse call for every head,
 * explicit or implied by a first write or end. Headers given to writeHead are moved onto the
 * response first, so filters see them and what they add is kept beside them.
 */
class HeadHook {
  readonly #ctx: RequestContext;
  readonly #filters: readonly ResponseFilter[];
  readonly #writeHead: AnyMethod;
  #isOpen = false;

  constructor(ctx: RequestContext, filters: readonly ResponseFilter[]) {
    this.#ctx = ctx;
    this.#filters = filters;
    this.#writeHead = ctx.res.writeHead as AnyMethod;
  }

  install(): void {
    const res = this.#ctx.res as unknown as Record<string, unknown> & HookedResponse;
    // One shared function finds its hook on the response: no closure per request.
    res.writeHead = hookedWriteHead;
    res[HEAD_HOOK] = this;
  }

  uninstall(): void {
    const res = this.#ctx.res as unknown as Record<string, unknown> & HookedResponse;
    res.writeHead = this.#writeHead;
    res[HEAD_HOOK] = undefined;
  }

  writeHead(status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown): HttpResponse {
    const ctx = this.#ctx;
    const res = ctx.res;
    // A replayed response was filtered when it was stored: its head goes out as given.
    if (this.#isOpen || ctx.isReplayed) return this.#writeHead.call(res, status, reasonOrHeaders, maybeHeaders) as HttpResponse;
    this.#isOpen = true;
    let headers = maybeHeaders;
    if (typeof reasonOrHeaders === 'string') res.statusMessage = reasonOrHeaders;
    else headers = reasonOrHeaders;
    if (isFlatList(headers) && res.getHeaderNames().length === 0) {
      const list = this.#extendHeadList(status, headers);
      if (list !== undefined) return this.#writeHead.call(res, status, res.statusMessage || undefined, list) as HttpResponse;
    }
    moveHeadersOnto(res, headers);
    res.statusCode = status;
    const hasBody = responseHasBody(ctx);
    for (const filter of this.#filters) {
      if (filter.wants(ctx)) filter.open(ctx, hasBody);
    }
    return this.#writeHead.call(res, res.statusCode, res.statusMessage || undefined) as HttpResponse;
  }

  /** extendHeadList passes a flat head list through every wanting filter's extendHeadList; undefined when one of them has none. */
  #extendHeadList(status: number, given: readonly string[]): readonly string[] | undefined {
    const ctx = this.#ctx;
    for (const filter of this.#filters) {
      if (filter.extendHeadList === undefined && filter.wants(ctx)) return undefined;
    }
    let list = given;
    for (const filter of this.#filters) {
      if (filter.extendHeadList !== undefined && filter.wants(ctx)) list = filter.extendHeadList(ctx, status, list);
    }
    return list;
  }
}

/** hookedWriteHead is a hooked response's writeHead: its HeadHook's. */
function hookedWriteHead(this: HookedResponse, status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown): HttpResponse {
  return this[HEAD_HOOK]!.writeHead(status, reasonOrHeaders, maybeHeaders);
}

/** isFlatList tells a flat [name, value, ...] header list from the other shapes writeHead takes. */
function isFlatList(headers: unknown): headers is readonly string[] {
  return Array.isArray(headers) && typeof headers[0] === 'string';
}

// The originals are called with the arguments the caller gave, whatever overload that was.
type AnyMethod = (this: HttpResponse, ...args: unknown[]) => unknown;

/** FilteredResponse is the chain's hold on one response, from attach to end. */
class FilteredResponse {
  readonly #ctx: RequestContext;
  readonly #filters: readonly ResponseFilter[];
  readonly #writeHead: AnyMethod;
  readonly #write: AnyMethod;
  readonly #end: AnyMethod;
  readonly #flushHeaders: AnyMethod;
  #isOpen = false;
  #bodyFilters: BodyFilter[] = [];
  /** 'observe' filters: they see the body as sent, after the others, and never change the framing. */
  #observers: ObservingBodyFilter[] = [];
  #isBuffered = false;
  #chunks: Buffer[] = [];
  /** Some streaming filter holds bytes back (has flush); a flush is scheduled after writes. */
  #hasFlush = false;
  #isFlushScheduled = false;
  /**
   * True while the response's own end runs: HTTP/2's compat response ends with `this.write(chunk)`,
   * which must reach the original write, not be filtered (or collected, or observed) a second time.
   */
  #isEnding = false;

  readonly #release: (ctx: RequestContext) => void;

  constructor(ctx: RequestContext, filters: readonly ResponseFilter[], release: (ctx: RequestContext) => void) {
    this.#ctx = ctx;
    this.#filters = filters;
    this.#release = release;
    const res = ctx.res;
    this.#writeHead = res.writeHead as AnyMethod;
    this.#write = res.write as AnyMethod;
    this.#end = res.end as AnyMethod;
    this.#flushHeaders = res.flushHeaders as AnyMethod;
  }

  install(): void {
    const res = this.#ctx.res as unknown as Record<string, unknown>;
    res.writeHead = this.writeHead;
    res.write = this.write;
    res.end = this.end;
    res.flushHeaders = this.flushHeaders;
  }

  /** uninstall gives the response its own methods back (never once the chain is open). */
  uninstall(): void {
    const res = this.#ctx.res as unknown as Record<string, unknown>;
    res.writeHead = this.#writeHead;
    res.write = this.#write;
    res.end = this.#end;
    res.flushHeaders = this.#flushHeaders;
  }

  readonly writeHead = (status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown): HttpResponse => {
    const res = this.#ctx.res;
    // Node's own implicit head (from a later write, or from its end) comes back here once the
    // chain is open; a replayed head goes out as given (it opens no filter, see #open).
    if (this.#isEnding || this.#ctx.isReplayed || (this.#isOpen && !this.#isBuffered))
      return this.#writeHead.call(res, status, reasonOrHeaders, maybeHeaders) as HttpResponse;
    if (this.#isOpen) return res;
    let headers = maybeHeaders;
    if (typeof reasonOrHeaders === 'string') res.statusMessage = reasonOrHeaders;
    else headers = reasonOrHeaders;
    moveHeadersOnto(res, headers);
    res.statusCode = status;
    this.#open();
    return res;
  };

  readonly flushHeaders = (): void => {
    if (!this.#isOpen) this.#open();
    // A buffered body's head waits for its length.
    if (!this.#isBuffered) this.#flushHeaders.call(this.#ctx.res);
  };

  readonly write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const res = this.#ctx.res;
    if (this.#isEnding) return this.#write.call(res, chunk, encoding, callback) as boolean;
    if (!this.#isOpen) this.#open();
    if (this.#bodyFilters.length === 0) {
      if (this.#observers.length > 0) this.#observe(toBuffer(chunk, encoding));
      return this.#write.call(res, chunk, encoding, callback) as boolean;
    }
    const cb = typeof encoding === 'function' ? encoding : callback;
    const piece = toBuffer(chunk, encoding);
    if (this.#isBuffered) {
      // A copy of a writer's buffer: once its callback ran, the writer may fill it again (a
      // static file's read buffer, a worker connection's).
      if (piece !== undefined) this.#chunks.push(typeof chunk === 'string' ? piece : Buffer.from(piece));
      if (typeof cb === 'function') process.nextTick(cb as () => void);
      return true;
    }
    const out = piece === undefined ? EMPTY : this.#streamPiece(piece);
    this.#observe(out);
    if (this.#hasFlush && !this.#isFlushScheduled) {
      this.#isFlushScheduled = true;
      setImmediate(this.#flushHeld);
    }
    if (out.length === 0) {
      if (typeof cb === 'function') process.nextTick(cb as () => void);
      // Nothing went out, but the writer must still wait while the client is slow.
      return (res as { writableNeedDrain?: boolean }).writableNeedDrain !== true;
    }
    return this.#write.call(res, out, cb) as boolean;
  };

  readonly end = (chunk?: unknown, encoding?: unknown, callback?: unknown): HttpResponse => {
    const res = this.#ctx.res;
    if (!this.#isOpen) this.#open();
    if (this.#bodyFilters.length === 0) {
      if (this.#observers.length === 0) return this.#endOriginal(chunk, encoding, callback);
      if (typeof chunk !== 'function') this.#observe(toBuffer(chunk, encoding));
      this.#endOriginal(chunk, encoding, callback);
      this.#endObservers();
      return res;
    }
    const cb = typeof chunk === 'function' ? chunk : typeof encoding === 'function' ? encoding : callback;
    const piece = typeof chunk === 'function' ? undefined : toBuffer(chunk, encoding);
    if (!this.#isBuffered) {
      this.#hasFlush = false;
      const head = piece === undefined ? EMPTY : this.#streamPiece(piece);
      const tail = this.#streamEnd();
      const last = tail.length === 0 ? head : head.length === 0 ? tail : Buffer.concat([head, tail]);
      this.#observe(last);
      this.#endOriginal(last, cb);
      this.#endObservers();
      return res;
    }
    if (piece !== undefined) this.#chunks.push(piece);
    const whole = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#runBuffered(whole).then(
      (body) => (Buffer.isBuffer(body) ? this.#sendWhole(body, cb) : this.#reanswer(body, cb)),
      () => this.#sendWhole(whole, cb),
    );
    return res;
  };

  /** reanswer drops the handler's ended response and lets `reanswer` answer the request anew (see Reanswer). */
  #reanswer(reanswer: Reanswer, cb: unknown): void {
    const res = this.#ctx.res;
    // The handler is done with its response: its end callback runs, as if it had been sent.
    if (typeof cb === 'function') process.nextTick(cb as () => void);
    if (res.destroyed) return;
    this.#observers = [];
    this.uninstall();
    this.#release(this.#ctx);
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 200;
    res.statusMessage = '';
    reanswer.answer();
  }

  /** open asks every wanting filter in chain order, then fixes the framing; writes the head unless the body is buffered. */
  #open(): void {
    this.#isOpen = true;
    const ctx = this.#ctx;
    const res = ctx.res;
    // A replayed response was filtered when it was first sent; it goes out as stored.
    if (ctx.isReplayed) return;
    const hasBody = responseHasBody(ctx);
    for (const filter of this.#filters) {
      if (!filter.wants(ctx)) continue;
      const body = filter.open(ctx, hasBody);
      if (body === undefined || !hasBody) continue;
      if (body.mode === 'observe') this.#observers.push(body);
      else this.#bodyFilters.push(body);
    }
    if (this.#bodyFilters.length === 0) return;
    this.#isBuffered = this.#bodyFilters.some((filter) => filter.mode === 'buffer');
    if (this.#isBuffered) return;
    this.#hasFlush = this.#bodyFilters.some((filter) => filter.mode === 'stream' && filter.flush !== undefined);
    // A streamed body changes length as it goes: node frames it (chunked, or close for HTTP/1.0).
    res.removeHeader('content-length');
    this.#writeHead.call(res, res.statusCode, res.statusMessage || undefined);
  }

  async #runBuffered(whole: Buffer): Promise<Buffer | Reanswer> {
    let body = whole;
    for (const filter of this.#bodyFilters) {
      if (filter.mode === 'buffer') {
        const out = filter.body(body);
        if (!Buffer.isBuffer(out) && !(out instanceof Promise)) return out;
        body = await out;
      } else if (filter.mode === 'stream') {
        const out = filter.write(body);
        const tail = filter.end();
        body = tail.length === 0 ? out : Buffer.concat([out, tail]);
      }
    }
    return body;
  }

  #sendWhole(body: Buffer, cb: unknown): void {
    const res = this.#ctx.res;
    if (res.destroyed) return;
    res.removeHeader('transfer-encoding');
    res.setHeader('Content-Length', body.length);
    this.#writeHead.call(res, res.statusCode, res.statusMessage || undefined);
    this.#observe(body);
    this.#endOriginal(body, cb);
    this.#endObservers();
  }

  /** endOriginal calls the response's own end; what it writes itself goes out as it is (see #isEnding). */
  #endOriginal(...args: unknown[]): HttpResponse {
    this.#isEnding = true;
    try {
      return this.#end.call(this.#ctx.res, ...args) as HttpResponse;
    } finally {
      this.#isEnding = false;
    }
  }

  #observe(piece: Buffer | undefined): void {
    if (piece === undefined || piece.length === 0) return;
    for (const observer of this.#observers) observer.write(piece);
  }

  #endObservers(): void {
    const observers = this.#observers;
    this.#observers = [];
    for (const observer of observers) observer.end();
  }

  #streamPiece(piece: Buffer): Buffer {
    let out = piece;
    for (const filter of this.#bodyFilters) out = (filter as Extract<BodyFilter, { mode: 'stream' }>).write(out);
    return out;
  }

  /** Sends what the streaming filters hold back, once the writer paused (see StreamingBodyFilter.flush). */
  readonly #flushHeld = (): void => {
    this.#isFlushScheduled = false;
    const res = this.#ctx.res;
    if (!this.#hasFlush || res.writableEnded || res.destroyed) return;
    let carried = EMPTY;
    for (const filter of this.#bodyFilters as Extract<BodyFilter, { mode: 'stream' }>[]) {
      const through = carried.length === 0 ? EMPTY : filter.write(carried);
      const held = filter.flush === undefined ? EMPTY : filter.flush();
      carried = through.length === 0 ? held : held.length === 0 ? through : Buffer.concat([through, held]);
    }
    if (carried.length === 0) return;
    // What a flush releases is part of the body an observer (the output-cache store) keeps.
    this.#observe(carried);
    this.#write.call(res, carried);
  };

  /** Ends each streaming filter in order; what an earlier one flushes still passes through the later ones. */
  #streamEnd(): Buffer {
    let carried = EMPTY;
    for (const filter of this.#bodyFilters as Extract<BodyFilter, { mode: 'stream' }>[]) {
      const through = carried.length === 0 ? EMPTY : filter.write(carried);
      const tail = filter.end();
      carried = through.length === 0 ? tail : tail.length === 0 ? through : Buffer.concat([through, tail]);
    }
    return carried;
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

/** responseHasBody is false for HEAD requests and for 1xx, 204 and 304 responses (RFC 9110 §6.4.1). */
function responseHasBody(ctx: RequestContext): boolean {
  const status = ctx.res.statusCode;
  return ctx.req.method !== 'HEAD' && status !== 204 && status !== 304 && status >= 200;
}

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (chunk === undefined || chunk === null) return undefined;
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return Buffer.from((chunk as Uint8Array).buffer, (chunk as Uint8Array).byteOffset, (chunk as Uint8Array).byteLength);
}

/** moveHeadersOnto puts headers passed to writeHead on the response, so filters can read and change them; repeats stay repeated. */
function moveHeadersOnto(res: HttpResponse, headers: unknown): void {
  if (headers === undefined || headers === null) return;
  if (Array.isArray(headers)) {
    // Either [[name, value], ...] or a flat [name, value, name, value, ...] list.
    const flat = Array.isArray(headers[0]) ? (headers as string[][]).flat() : (headers as string[]);
    for (let i = 0; i < flat.length; i += 2) res.appendHeader(flat[i]!, flat[i + 1]!);
    return;
  }
  for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
    if (value !== undefined) res.setHeader(name, value);
  }
}

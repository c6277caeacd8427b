/**
 * The output cache (spec/rewrite.md §2.8, docs/output-cache.md): the 'resolve-cache' phase
 * module that answers from memory, and the response filter that stores what the handler sent.
 *
 *   resolve-cache (after handler mapping, before the handler)
 *     not GET/HEAD, Authorization, Range, no profile for the handler's file ──▶ continue
 *     a body, or an unkeyed header that may change the answer (OVERRIDE_HEADERS) ──▶ continue
 *     fresh entry                                   ──▶ answer it ('hit'), finish: node never sees it
 *     another request is fetching this key ──┬─ stale entry allowed ──▶ answer it ('stale')
 *                                            └─ wait for that response ──▶ answer it ('collapsed'),
 *                                               or, when it was not cacheable, continue to node
 *     else: this request fetches (a 'miss'; it carries a ticket to the response filter)
 *   response filter (last in the chain: it stores the response as the client got it)
 *     open: uncacheable head ──▶ waiters released at once (each goes to node)
 *     body observed as sent (the framing is left alone); at its end ──▶ stored, waiters answered
 *     response closed before its end ──▶ waiters released
 *
 * One cache per site; its memory budget is the site root's `maxCacheSize`. A configuration
 * reload empties it. Recycling a node application (its watched files changed) and changing a
 * file drop the CacheUntilChange entries that depend on it.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import os from 'node:os';
import path from 'node:path';
import type { CacheProfile, CachingConfig } from '../../config/types.js';
import { matchesEntityTag } from '../../http/entity-tag.js';
import { httpDate } from '../../http/http-date.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import type { CacheResult, RequestContext } from '../../http/request-context.js';
import type { BodyFilter, ResponseFilter } from '../../http/response-filter.js';
import type { SiteHandle } from '../../http/site-handle.js';
import { cacheKey, encodingKey } from './cache-key.js';
import { CacheStore, type CachedResponse } from './cache-store.js';
import { replayHead } from './replay-head.js';

/**
 * APPLICATION_RECYCLE_CHANNEL is the diagnostics channel on which a node application
 * announces a recycle (`{ scriptPath }`); the cache drops what depends on that script.
 */
export const APPLICATION_RECYCLE_CHANNEL = 'nodehost:application:recycle';

/** How long requests wait for a concurrent fetch of their key before going to node themselves (as nginx's proxy_cache_lock_timeout). */
export const COLLAPSE_TIMEOUT_MS = 5000;

/** How long an uncacheable answer (Set-Cookie, private, ...) lets requests of its key go to node without waiting for one another, at most. */
export const PASS_MS = 10_000;

/** DEFAULT_BUDGET_BYTES is the budget when maxCacheSize is 0: 256 MiB, or an eighth of the machine's memory when that is less. */
export const DEFAULT_BUDGET_BYTES = Math.min(256 * 1024 * 1024, Math.floor(os.totalmem() / 8));

/** budgetBytes turns maxCacheSize (MB, 0 = default) into the store's byte budget. */
export function budgetBytes(maxCacheSizeMB: number): number {
  return maxCacheSizeMB === 0 ? DEFAULT_BUDGET_BYTES : maxCacheSizeMB * 1024 * 1024;
}

/** Response headers a stored response never keeps: framing and hop-by-hop (recomputed when it is replayed) and the cache's own. */
const NOT_STORED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'content-length',
  'trailer',
  'upgrade',
  'age',
  'x-nodehost-cache',
]);

/** The ticket of each request the cache looked at, for the response filter. */
const tickets = new WeakMap<RequestContext, CacheTicket>();

/** OutputCache is one site's output cache; `module` is its 'resolve-cache' step. */
export class OutputCache {
  readonly module: PipelineModule;
  readonly #site: SiteHandle;
  #store: CacheStore | undefined = undefined;
  #configSeen: unknown = undefined;
  readonly #flights = new Map<string, Flight>();

  constructor(site: SiteHandle) {
    this.#site = site;
    this.module = { id: 'output-cache', phase: 'resolve-cache', handle: (ctx) => this.#lookup(ctx) };
    diagnosticsChannel.subscribe(APPLICATION_RECYCLE_CHANNEL, this.#onRecycle);
  }

  /** store is the current store (for tests and stats); undefined before the first cached request. */
  get store(): CacheStore | undefined {
    return this.#store;
  }

  /** close stops listening for recycles and drops everything. Idempotent. */
  close(): void {
    diagnosticsChannel.unsubscribe(APPLICATION_RECYCLE_CHANNEL, this.#onRecycle);
    this.#store?.close();
    this.#store = undefined;
  }

  readonly #onRecycle = (message: unknown): void => {
    const scriptPath = (message as { scriptPath?: unknown } | null)?.scriptPath;
    if (typeof scriptPath === 'string') this.#store?.invalidate(scriptPath);
  };

  #lookup(ctx: RequestContext): Outcome | Promise<Outcome> {
    const caching = ctx.config?.caching;
    if (caching === undefined || !caching.isActive) return 'continue';
    const method = ctx.req.method;
    if ((method !== 'GET' && method !== 'HEAD') || ctx.upgrade !== undefined) return 'continue';
    const file = ctx.handler === 'iisnode' ? ctx.scriptPath : ctx.handler === 'static' ? ctx.physicalPath : '';
    if (file === '') return 'continue';
    const profile = profileFor(caching, file);
    if (profile === undefined) return 'continue';
    const headers = ctx.req.headers;
    // A request with credentials may get a response for that user only; a range is a part;
    // input the key does not hold may shape the answer (cache poisoning), so it bypasses.
    if (!cachesOnServer(profile) || headers.authorization !== undefined || headers.range !== undefined || hasUnkeyedInput(ctx, profile)) {
      tickets.set(ctx, new CacheTicket(profile, caching));
      return 'continue';
    }
    const store = this.#storeFor();
    const key = cacheKey(ctx, profile);
    const now = Date.now();
    const entry = store.get(key);
    ctx.cacheResult = 'miss';
    if (entry !== undefined) {
      if (now < entry.expiresAt) {
        if (entry.isPass) {
          tickets.set(ctx, new CacheTicket(profile, caching));
          return 'continue';
        }
        replay(ctx, entry, 'hit', now);
        return 'finish';
      }
      if (now >= entry.staleUntil) store.delete(key);
    }
    const flight = this.#flights.get(key);
    if (flight !== undefined) {
      if (entry !== undefined && !entry.isPass && now < entry.staleUntil) {
        replay(ctx, entry, 'stale', now);
        return 'finish';
      }
      return flight.wait().then((answer) => this.#afterWait(ctx, profile, caching, answer));
    }
    // A HEAD response has no body to store: it goes to node without holding anyone up.
    if (method === 'HEAD') {
      tickets.set(ctx, new CacheTicket(profile, caching));
      return 'continue';
    }
    const fetch = new Flight(() => {
      if (this.#flights.get(key) === fetch) this.#flights.delete(key);
    });
    this.#flights.set(key, fetch);
    const ticket = new CacheTicket(profile, caching, { store, key, flight: fetch, changes: store.changes, dependsOn: dependencies(ctx, profile) });
    tickets.set(ctx, ticket);
    // A response that never reaches its end (client gone, handler failed) releases the waiters.
    ctx.res.once('close', ticket.onClose);
    return 'continue';
  }

  #afterWait(ctx: RequestContext, profile: CacheProfile, caching: CachingConfig, answer: CachedResponse | undefined): Outcome {
    if (answer !== undefined) {
      replay(ctx, answer, 'collapsed', Date.now());
      return 'finish';
    }
    tickets.set(ctx, new CacheTicket(profile, caching));
    return 'continue';
  }

  /** storeFor returns the store, emptied when the site's configuration was reloaded, rebuilt when its budget changed. */
  #storeFor(): CacheStore {
    const config = this.#site.config;
    if (config !== this.#configSeen || this.#store === undefined) {
      this.#configSeen = config;
      const budget = budgetBytes(config.forPath('/').caching?.maxCacheSizeMB ?? 0);
      if (this.#store === undefined || this.#store.maxBytes !== budget) {
        this.#store?.close();
        this.#store = new CacheStore(budget);
      } else {
        this.#store.clear();
      }
    }
    return this.#store;
  }
}

/**
 * profileFor picks the profile of a handler file: the one for its extension (`.js` for a
 * node application's entry script), else the `*` profile.
 */
export function profileFor(caching: CachingConfig, file: string): CacheProfile | undefined {
  // A site's cached requests mostly name one script: its answer is kept.
  if (caching === lastCaching && file === lastFile) return lastProfile;
  const base = path.basename(file);
  const dot = base.lastIndexOf('.');
  const extension = dot <= 0 ? '.' : base.slice(dot).toLowerCase();
  lastCaching = caching;
  lastFile = file;
  lastProfile = caching.profiles.get(extension) ?? caching.profiles.get('*');
  return lastProfile;
}

/** The last question profileFor answered, and its answer. */
let lastCaching: CachingConfig | undefined;
let lastFile = '';
let lastProfile: CacheProfile | undefined;

/**
 * OVERRIDE_HEADERS are request headers that frameworks trust to build links (host, scheme,
 * port, prefix), to route (the URL IIS's rewrite module or a proxy set) or to pick the method.
 * The key holds none of them, so an answer made for one must not reach clients that did not
 * send it, nor should such a request get an answer made without it.
 */
const OVERRIDE_HEADERS = [
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-host',
  'x-original-host',
  'forwarded',
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
] as const;

/**
 * hasUnkeyedInput tells whether a request carries input that may change its answer but is
 * not in its key: a body (a GET with one is odd, and frameworks read `_method` from it), or
 * one of OVERRIDE_HEADERS that the profile's varyByHeaders does not name. A trusted
 * balancer's X-Forwarded-Proto is keyed (it is ctx.isHttps).
 */
function hasUnkeyedInput(ctx: RequestContext, profile: CacheProfile): boolean {
  const headers = ctx.req.headers;
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) return true;
  for (const name of OVERRIDE_HEADERS) {
    if (headers[name] === undefined || profile.varyByHeaders.includes(name)) continue;
    if (name === 'x-forwarded-proto' && ctx.isFromTrustedProxy) continue;
    return true;
  }
  return false;
}

/** cachesOnServer: the profile stores responses in nodehost's memory (location Any, Server or ServerAndClient). */
function cachesOnServer(profile: CacheProfile): boolean {
  if (profile.policy !== 'CacheForTimePeriod' && profile.policy !== 'CacheUntilChange') return false;
  return profile.location === 'Any' || profile.location === 'Server' || profile.location === 'ServerAndClient';
}

/** The Cache-Control a profile gives a 200 response that has none (spec §2.8: location; DisableCache tells clients not to cache). */
function cacheControlFor(profile: CacheProfile): string | undefined {
  if (profile.policy === 'DisableCache') return 'no-cache';
  if (profile.policy === 'DontCache') return undefined;
  switch (profile.location) {
    case 'Any':
    case 'Downstream':
      return 'public';
    case 'Client':
    case 'ServerAndClient':
      return 'private';
    case 'None':
      return 'no-cache';
    default:
      return undefined;
  }
}

/** The files a CacheUntilChange entry depends on: the static file, or the application's entry script. */
function dependencies(ctx: RequestContext, profile: CacheProfile): readonly string[] {
  if (profile.policy !== 'CacheUntilChange') return [];
  return [ctx.handler === 'iisnode' ? ctx.scriptPath : ctx.physicalPath];
}

/**
 * replay answers a request with a stored response: its head as stored (its original Date),
 * `Age` in whole seconds since it was stored (RFC 9111 §5.1), a Content-Length, and the body
 * unless the request is HEAD. The chain passes it through untouched (ctx.isReplayed). The head
 * is one precomputed list (replay-head.ts) unless a module already set a header on the response.
 */
function replay(ctx: RequestContext, entry: CachedResponse, result: CacheResult, now: number): void {
  ctx.isReplayed = true;
  ctx.cacheResult = result;
  const isNotModified = isNotModifiedSince(ctx, entry);
  const status = isNotModified ? 304 : 200;
  ctx.status = status;
  ctx.substatus = 0;
  const res = ctx.res;
  const age = Math.max(0, Math.floor((now - entry.storedAt) / 1000));
  const debug = ctx.config?.iisnode.debugHeaderEnabled === true ? result : undefined;
  const list = replayHead(entry, isNotModified, age, debug);
  if (res.getHeaderNames().length === 0) res.writeHead(status, list as string[]);
  else setReplayHeaders(res, status, list);
  if (isNotModified || ctx.req.method === 'HEAD') res.end();
  else res.end(entry.body);
}

/** setReplayHeaders puts a replay head on a response that already has headers, one by one, beside them. */
function setReplayHeaders(res: RequestContext['res'], status: number, list: readonly string[]): void {
  res.statusCode = status;
  for (let i = 0; i < list.length; i += 2) {
    if (res.hasHeader(list[i]!)) res.appendHeader(list[i]!, list[i + 1]!);
    else res.setHeader(list[i]!, list[i + 1]!);
  }
}

/**
 * isNotModifiedSince evaluates If-None-Match (weak comparison) or, without it, If-Modified-Since
 * against a stored response's ETag and Last-Modified (RFC 9110 13.1.2, 13.1.3, 13.2.2); a
 * response without the validator never matches, and an unparseable date is ignored.
 */
function isNotModifiedSince(ctx: RequestContext, entry: CachedResponse): boolean {
  const headers = ctx.req.headers;
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const etag = storedHeader(entry, 'etag');
    if (ifNoneMatch.trim() === '*') return true;
    return etag !== undefined && matchesEntityTag(ifNoneMatch, etag.startsWith('W/') ? etag.slice(2) : etag, false);
  }
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  const lastModified = Date.parse(storedHeader(entry, 'last-modified') ?? '');
  return !Number.isNaN(since) && !Number.isNaN(lastModified) && lastModified <= since;
}

/** storedHeader is the first value of a stored response's header (its name in lower case). */
function storedHeader(entry: CachedResponse, name: string): string | undefined {
  const headers = entry.headers;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

/**
 * uncacheable tells why a response must not be stored, from its head; undefined when it may
 * be. `isPass` reasons come from what the response is (they hold for the next ones too),
 * not from a passing failure such as a 500.
 */
function uncacheable(ctx: RequestContext, caching: CachingConfig, profile: CacheProfile): { isPass: boolean } | undefined {
  const res = ctx.res;
  if (res.statusCode !== 200) return { isPass: false };
  if (res.hasHeader('set-cookie')) return PASS;
  const cacheControl = headerText(res.getHeader('cache-control')).toLowerCase();
  if (/(?:^|[\s,])(?:private|no-store|no-cache)(?:$|[\s,=])/.test(cacheControl)) return PASS;
  const vary = headerText(res.getHeader('vary')).toLowerCase();
  if (vary !== '') {
    for (const token of vary.split(',')) {
      const name = token.trim();
      // The key holds the host, the accepted codings and the profile's headers; any other Vary would mix variants.
      if (name !== '' && name !== 'accept-encoding' && name !== 'host' && !profile.varyByHeaders.includes(name)) return PASS;
    }
  }
  // A coding the request did not accept as nodehost reads it (an app that reads `gzip;q=0` as
  // yes) would reach every client of the key, some of which cannot decode it.
  if (!isAcceptedCoding(headerText(res.getHeader('content-encoding')), ctx.req.headers['accept-encoding'])) return { isPass: false };
  if (headerText(res.getHeader('content-type')).toLowerCase().startsWith('text/event-stream')) return PASS;
  const length = Number(headerText(res.getHeader('content-length')) || NaN);
  if (caching.maxResponseSize > 0 && length > caching.maxResponseSize) return PASS;
  return undefined;
}

const PASS = { isPass: true } as const;

/** isAcceptedCoding: every coding of a response's Content-Encoding is one the request's key accepts (encodingKey), or identity. */
function isAcceptedCoding(contentEncoding: string, acceptEncoding: string | string[] | undefined): boolean {
  if (contentEncoding === '') return true;
  const accepted = encodingKey(acceptEncoding).split(',');
  for (const token of contentEncoding.toLowerCase().split(',')) {
    const coding = token.trim();
    if (coding === '' || coding === 'identity') continue;
    if (!accepted.includes(coding === 'x-gzip' ? 'gzip' : coding)) return false;
  }
  return true;
}

function headerText(value: number | string | string[] | undefined): string {
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** Flight is one fetch of a key that other requests may wait for; settled once, with the response or without. */
class Flight {
  readonly #onSettled: () => void;
  readonly #promise: Promise<CachedResponse | undefined>;
  #resolve: (answer: CachedResponse | undefined) => void = () => undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  #isSettled = false;

  constructor(onSettled: () => void) {
    this.#onSettled = onSettled;
    this.#promise = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** wait resolves with the fetched response, or undefined when it is not cacheable or takes longer than COLLAPSE_TIMEOUT_MS. */
  wait(): Promise<CachedResponse | undefined> {
    if (this.#timer === undefined && !this.#isSettled) {
      this.#timer = setTimeout(() => this.settle(undefined), COLLAPSE_TIMEOUT_MS);
      this.#timer.unref();
    }
    return this.#promise;
  }

  settle(answer: CachedResponse | undefined): void {
    if (this.#isSettled) return;
    this.#isSettled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#onSettled();
    this.#resolve(answer);
  }
}

/** What a fetching request needs to store its response. */
interface FetchState {
  readonly store: CacheStore;
  readonly key: string;
  readonly flight: Flight;
  /** store.changes when the fetch began: an invalidation since then means the response may be out of date. */
  readonly changes: number;
  readonly dependsOn: readonly string[];
}

/**
 * CacheTicket is the cache's note on one request for the response filter: the profile (its
 * Cache-Control, the debug header) and, for the request that fetches a key, how to store it.
 */
class CacheTicket {
  readonly #profile: CacheProfile;
  readonly #caching: CachingConfig;
  readonly #fetch: FetchState | undefined;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #headers: string[] = [];
  #isDone = false;

  constructor(profile: CacheProfile, caching: CachingConfig, fetch?: FetchState) {
    this.#profile = profile;
    this.#caching = caching;
    this.#fetch = fetch;
  }

  /** open runs when the head goes out; it returns the observer of a body that is being stored. */
  open(ctx: RequestContext, hasBody: boolean): BodyFilter | undefined {
    const res = ctx.res;
    const reason = this.#fetch === undefined ? undefined : uncacheable(ctx, this.#caching, this.#profile);
    if (res.statusCode === 200 && !res.hasHeader('cache-control')) {
      const cacheControl = cacheControlFor(this.#profile);
      if (cacheControl !== undefined) res.setHeader('Cache-Control', cacheControl);
    }
    let observer: BodyFilter | undefined;
    if (this.#fetch !== undefined) {
      if (reason !== undefined || !hasBody) this.#release(reason?.isPass === true);
      else {
        this.#headers = storedHeaders(res);
        observer = { mode: 'observe', write: (chunk) => this.#collect(chunk), end: () => this.#finish() };
      }
    }
    if (ctx.config?.iisnode.debugHeaderEnabled === true && ctx.cacheResult !== '') res.setHeader('x-nodehost-cache', ctx.cacheResult);
    return observer;
  }

  readonly onClose = (): void => {
    this.#release(false);
  };

  #collect(chunk: Buffer): void {
    if (this.#isDone) return;
    this.#bytes += chunk.length;
    // Without maxResponseSize, the cache's budget still bounds what one response may hold.
    const limit = this.#caching.maxResponseSize > 0 ? Math.min(this.#caching.maxResponseSize, this.#fetch!.store.maxBytes) : this.#fetch!.store.maxBytes;
    if (this.#bytes > limit) {
      this.#release(true);
      return;
    }
    // A copy: the writer may reuse its buffer once write returns.
    this.#chunks.push(Buffer.from(chunk));
  }

  #finish(): void {
    const fetch = this.#fetch;
    if (this.#isDone || fetch === undefined) return;
    this.#isDone = true;
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [];
    const now = Date.now();
    const profile = this.#profile;
    const expiresAt = profile.policy === 'CacheUntilChange' ? Infinity : now + profile.durationMs;
    const entry: CachedResponse = {
      headers: this.#headers,
      body,
      storedAt: now,
      expiresAt,
      staleUntil: expiresAt + profile.staleMs,
      dependsOn: fetch.dependsOn,
      isPass: false,
    };
    if (fetch.store.changes === fetch.changes) fetch.store.set(fetch.key, entry);
    fetch.flight.settle(entry);
  }

  /** release lets the waiters go to node; `isPass` also remembers, for a while, not to make the next ones wait. */
  #release(isPass: boolean): void {
    const fetch = this.#fetch;
    if (this.#isDone || fetch === undefined) return;
    this.#isDone = true;
    this.#chunks = [];
    if (isPass) {
      const now = Date.now();
      const span = this.#profile.policy === 'CacheForTimePeriod' ? Math.min(this.#profile.durationMs, PASS_MS) : PASS_MS;
      fetch.store.set(fetch.key, { headers: [], body: EMPTY, storedAt: now, expiresAt: now + span, staleUntil: now + span, dependsOn: [], isPass: true });
    }
    fetch.flight.settle(undefined);
  }
}

const EMPTY = Buffer.alloc(0);

/** storedHeaders is the head to replay: every header but framing, hop-by-hop and the cache's own, with a Date. */
function storedHeaders(res: RequestContext['res']): string[] {
  const out: string[] = [];
  let hasDate = false;
  for (const name of res.getHeaderNames()) {
    if (NOT_STORED.has(name)) continue;
    if (name === 'date') hasDate = true;
    const value = res.getHeader(name);
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const one of value) out.push(name, one);
    else out.push(name, String(value));
  }
  // The response's own Date is the time it was made; node adds it when the head is written.
  if (!hasDate) out.push('date', httpDate());
  return out;
}

/** outputCacheStore is the output cache's response filter (last in the chain, so it stores what the client got). */
export const outputCacheStore = {
  id: 'output-cache-store',
  // Only requests the cache looked at and let through have a ticket: a hit, answered before
  // the handler, keeps the unfiltered path (the engine asks again before the 'execute' phase).
  wants: (ctx: RequestContext): boolean => ctx.config?.caching?.isActive === true && tickets.has(ctx),
  open: (ctx: RequestContext, hasBody: boolean): BodyFilter | undefined => tickets.get(ctx)?.open(ctx, hasBody),
} as const satisfies ResponseFilter;

/**
 * replayHead gives the head a stored response is replayed with, as one frozen list (name,
 * value, ...): the stored headers (for a 304 without those describing the body, RFC 9110
 * 15.4.5), Age, the debug header when it is on, and Content-Length unless it is a 304. The
 * fast path keeps the bytes a frozen list renders to (server/fast-path/prepared-head.ts), so a
 * hit goes out as bytes built before, like a static file from memory. Age changes once a
 * second, so a list is built once per entry, kind (200 or 304), Age and debug value, not per
 * request.
 */
import type { CacheResult } from '../../http/request-context.js';
import type { CachedResponse } from './cache-store.js';

/** NOT_IN_304 are the stored headers a 304 answer leaves out: they describe the body, which a 304 does not send. */
const NOT_IN_304: ReadonlySet<string> = new Set(['content-type', 'content-encoding', 'content-language', 'content-range', 'accept-ranges']);

/** KeptHead is the last list built for one kind of answer of an entry, with what it was built for. */
class KeptHead {
  age = -1;
  debug: CacheResult | undefined = undefined;
  list: readonly string[] = [];
}

/** The two kinds of answer of an entry: a full one (HEAD uses it too) and a 304. */
class ReplayHeads {
  readonly full = new KeptHead();
  readonly notModified = new KeptHead();
}

/** The lists of each stored entry; they go with it. */
const heads = new WeakMap<CachedResponse, ReplayHeads>();

/** replayHead returns the list for `entry` as a 200 (or a 304 when `isNotModified`) of that Age; `debug` is the x-nodehost-cache value, when it is on. */
export function replayHead(entry: CachedResponse, isNotModified: boolean, age: number, debug: CacheResult | undefined): readonly string[] {
  let kept = heads.get(entry);
  if (kept === undefined) {
    kept = new ReplayHeads();
    heads.set(entry, kept);
  }
  const head = isNotModified ? kept.notModified : kept.full;
  if (head.age !== age || head.debug !== debug) {
    head.list = buildList(entry, isNotModified, age, debug);
    head.age = age;
    head.debug = debug;
  }
  return head.list;
}

/**
 * buildList renders the list in the order the headers would be set one by one: a name
 * stored more than once stays where it first came (storedHeaders keeps repeats together),
 * and repeated Cookie values are joined with '; ', as node writes a Cookie array.
 */
function buildList(entry: CachedResponse, isNotModified: boolean, age: number, debug: CacheResult | undefined): readonly string[] {
  const out: string[] = [];
  const stored = entry.headers;
  for (let i = 0; i < stored.length; i += 2) {
    const name = stored[i]!;
    if (isNotModified && NOT_IN_304.has(name)) continue;
    if (name === 'cookie' && out.length > 0 && out[out.length - 2] === 'cookie') out[out.length - 1] += '; ' + stored[i + 1]!;
    else out.push(name, stored[i + 1]!);
  }
  out.push('Age', String(age));
  if (debug !== undefined) out.push('x-nodehost-cache', debug);
  if (!isNotModified) out.push('Content-Length', String(entry.body.length));
  return Object.freeze(out);
}

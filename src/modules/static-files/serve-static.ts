/**
 * The static file handler (IIS's StaticFileModule): GET and HEAD of a regular file whose
 * extension has a mimeMap entry, with ETag, Last-Modified, conditional requests and single
 * byte ranges.
 */
import type { ClientCacheConfig } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';
import { fail } from '../../http/error-outcome.js';
import { parseByteRange } from './byte-range.js';
import { checkPreconditions, isRangeCurrent } from './preconditions.js';
import { openFileBody, sendFileBody } from './send-file-body.js';
import { statStaticFile, type StaticFile } from './static-file.js';
import { isLinkAllowed } from './symlink-policy.js';
import { fileCache, type CachedFile } from './file-cache.js';
import { isNeverServed } from './never-served.js';
import { addVaryAcceptEncoding } from '../compression/compression-headers.js';
import { compressionTotals } from '../compression/compression-totals.js';
import { staticCoding, staticVariants, type StaticVariant } from '../compression/static-compression.js';

const NO_MIME_MAP: ReadonlyMap<string, string> = new Map();

/**
 * serveStatic answers the request with the file at ctx.physicalPath and resolves when the
 * response is complete (or was cut short). It never throws for expected failures; it answers
 * them: 404.0 for a URL with a segment it never serves (isNeverServed: node_modules, web.config,
 * iisnode.yml, dot-files), whatever the method and whether or not the file exists; 405 for
 * methods other than GET and HEAD (with `Allow`), 404.0 for a missing file or anything that
 * is not a regular file, 404.3 for an unmapped extension, 412/304 for
 * conditional requests, 416 for an unsatisfiable range. Directories are resolved by the
 * engine (resolveDirectory) before this runs. ctx.status and ctx.substatus are set for the
 * access log. Small files are answered from the in-memory FileCache (file-cache.ts); larger
 * ones are streamed from disk. A file whose type staticTypes lists may be answered with an
 * encoded variant (compression/static-compression.ts) and then carries `Vary: Accept-Encoding`.
 */
export function serveStatic(ctx: RequestContext): Promise<void> {
  // Checked on the final URL, after URL Rewrite and the default document: no rule, location
  // or hiddenSegments <remove> makes these files public. It answers as for a missing file.
  if (isNeverServed(ctx.path)) {
    ctx.sendError(fail('NH_ERR_STATIC_NOT_FOUND'));
    return ANSWERED;
  }
  const method = ctx.req.method;
  if (method !== 'GET' && method !== 'HEAD') {
    ctx.res.setHeader('Allow', 'GET, HEAD');
    ctx.sendError(fail('NH_ERR_STATIC_METHOD'));
    return ANSWERED;
  }
  // `/file.txt/` names a folder that does not exist, even if the engine's path mapping dropped the slash.
  if (ctx.path.endsWith('/')) {
    ctx.sendError(fail('NH_ERR_STATIC_NOT_FOUND'));
    return ANSWERED;
  }
  const mimeMap = ctx.config?.mimeMap ?? NO_MIME_MAP;
  // Fast path: a small hot file answered from memory, without touching the disk.
  const cached = fileCache.lookup(ctx.physicalPath, mimeMap, Date.now());
  if (cached !== undefined) {
    const coding = staticCoding(ctx, cached.file);
    if (coding === undefined) sendFromMemory(ctx, cached, cached.headers200, cached.headers304, false);
    else if (coding === 'identity') sendFromMemory(ctx, cached, cached.headers200Vary, cached.headers304Vary, true);
    else return serveEncoded(ctx, cached.file, coding, cached, mimeMap);
    return ANSWERED;
  }
  return serveFromDisk(ctx, mimeMap);
}

/**
 * serveEncoded answers with the `coding` variant of `file`: from memory when it is known,
 * after a sibling check or a compression otherwise; as it is (with Vary) when no variant can
 * be made.
 */
async function serveEncoded(
  ctx: RequestContext,
  file: StaticFile,
  coding: Exclude<ReturnType<typeof staticCoding>, undefined | 'identity'>,
  cached: CachedFile | undefined,
  mimeMap: ReadonlyMap<string, string>,
): Promise<void> {
  const variant = staticVariants.lookup(file, coding, Date.now()) ?? (await staticVariants.load(file, coding, cached?.body));
  if (variant === undefined) {
    if (cached !== undefined) sendFromMemory(ctx, cached, cached.headers200Vary, cached.headers304Vary, true);
    else await serveFromDisk(ctx, mimeMap, file);
    return;
  }
  if (variant.body !== undefined) sendFromMemory(ctx, variant as StaticVariant & { body: Buffer }, variant.headers200, variant.headers304, true);
  else await streamFromDisk(ctx, variant.file, variant.encoding);
  if (ctx.res.statusCode === 200 && ctx.req.method !== 'HEAD') {
    const totals = compressionTotals[variant.encoding];
    totals.identityBytes += file.size;
    totals.encodedBytes += variant.file.size;
  }
}

/** ANSWERED is what serveStatic returns when it answered synchronously (from memory, or a refusal): callers may skip awaiting it. */
export const ANSWERED: Promise<void> = Promise.resolve();

/** folderOf is the folder the request's file is served from: the site root, or the folder of the application or virtual directory holding it (the longest). */
function folderOf(ctx: RequestContext): string {
  let folder = ctx.siteRoot;
  for (const mount of ctx.sitePaths?.mounts ?? []) {
    if (mount.dir.length > folder.length && ctx.physicalPath.startsWith(mount.dir.endsWith('/') ? mount.dir : `${mount.dir}/`)) folder = mount.dir;
  }
  return folder;
}

/** serveFromDisk stats the file (unless `known`, already decided identity) and answers from the file cache or the disk. */
async function serveFromDisk(ctx: RequestContext, mimeMap: ReadonlyMap<string, string>, known?: StaticFile): Promise<void> {
  let file: StaticFile;
  let isVaried = known !== undefined;
  if (known === undefined) {
    const found = (await isLinkAllowed(folderOf(ctx), ctx.physicalPath, ctx.followSymlinks))
      ? await statStaticFile(ctx.physicalPath, mimeMap)
      : 'NH_ERR_STATIC_NOT_FOUND';
    if (typeof found === 'string') {
      ctx.sendError(fail(found));
      return;
    }
    file = found;
    const coding = staticCoding(ctx, file);
    if (coding !== undefined && coding !== 'identity') return serveEncoded(ctx, file, coding, fileCache.revalidated(file, mimeMap, Date.now()), mimeMap);
    isVaried = coding === 'identity';
  } else {
    file = known;
  }
  let cached = fileCache.revalidated(file, mimeMap, Date.now());
  if (cached === undefined && ctx.req.method === 'GET' && fileCache.isCacheable(file.size)) cached = await fileCache.load(file, mimeMap);
  if (cached !== undefined) {
    if (isVaried) sendFromMemory(ctx, cached, cached.headers200Vary, cached.headers304Vary, true);
    else sendFromMemory(ctx, cached, cached.headers200, cached.headers304, false);
    return;
  }
  if (isVaried) addVaryAcceptEncoding(ctx.res);
  return streamFromDisk(ctx, file, undefined);
}

/** streamFromDisk answers from the file at `file.path`: 304/412/416 decisions, then the span streamed; `encoding` names a precompressed sibling's coding. */
async function streamFromDisk(ctx: RequestContext, file: StaticFile, encoding: string | undefined): Promise<void> {
  if (encoding !== undefined) addVaryAcceptEncoding(ctx.res);
  const span = chooseSpan(ctx, file);
  if (span === undefined) return;
  const { status, start, end } = span;
  if (ctx.req.method === 'HEAD' || end < start) {
    if (encoding !== undefined) ctx.res.setHeader('Content-Encoding', encoding);
    writeFileHead(ctx, file, status, start, end);
    ctx.res.end();
    return;
  }
  const handle = await openFileBody(file.path);
  if (typeof handle === 'string') {
    ctx.sendError(fail(handle));
    return;
  }
  // Set only now: an error page answered above is not encoded.
  if (encoding !== undefined) ctx.res.setHeader('Content-Encoding', encoding);
  writeFileHead(ctx, file, status, start, end);
  await sendFileBody(ctx, handle, start, end);
}

/** InMemory is a body held in memory with its validators: a cached file or an encoded variant. */
interface InMemory {
  readonly file: StaticFile;
  readonly body: Buffer;
  readonly encoding: string | undefined;
}

/**
 * sendFromMemory answers from a body in memory: a plain GET or HEAD gets the precomputed head
 * `head200` and body in one write, a revalidation that finds the file unchanged the
 * precomputed `head304`; range and other conditional requests take the same decisions as from
 * disk (against the variant's own ETag). `isVaried` adds `Vary: Accept-Encoding` there.
 */
function sendFromMemory(ctx: RequestContext, cached: InMemory, head200: readonly string[], head304: readonly string[], isVaried: boolean): void {
  const req = ctx.req;
  const res = ctx.res;
  const headers = req.headers;
  const isHead = req.method === 'HEAD';
  if (
    headers.range === undefined &&
    headers['if-none-match'] === undefined &&
    headers['if-modified-since'] === undefined &&
    headers['if-match'] === undefined &&
    headers['if-unmodified-since'] === undefined
  ) {
    ctx.status = 200;
    ctx.substatus = 0;
    writeHeadList(ctx, 200, head200);
    if (isHead) res.end();
    else res.end(cached.body);
    return;
  }
  const file = cached.file;
  // A header set by a module keeps the step-by-step answer below (Vary is merged there).
  if (headers.range === undefined && res.getHeaderNames().length === 0 && checkPreconditions(req, file) === 'not-modified') {
    ctx.status = 304;
    ctx.substatus = 0;
    writeHeadList(ctx, 304, head304);
    res.end();
    return;
  }
  if (isVaried) addVaryAcceptEncoding(res);
  const span = chooseSpan(ctx, file);
  if (span === undefined) return;
  // Only the variant's own bytes are encoded: a 304, 412 or 416 answered above is not.
  if (cached.encoding !== undefined) res.setHeader('Content-Encoding', cached.encoding);
  const { status, start, end } = span;
  writeFileHead(ctx, file, status, start, end);
  if (isHead || end < start) res.end();
  else res.end(start === 0 && end === file.size - 1 ? cached.body : cached.body.subarray(start, end + 1));
}

/**
 * chooseSpan evaluates the conditional headers and the Range header against `file`: it
 * answers 412, 304 or 416 itself (returning undefined), or returns the status and byte span
 * to send.
 */
function chooseSpan(ctx: RequestContext, file: StaticFile): { status: number; start: number; end: number } | undefined {
  const req = ctx.req;
  const res = ctx.res;
  const preconditions = checkPreconditions(req, file);
  if (preconditions === 'failed') {
    ctx.sendError(fail('NH_ERR_STATIC_PRECONDITION'));
    return undefined;
  }
  if (preconditions === 'not-modified') {
    sendNotModified(ctx, file);
    return undefined;
  }

  let status = 200;
  let start = 0;
  let end = file.size - 1;
  const range = req.headers.range;
  // Only GET has range semantics; a server must ignore Range on HEAD (RFC 9110 14.2).
  if (req.method === 'GET' && range !== undefined && isRangeCurrent(req, file)) {
    const byteRange = parseByteRange(range, file.size);
    if (byteRange.kind === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${file.size}`);
      ctx.sendError(fail('NH_ERR_STATIC_RANGE'));
      return undefined;
    }
    if (byteRange.kind === 'single') {
      status = 206;
      start = byteRange.start;
      end = byteRange.end;
    }
  }
  return { status, start, end };
}

/**
 * writeFileHead sets the status and headers of a 200 or 206 answer for bytes `start`..`end`
 * of `file` (end < start for an empty body); the head goes out with the first body write.
 */
function writeFileHead(ctx: RequestContext, file: StaticFile, status: number, start: number, end: number): void {
  const res = ctx.res;
  ctx.status = status;
  ctx.substatus = 0;
  res.statusCode = status;
  res.setHeader('Content-Type', file.contentType);
  res.setHeader('Content-Length', end < start ? 0 : end - start + 1);
  res.setHeader('Last-Modified', file.lastModified);
  res.setHeader('ETag', file.etag);
  res.setHeader('Accept-Ranges', 'bytes');
  if (status === 206) res.setHeader('Content-Range', `bytes ${start}-${end}/${file.size}`);
  setClientCacheHeaders(ctx);
}

/**
 * writeHeadList writes a precomputed head: as one list when no module set a header (with
 * clientCache's headers appended, the list built once per head and configuration), so the
 * fast path sends the bytes it keeps for it; else header by header over what was set.
 */
function writeHeadList(ctx: RequestContext, status: number, list: readonly string[]): void {
  const res = ctx.res;
  const clientCache = ctx.config?.clientCache;
  if (res.getHeaderNames().length === 0) {
    res.writeHead(status, (clientCache === undefined ? list : withClientCache(list, clientCache)) as string[]);
    return;
  }
  for (let i = 0; i < list.length; i += 2) res.setHeader(list[i]!, list[i + 1]!);
  setClientCacheHeaders(ctx);
  res.statusCode = status;
}

/** Precomputed heads with one clientCache's headers appended, by the head they extend (it lives as long as its cached file). */
const clientCacheHeads = new WeakMap<readonly string[], { readonly clientCache: ClientCacheConfig; readonly list: readonly string[] }>();

/** withClientCache is `list` followed by clientCache's headers, frozen; the same list for the same head and configuration. */
function withClientCache(list: readonly string[], clientCache: ClientCacheConfig): readonly string[] {
  const known = clientCacheHeads.get(list);
  if (known !== undefined && known.clientCache === clientCache) return known.list;
  const extended = Object.freeze([...list, ...clientCache.headers.flat()]);
  clientCacheHeads.set(list, { clientCache, list: extended });
  return extended;
}

/**
 * setClientCacheHeaders adds staticContent/clientCache's headers (Cache-Control, Expires),
 * computed once per configuration level (config/client-cache-config.ts). 200, 206 and 304
 * answers get them: a 304 must carry the Cache-Control and Expires a 200 would (RFC 9110 15.4.5).
 */
function setClientCacheHeaders(ctx: RequestContext): void {
  const clientCache = ctx.config?.clientCache;
  if (clientCache === undefined) return;
  for (const [name, value] of clientCache.headers) ctx.res.setHeader(name, value);
}

/**
 * sendNotModified answers 304 with the validators only: RFC 9110 15.4.5 asks for no other
 * representation metadata (Last-Modified is kept because it guides cache updates).
 */
function sendNotModified(ctx: RequestContext, file: StaticFile): void {
  const res = ctx.res;
  ctx.status = 304;
  ctx.substatus = 0;
  res.statusCode = 304;
  res.setHeader('ETag', file.etag);
  res.setHeader('Last-Modified', file.lastModified);
  setClientCacheHeaders(ctx);
  res.end();
}

/**
 * Static compression (IIS's StaticCompressionModule, spec/rewrite.md §2.7) for the static file
 * handler: which coding a request for a file gets, and the encoded variant's bytes.
 *
 * A variant is, in order of preference:
 * 1. a precompressed sibling written by the site's build (`app.js.br`, `app.js.gz`, as nginx's
 *    gzip_static and Caddy's `precompressed` serve them), used as it is when it is at least as
 *    new as the file; an older sibling is stale and ignored;
 * 2. the file compressed by nodehost, once per (path, size, mtime, coding), off the event loop
 *    (brotli quality 11, gzip and deflate level 9), kept in a least-recently-used cache within a
 *    byte budget. The first request for a variant waits for its compression, and requests
 *    arriving meanwhile share it; for large bundles, shipping precompressed siblings avoids
 *    that wait (a 1 MiB script takes about a second at brotli 11).
 *
 * Which sibling exists is remembered for SIBLING_RECHECK_MS, so a compressed hit costs no
 * system call; the file's own changes are seen at once, since its size and mtime are the key.
 */
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { LRUCache } from 'lru-cache';
import type { CompressionConfig, CompressionScheme } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';
import { StaticFile } from '../static-files/static-file.js';
import { negotiateCoding } from './accept-encoding.js';
import { isRequestExcluded, variantEtag } from './compression-headers.js';

/** The largest file nodehost compresses itself; larger ones go out as they are (a sibling of any size is served). */
export const MAX_STATIC_COMPRESS_BYTES = 8 * 1024 * 1024;
/** The byte budget of the variant cache. */
export const STATIC_VARIANT_CACHE_BYTES = 64 * 1024 * 1024;
/** How long what is known of a precompressed sibling is trusted without a stat. */
export const SIBLING_RECHECK_MS = 2000;

/** StaticVariant is one encoded variant of a file; fixed shape, like the file cache's entries. */
export class StaticVariant {
  /** The variant as the static handler serves it: encoded size, variant ETag, the file's type and Last-Modified; `path` is what to read when `body` is undefined. */
  readonly file: StaticFile;
  /** The encoded bytes; undefined for a sibling too large to keep, streamed from `file.path`. */
  readonly body: Buffer | undefined;
  readonly encoding: CompressionScheme;
  /** The head of a full 200 answer, and of a 304 (Vary first, where addVaryAcceptEncoding puts it). */
  readonly headers200: readonly string[];
  readonly headers304: readonly string[];

  constructor(file: StaticFile, body: Buffer | undefined, encoding: CompressionScheme) {
    this.file = file;
    this.body = body;
    this.encoding = encoding;
    // Frozen, as the file cache's heads: the fast path keeps what it renders to.
    this.headers200 = Object.freeze([...file.head200(), 'Content-Encoding', encoding, 'Vary', 'Accept-Encoding']);
    this.headers304 = Object.freeze(['Vary', 'Accept-Encoding', ...file.head304()]);
  }
}

/**
 * staticCoding decides compression for one request of `file`: undefined when the file is not
 * eligible (compression off here, type not in staticTypes, smaller than minFileSizeForComp,
 * larger than MAX_STATIC_COMPRESS_BYTES: the response then does not vary), else the coding to
 * send, which is 'identity' when the request or its Accept-Encoding rules compression out (the
 * response still carries `Vary: Accept-Encoding`).
 */
export function staticCoding(ctx: RequestContext, file: StaticFile): CompressionScheme | 'identity' | undefined {
  const config: CompressionConfig | undefined = ctx.config?.compression;
  if (config === undefined || !config.doStaticCompression || config.schemes.length === 0) return undefined;
  if (file.size < config.minFileSizeForComp || file.size > MAX_STATIC_COMPRESS_BYTES || !config.staticTypes.isEnabled(file.contentType)) return undefined;
  if (isRequestExcluded(ctx.req, config)) return 'identity';
  return negotiateCoding(ctx.req.headers['accept-encoding'], config.schemes);
}

const SIBLING_SUFFIX: Readonly<Record<CompressionScheme, string | undefined>> = { br: '.br', gzip: '.gz', deflate: undefined };

/** What a stat of a sibling found: its size and mtime, or null when there is none (or it is not a file). */
interface SiblingStat {
  readonly size: number;
  readonly mtimeMs: number;
}

interface SiblingEntry {
  readonly stat: SiblingStat | null;
  readonly checkedAt: number;
}

const ENCODE: Readonly<Record<CompressionScheme, (body: Buffer, size: number) => Promise<Buffer>>> = {
  br: (body, size) =>
    promisify(zlib.brotliCompress)(body, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      },
    }),
  gzip: (body) => promisify(zlib.gzip)(body, { level: 9 }),
  deflate: (body) => promisify(zlib.deflate)(body, { level: 9 }),
};

/** StaticVariants holds the encoded variants of static files (see the file comment). */
export class StaticVariants {
  readonly #variants: LRUCache<string, StaticVariant>;
  readonly #siblings = new Map<string, SiblingEntry>();
  readonly #pending = new Map<string, Promise<StaticVariant | undefined>>();

  constructor(maxBytes: number = STATIC_VARIANT_CACHE_BYTES) {
    this.#variants = new LRUCache<string, StaticVariant>({
      maxSize: maxBytes,
      maxEntrySize: maxBytes,
      // A streamed sibling keeps no bytes; it still counts, so the entry count stays bounded.
      sizeCalculation: (variant) => Math.max(1, variant.body?.length ?? 0),
    });
  }

  /** size and bytes describe the cache now (for tests and stats). */
  get size(): number {
    return this.#variants.size;
  }

  get bytes(): number {
    return this.#variants.calculatedSize;
  }

  /** lookup returns the variant when it is known without any I/O, else undefined (call load). */
  lookup(file: StaticFile, coding: CompressionScheme, now: number): StaticVariant | undefined {
    const sibling = this.#freshSibling(file, coding, now);
    if (sibling === undefined) return undefined;
    return this.#variants.get(variantKey(file, coding, sibling));
  }

  /**
   * load finds or makes the variant: checks the sibling, then compresses the file (`body` is
   * its content when the caller holds it). Resolves undefined when the file cannot be read or
   * changed while it was read; the caller then sends it as it is. Never rejects.
   */
  async load(file: StaticFile, coding: CompressionScheme, body: Buffer | undefined): Promise<StaticVariant | undefined> {
    const sibling = this.#freshSibling(file, coding, Date.now()) ?? (await this.#statSibling(file, coding));
    const key = variantKey(file, coding, sibling);
    const known = this.#variants.get(key);
    if (known !== undefined) return known;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#make(file, coding, sibling, body).then(
        (variant) => {
          this.#pending.delete(key);
          if (variant !== undefined) this.#variants.set(key, variant);
          return variant;
        },
        () => {
          this.#pending.delete(key);
          return undefined;
        },
      );
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** clear forgets every variant and sibling (tests). */
  clear(): void {
    this.#variants.clear();
    this.#siblings.clear();
  }

  async #make(file: StaticFile, coding: CompressionScheme, sibling: SiblingStat | null, body: Buffer | undefined): Promise<StaticVariant | undefined> {
    if (sibling !== null && isUsableSibling(file, sibling)) {
      const path = file.path + SIBLING_SUFFIX[coding]!;
      const own = new StaticFile(path, sibling.size, sibling.mtimeMs, file.contentType);
      // Validators: the sibling's own tag (it may be rebuilt alone), the file's Last-Modified.
      const served = new StaticFile(path, sibling.size, file.mtimeMs, file.contentType, variantEtag(own.etag, coding));
      if (sibling.size > MAX_STATIC_COMPRESS_BYTES) return new StaticVariant(served, undefined, coding);
      const bytes = await readFile(path);
      if (bytes.length !== sibling.size) return undefined;
      return new StaticVariant(served, bytes, coding);
    }
    const plain = body ?? (await readFile(file.path));
    if (plain.length !== file.size) return undefined;
    const encoded = await ENCODE[coding](plain, plain.length);
    const served = new StaticFile(file.path, encoded.length, file.mtimeMs, file.contentType, variantEtag(file.etag, coding));
    return new StaticVariant(served, encoded, coding);
  }

  /** The sibling's stat when it was checked recently: null for none, undefined when it must be checked. */
  #freshSibling(file: StaticFile, coding: CompressionScheme, now: number): SiblingStat | null | undefined {
    const suffix = SIBLING_SUFFIX[coding];
    if (suffix === undefined) return null;
    const entry = this.#siblings.get(file.path + suffix);
    if (entry === undefined || now - entry.checkedAt >= SIBLING_RECHECK_MS) return undefined;
    return entry.stat;
  }

  async #statSibling(file: StaticFile, coding: CompressionScheme): Promise<SiblingStat | null> {
    const suffix = SIBLING_SUFFIX[coding];
    if (suffix === undefined) return null;
    const path = file.path + suffix;
    let found: SiblingStat | null = null;
    try {
      const stats = await stat(path);
      if (stats.isFile()) found = { size: stats.size, mtimeMs: stats.mtimeMs };
    } catch {
      found = null;
    }
    // Paths are those of served files: bounded by the site, but forget them all past a limit anyway.
    if (this.#siblings.size >= 10_000) this.#siblings.clear();
    this.#siblings.set(path, { stat: found, checkedAt: Date.now() });
    return found;
  }
}

/** A sibling is used when it is at least as new as the file it encodes; an older one is stale. */
function isUsableSibling(file: StaticFile, sibling: SiblingStat): boolean {
  return sibling.mtimeMs >= file.mtimeMs;
}

function variantKey(file: StaticFile, coding: CompressionScheme, sibling: SiblingStat | null): string {
  const base = `${coding}\0${file.path}\0${file.size}\0${file.mtimeMs}`;
  return sibling !== null && isUsableSibling(file, sibling) ? `${base}\0${sibling.size}\0${sibling.mtimeMs}` : base;
}

/** staticVariants is the process-wide variant cache the static file handler uses. */
export const staticVariants = new StaticVariants();

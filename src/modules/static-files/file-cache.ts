/**
 * FileCache keeps small hot static files in memory, the way IIS's kernel cache and nginx's
 * open_file_cache do: the StaticFile (validators, content type), the whole body, and the
 * response head of a plain 200 ready to send. Bounded by entry count and total bytes (the
 * oldest entry goes first); only files up to `maxFileBytes` are kept.
 *
 * Invalidation: each entry watches its file (inotify through fs.watch), so a change, a
 * rename or a delete drops the entry at once; and an entry is revalidated with a stat at
 * most every `revalidateMs` (more often when the watch could not be set up, e.g. on some
 * network file systems), so a missed event costs at most that long.
 */
import fs, { type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { StaticFile } from './static-file.js';

const EMPTY = Buffer.alloc(0);

/** FileCacheOptions bounds the cache. */
export interface FileCacheOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxFileBytes: number;
  /** Longest time an entry is used without a stat, when its file is watched. */
  readonly revalidateMs: number;
  /** The same when the watch could not be set up. */
  readonly unwatchedRevalidateMs: number;
}

/** CachedFile is one cached file; fixed shape. `headers200` is the head of a full 200 answer, `headers304` of a 304. */
export class CachedFile {
  readonly file: StaticFile;
  /** The whole file; set once, when it has been read. */
  body: Buffer = EMPTY;
  readonly headers200: readonly string[];
  /** The same head with `Vary: Accept-Encoding`, for a type compression could encode, sent as it is. */
  readonly headers200Vary: readonly string[];
  readonly headers304: readonly string[];
  /** The 304 head with `Vary: Accept-Encoding` first, where addVaryAcceptEncoding puts it. */
  readonly headers304Vary: readonly string[];
  /** The content coding of the body: none, the file's own bytes. */
  readonly encoding: undefined = undefined;
  readonly mimeMap: ReadonlyMap<string, string>;
  /** Date.now() of the last check against the file system. */
  checkedAt: number;
  watcher: FSWatcher | undefined = undefined;
  isValid = true;

  constructor(file: StaticFile, mimeMap: ReadonlyMap<string, string>, checkedAt: number) {
    this.file = file;
    this.mimeMap = mimeMap;
    this.checkedAt = checkedAt;
    // Frozen: the fast path keeps the bytes a frozen head renders to (prepared-head.ts).
    this.headers200 = Object.freeze(file.head200());
    this.headers200Vary = Object.freeze([...this.headers200, 'Vary', 'Accept-Encoding']);
    this.headers304 = Object.freeze(file.head304());
    this.headers304Vary = Object.freeze(['Vary', 'Accept-Encoding', ...this.headers304]);
  }
}

/** FileCache: `lookup` (no I/O), `store` after a stat, `revalidated` after a stat that found the file unchanged. */
export class FileCache {
  readonly options: FileCacheOptions;
  readonly #entries = new Map<string, CachedFile>();
  #bytes = 0;

  constructor(options: FileCacheOptions) {
    this.options = options;
  }

  /** size and bytes describe the cache now (for tests and stats). */
  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * lookup returns the entry for `path` when it may be served without touching the disk:
   * valid, checked recently enough, and typed by the same mimeMap. Otherwise undefined.
   */
  lookup(path: string, mimeMap: ReadonlyMap<string, string>, now: number): CachedFile | undefined {
    const entry = this.#entries.get(path);
    if (entry === undefined || !entry.isValid || entry.mimeMap !== mimeMap) return undefined;
    const limit = entry.watcher === undefined ? this.options.unwatchedRevalidateMs : this.options.revalidateMs;
    if (now - entry.checkedAt >= limit) return undefined;
    return entry;
  }

  /** has tells whether a valid entry exists for `path` (it is a regular file). */
  has(path: string): boolean {
    return this.#entries.get(path)?.isValid === true;
  }

  /**
   * revalidated returns the existing entry for `file` when the file is unchanged since it was
   * cached (same size and mtime, same mimeMap), marking it checked; undefined otherwise.
   */
  revalidated(file: StaticFile, mimeMap: ReadonlyMap<string, string>, now: number): CachedFile | undefined {
    const entry = this.#entries.get(file.path);
    if (entry === undefined || !entry.isValid || entry.mimeMap !== mimeMap) return undefined;
    if (entry.file.size !== file.size || entry.file.mtimeMs !== file.mtimeMs || entry.file.contentType !== file.contentType) {
      this.#drop(entry);
      return undefined;
    }
    entry.checkedAt = now;
    return entry;
  }

  /** isCacheable tells whether a file of `size` bytes would be kept. */
  isCacheable(size: number): boolean {
    return size <= this.options.maxFileBytes && size <= this.options.maxBytes && this.options.maxEntries > 0;
  }

  /**
   * load reads `file` into the cache (watching it first, so a change during the read is not
   * missed) and returns the entry, or undefined when the file changed while it was read or
   * could not be read (the caller then serves it from disk).
   */
  async load(file: StaticFile, mimeMap: ReadonlyMap<string, string>): Promise<CachedFile | undefined> {
    const entry = new CachedFile(file, mimeMap, Date.now());
    try {
      entry.watcher = fs.watch(file.path, { persistent: false }, () => this.#drop(entry));
      entry.watcher.on('error', () => this.#drop(entry));
    } catch {
      entry.watcher = undefined;
    }
    let body: Buffer;
    try {
      body = await readFile(file.path);
    } catch {
      entry.watcher?.close();
      return undefined;
    }
    if (body.length !== file.size || !entry.isValid) {
      entry.watcher?.close();
      return undefined;
    }
    entry.body = body;
    this.#insert(entry);
    return entry;
  }

  /** clear drops every entry and closes every watcher. */
  clear(): void {
    for (const entry of [...this.#entries.values()]) this.#drop(entry);
  }

  #insert(entry: CachedFile): void {
    const path = entry.file.path;
    const old = this.#entries.get(path);
    if (old !== undefined) this.#drop(old);
    const { maxEntries, maxBytes } = this.options;
    // Oldest first: Map iteration order is insertion order.
    for (const oldest of this.#entries.values()) {
      if (this.#entries.size < maxEntries && this.#bytes + entry.body.length <= maxBytes) break;
      this.#drop(oldest);
    }
    this.#entries.set(path, entry);
    this.#bytes += entry.body.length;
  }

  #drop(entry: CachedFile): void {
    if (!entry.isValid) return;
    entry.isValid = false;
    entry.watcher?.close();
    entry.watcher = undefined;
    const path = entry.file.path;
    if (this.#entries.get(path) === entry) {
      this.#entries.delete(path);
      this.#bytes -= entry.body.length;
    }
  }
}

/**
 * fileCache is the process-wide cache the static file handler uses: up to 1000 files of at
 * most 4 MiB, 64 MiB in all; watched entries are re-checked with a stat every 5 s, unwatched
 * ones every second. Files up to 4 MiB, not only small ones: node has no sendfile, and a file
 * read from disk costs a read into a buffer and a copy per response, where a cached one is one
 * write of bytes already in memory (docs/performance.md, "Static files up to 4 MiB from memory").
 */
export const fileCache = new FileCache({
  maxEntries: 1000,
  maxBytes: 64 * 1024 * 1024,
  maxFileBytes: 4 * 1024 * 1024,
  revalidateMs: 5000,
  unwatchedRevalidateMs: 1000,
});

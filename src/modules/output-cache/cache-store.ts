/**
 * CacheStore holds one site's stored responses in memory, within a byte budget: an LRU by
 * bytes (lru-cache), so the least recently used responses go first when a new one needs room,
 * and a response larger than the whole budget is never kept.
 *
 * Entries that depend on files (CacheUntilChange: the static file, or a node application's
 * entry script) are dropped when a file changes: each such file is watched (fs.watch, one
 * watcher per file however many entries depend on it), and `invalidate(path)` drops them by
 * name (the application's recycles come in that way). `changes` counts invalidations, so a
 * response that was being produced while one happened is not stored.
 */
import fs, { type FSWatcher } from 'node:fs';
import { LRUCache } from 'lru-cache';

/** CachedResponse is one stored response: a fixed shape, never changed once stored. */
export interface CachedResponse {
  /** The head as sent, without framing and hop-by-hop headers, as name/value pairs (repeats kept). */
  readonly headers: readonly string[];
  readonly body: Buffer;
  /** Date.now() when it was stored; Age counts from here. */
  readonly storedAt: number;
  /** When it stops being fresh (Infinity: until a file changes). */
  readonly expiresAt: number;
  /** Until when it may still answer while one request refreshes it (staleWhileRevalidate). */
  readonly staleUntil: number;
  /** Files whose change drops it (empty for time-based entries). */
  readonly dependsOn: readonly string[];
  /** A pass marker ('not cacheable, do not wait'): no response, only its expiry. */
  readonly isPass: boolean;
}

/** ENTRY_OVERHEAD is what an entry costs beyond its bytes (objects, the LRU's slots), counted in the budget. */
export const ENTRY_OVERHEAD = 256;

/** entrySize is the number of bytes an entry counts against the budget. */
export function entrySize(key: string, entry: CachedResponse): number {
  let size = ENTRY_OVERHEAD + key.length + entry.body.length;
  for (const part of entry.headers) size += part.length;
  return size;
}

/** CacheStore: get, set, invalidate, clear; `close()` stops every watcher (idempotent). */
export class CacheStore {
  readonly maxBytes: number;
  readonly #lru: LRUCache<string, CachedResponse>;
  /** File → keys of the entries that depend on it, with the file's watcher. */
  readonly #dependents = new Map<string, { keys: Set<string>; watcher: FSWatcher | undefined }>();
  #changes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
    this.#lru = new LRUCache<string, CachedResponse>({
      maxSize: maxBytes,
      maxEntrySize: maxBytes,
      sizeCalculation: (entry, key) => entrySize(key, entry),
      dispose: (entry, key) => this.#unlink(key, entry),
    });
  }

  /** size, bytes: entries and bytes held now. */
  get size(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.calculatedSize;
  }

  /** changes counts invalidations so far; compare before and after producing a response. */
  get changes(): number {
    return this.#changes;
  }

  /** get returns the entry of `key` (fresh or not: the caller decides) and marks it recently used. */
  get(key: string): CachedResponse | undefined {
    return this.#lru.get(key);
  }

  /** delete drops one entry. */
  delete(key: string): void {
    this.#lru.delete(key);
  }

  /**
   * set stores an entry; false when it is not kept: larger than the budget, or depending on
   * a file that cannot be watched (a change would go unnoticed).
   */
  set(key: string, entry: CachedResponse): boolean {
    if (entrySize(key, entry) > this.maxBytes) return false;
    // The entry it replaces unlinks its files first, so the watchers the new one needs stay.
    this.#lru.delete(key);
    for (const file of entry.dependsOn) {
      if (!this.#link(file, key)) {
        for (const linked of entry.dependsOn) {
          if (linked === file) break;
          this.#unlinkFile(linked, key);
        }
        return false;
      }
    }
    this.#lru.set(key, entry);
    if (this.#lru.has(key)) return true;
    this.#unlink(key, entry);
    return false;
  }

  /** invalidate drops every entry that depends on `file` (an absolute path). */
  invalidate(file: string): void {
    this.#changes++;
    const dependents = this.#dependents.get(file);
    if (dependents === undefined) return;
    for (const key of [...dependents.keys]) this.#lru.delete(key);
  }

  /** clear drops everything (a configuration reload). */
  clear(): void {
    this.#changes++;
    this.#lru.clear();
  }

  /** close drops everything and stops the watchers. Idempotent. */
  close(): void {
    this.clear();
    for (const dependents of this.#dependents.values()) dependents.watcher?.close();
    this.#dependents.clear();
  }

  #link(file: string, key: string): boolean {
    let dependents = this.#dependents.get(file);
    if (dependents === undefined) {
      let watcher: FSWatcher;
      try {
        watcher = fs.watch(file, { persistent: false }, () => this.invalidate(file));
        watcher.on('error', () => this.invalidate(file));
      } catch {
        return false;
      }
      dependents = { keys: new Set(), watcher };
      this.#dependents.set(file, dependents);
    }
    dependents.keys.add(key);
    return true;
  }

  #unlink(key: string, entry: CachedResponse): void {
    for (const file of entry.dependsOn) this.#unlinkFile(file, key);
  }

  #unlinkFile(file: string, key: string): void {
    const dependents = this.#dependents.get(file);
    if (dependents === undefined) return;
    dependents.keys.delete(key);
    if (dependents.keys.size > 0) return;
    dependents.watcher?.close();
    this.#dependents.delete(file);
  }
}

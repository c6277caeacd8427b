/**
 * StatCache answers "is this path a file, a directory, or neither?" (URL Rewrite's `IsFile` and
 * `IsDirectory`) from memory, kept exact by inotify: each folder holding a cached name is
 * watched (fs.watch, not recursive), and any event in it forgets that name, and everything
 * cached below it when it is a folder. The watch is set up before the first stat, so no change
 * can fall between the two; inotify events are handled before the next request is read, so
 * the request after a file appears or goes sees it.
 *
 * ```
 *   kind(/site/a/b.txt) ──▶ folders[/site/a] ─ watched ─▶ names[b.txt] = 'file'
 *                             │ event for b.txt   ──▶ names.delete(b.txt), drop /site/a/b.txt/...
 *                             │ event without a name, or the watch fails ──▶ drop the folder
 * ```
 *
 * Answers made from watched folders only are also kept by whole path, so a repeated lookup is
 * one map read; any event, drop or budget reset forgets all of those, so they are exactly as
 * exact as the folders' names.
 *
 * A path below a missing folder is answered from the nearest watched ancestor (its name for
 * that folder is 'none'), so URLs that name nothing cost no stat either. Not cached, so
 * stat'ed every time: paths in folders that cannot be watched (unreadable, on a network file
 * system where inotify misses remote changes, or past the folder budget) and paths ending in `/`. The number of names is bounded: when the budget is
 * reached the names are forgotten (the watches stay). A symbolic link is answered by its
 * target, like stat, but a change of the target outside a watched folder is not seen.
 */
import fs from 'node:fs';
import { isOnNetworkFileSystem } from './network-fs.js';
import { lastIndexOfChar } from '../http/last-index-of-char.js';

/** FileKind is what a path names. */
export type FileKind = 'file' | 'directory' | 'none';

/** StatCacheLimits bound the memory and the watches of a StatCache. */
export interface StatCacheLimits {
  /** Most names remembered, over all folders. */
  readonly maxNames: number;
  /** Most folders watched. */
  readonly maxFolders: number;
}

/** A watched folder and the kinds of the names looked up in it. */
interface Folder {
  readonly watcher: fs.FSWatcher;
  readonly names: Map<string, FileKind>;
}

/**
 * StatCache: `kind(path)` answers from memory or stats (and remembers); `close()` stops every
 * watch and forgets everything (idempotent; the cache still answers afterwards, by stat). The
 * constructor has no side effects: nothing is watched until the first lookup.
 */
export class StatCache {
  readonly #limits: StatCacheLimits;
  readonly #folders = new Map<string, Folder>();
  /** Folders that cannot be watched (for now): looked up by stat only, until close(). */
  readonly #unwatchable = new Set<string>();
  /** Whole paths answered from watched folders (see kind); emptied by every event. */
  readonly #paths = new Map<string, FileKind>();
  /** Set by #lookup while it answers from watched folders only. */
  #isExact = false;
  #names = 0;
  #generation = 0;
  #isClosed = false;

  constructor(limits: StatCacheLimits = { maxNames: 20_000, maxFolders: 2_000 }) {
    this.#limits = limits;
  }

  /** kind tells what `file` (an absolute path) names, following symbolic links. */
  kind(file: string): FileKind {
    // Whole paths first: one map read where the folder walk costs a slice and two or three
    // reads of fresh strings. Only answers made from watched folders are kept here, and any
    // event forgets them all, so this cache is exactly as exact as the folders' names.
    const known = this.#paths.get(file);
    if (known !== undefined) return known;
    this.#isExact = true;
    const kind = this.#lookup(file);
    if (this.#isExact) {
      if (this.#paths.size >= this.#limits.maxNames) this.#forgetPaths();
      this.#paths.set(file, kind);
    }
    return kind;
  }

  /** lookup answers from the folders' names (or by stat, which clears isExact: that answer is not watched). */
  #lookup(file: string): FileKind {
    const slash = lastIndexOfChar(file, 47);
    if (slash === -1 || slash === file.length - 1) return this.#stat(file);
    const dir = slash === 0 ? '/' : file.slice(0, slash);
    const name = file.slice(slash + 1);
    let folder = this.#folders.get(dir);
    if (folder === undefined) {
      // The folder first, from its parent's names: nothing exists below a missing folder or a
      // file, and that answer is cached (and kept exact) where the parent is watched.
      if (slash > 0 && this.#lookup(dir) !== 'directory') return 'none';
      folder = this.#watch(dir);
      if (folder === undefined) return this.#stat(file);
    }
    const known = folder.names.get(name);
    if (known !== undefined) return known;
    const kind = statKind(file);
    if (this.#names >= this.#limits.maxNames) this.#forgetNames();
    folder.names.set(name, kind);
    this.#names++;
    return kind;
  }

  /** stat answers a path no watched folder covers: by stat, every time. */
  #stat(file: string): FileKind {
    this.#isExact = false;
    return statKind(file);
  }

  /**
   * generation changes whenever an answer kind() gave may have changed (an event, a dropped
   * watch, a budget reset, close): an answer isKept says is exact, and stays so while the
   * generation is the same, so a caller may keep it until then.
   */
  get generation(): number {
    return this.#generation;
  }

  /** isKept tells whether kind(file) is answered from watched folders (exact until generation changes), not by a stat each time. */
  isKept(file: string): boolean {
    return this.#paths.has(file);
  }

  /** close stops every watch and forgets every name. Idempotent. */
  close(): void {
    this.#isClosed = true;
    this.#forgetPaths();
    for (const dir of [...this.#folders.keys()]) this.#drop(dir);
    this.#unwatchable.clear();
  }

  #watch(dir: string): Folder | undefined {
    if (this.#isClosed || this.#unwatchable.has(dir) || this.#folders.size >= this.#limits.maxFolders) return undefined;
    let watcher: fs.FSWatcher;
    try {
      if (isOnNetworkFileSystem(dir)) {
        this.#unwatchable.add(dir);
        return undefined;
      }
      watcher = fs.watch(dir, { persistent: false }, (_event, filename) => this.#onEvent(dir, filename));
    } catch {
      // Removed since its parent said it is a folder, or unreadable: stat answers.
      return undefined;
    }
    watcher.on('error', () => this.#drop(dir));
    const folder: Folder = { watcher, names: new Map() };
    this.#folders.set(dir, folder);
    return folder;
  }

  #onEvent(dir: string, filename: string | Buffer | null): void {
    // Which whole paths an event touches is not worth working out: any event forgets them all.
    this.#forgetPaths();
    const folder = this.#folders.get(dir);
    if (folder === undefined) return;
    if (filename === null) {
      this.#drop(dir);
      return;
    }
    const name = filename.toString();
    if (folder.names.delete(name)) this.#names--;
    // A folder renamed or removed: what was cached below it may be wrong now.
    const below = dir === '/' ? `/${name}` : `${dir}/${name}`;
    for (const other of [...this.#folders.keys()]) {
      if (other === below || other.startsWith(`${below}/`)) this.#drop(other);
    }
  }

  #drop(dir: string): void {
    const folder = this.#folders.get(dir);
    if (folder === undefined) return;
    this.#forgetPaths();
    this.#folders.delete(dir);
    this.#names -= folder.names.size;
    folder.watcher.close();
  }

  #forgetPaths(): void {
    this.#paths.clear();
    this.#generation++;
  }

  #forgetNames(): void {
    this.#forgetPaths();
    for (const folder of this.#folders.values()) folder.names.clear();
    this.#names = 0;
  }
}

/** statKind stats `file`: what it names, or 'none' when it names nothing that can be served (ENOENT, ENOTDIR, EACCES, ...). */
export function statKind(file: string): FileKind {
  let stats: fs.Stats | undefined;
  try {
    stats = fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return 'none';
  }
  if (stats === undefined) return 'none';
  return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'none';
}

/**
 * FileWatcher watches the files of one application (its watchedFiles and its configuration
 * overrides file) and reports changes: adding, changing, removing or renaming a matching file.
 *
 * ```
 *   inotify event (fs.watch on the folder, not recursive) ──┐
 *   poll tick (network file system, opt-in, missing folder) ┴─▶ dirty folders
 *        │ urgent file (iisnode.yml) ──▶ onUrgent(file) at once (the next request must see it)
 *        ▼ quiet for DEBOUNCE_MS (at most MAX_DELAY_MS after the first event)
 *   compare each dirty folder with its snapshot (name, mtime, size of every matching file)
 *        └─ differs ──▶ onChange(files)     one call per burst
 * ```
 *
 * Comparing snapshots makes an event that changed nothing (an attribute, a read) harmless,
 * and a burst of 200 copied files gives one onChange. A folder that does not exist, or that
 * is deleted, is polled every `pollingIntervalMs` until it exists again, then watched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isOnNetworkFileSystem } from '../../file-system/network-fs.js';
import { parseWatchedFiles } from './watched-files.js';

/** How long the folders must stay quiet before a burst of events is reported. */
export const DEBOUNCE_MS = 150;
/** The longest a continuous stream of events delays the report. */
export const MAX_DELAY_MS = 2000;

/** FileWatcherOptions: what to watch and whom to tell. */
export interface FileWatcherOptions {
  /** Folder of the entry script; watchedFiles entries are relative to it. */
  readonly scriptDir: string;
  readonly watchedFiles: string;
  /** Absolute paths reported through onUrgent on every event, without waiting (configuration files). */
  readonly urgentFiles: readonly string[];
  readonly pollingIntervalMs: number;
  /** Poll every folder instead of using change notifications. */
  readonly forcePolling: boolean;
  /** onChange receives the absolute paths of the files that changed in one burst. */
  readonly onChange: (files: string[]) => void;
  /** onUrgent is called at once when an event names an urgent file. */
  readonly onUrgent?: (file: string) => void;
  /** isNetworkFolder decides polling for a folder; isOnNetworkFileSystem by default. */
  readonly isNetworkFolder?: (dir: string) => boolean;
}

/** FileWatcherStats is a snapshot for status and tests. */
export interface FileWatcherStats {
  readonly watched: readonly string[];
  readonly polled: readonly string[];
}

type Snapshot = Map<string, string>;

/** Folder is one watched folder: its matchers, its snapshot, and how it is watched. */
class Folder {
  readonly dir: string;
  readonly patterns: RegExp[];
  readonly urgentNames = new Set<string>();
  snapshot: Snapshot = new Map();
  watcher: fs.FSWatcher | undefined = undefined;
  pollTimer: NodeJS.Timeout | undefined = undefined;
  isNetwork = false;
  constructor(dir: string, patterns: RegExp[]) {
    this.dir = dir;
    this.patterns = patterns;
  }

  matches(name: string): boolean {
    if (this.urgentNames.has(name)) return true;
    for (const pattern of this.patterns) if (pattern.test(name)) return true;
    return false;
  }

  /** read lists every matching file with its mtime and size; empty when the folder is missing. */
  read(): Snapshot {
    const snapshot: Snapshot = new Map();
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return snapshot;
    }
    for (const name of names) {
      if (!this.matches(name)) continue;
      try {
        const stat = fs.statSync(path.join(this.dir, name));
        if (stat.isFile()) snapshot.set(name, `${stat.mtimeMs}:${stat.size}:${stat.ino}`);
      } catch {
        // Removed between readdir and stat: it is simply not there.
      }
    }
    return snapshot;
  }
}

/**
 * FileWatcher: `start()` takes the snapshot and begins watching; `close()` stops everything
 * (idempotent). The constructor has no side effects.
 */
export class FileWatcher {
  readonly #options: FileWatcherOptions;
  readonly #folders: Folder[] = [];
  readonly #dirty = new Set<Folder>();
  #debounceTimer: NodeJS.Timeout | undefined = undefined;
  #firstEventAt = 0;
  #isClosed = false;

  constructor(options: FileWatcherOptions) {
    this.#options = options;
    const byDir = new Map<string, Folder>();
    for (const entry of parseWatchedFiles(options.watchedFiles, options.scriptDir)) {
      const folder = new Folder(entry.dir, [...entry.patterns]);
      byDir.set(entry.dir, folder);
      this.#folders.push(folder);
    }
    for (const file of options.urgentFiles) {
      const dir = path.dirname(file);
      let folder = byDir.get(dir);
      if (folder === undefined) {
        folder = new Folder(dir, []);
        byDir.set(dir, folder);
        this.#folders.push(folder);
      }
      folder.urgentNames.add(path.basename(file));
    }
  }

  /** start snapshots every folder and starts watching (or polling) it. Call once. */
  start(): void {
    const isNetwork = this.#options.isNetworkFolder ?? isOnNetworkFileSystem;
    for (const folder of this.#folders) {
      folder.snapshot = folder.read();
      folder.isNetwork = this.#options.forcePolling || isNetwork(folder.dir);
      this.#watch(folder);
    }
  }

  /** close stops watching and polling; no callback runs after it. Idempotent. */
  close(): void {
    this.#isClosed = true;
    if (this.#debounceTimer !== undefined) clearTimeout(this.#debounceTimer);
    this.#debounceTimer = undefined;
    for (const folder of this.#folders) this.#unwatch(folder);
  }

  /** stats lists the folders watched by notification and those polled. */
  stats(): FileWatcherStats {
    const watched: string[] = [];
    const polled: string[] = [];
    for (const folder of this.#folders) (folder.watcher !== undefined ? watched : polled).push(folder.dir);
    return { watched, polled };
  }

  #watch(folder: Folder): void {
    if (this.#isClosed) return;
    if (!folder.isNetwork) {
      try {
        const watcher = fs.watch(folder.dir, { persistent: false }, (_event, filename) => this.#onEvent(folder, filename));
        watcher.on('error', () => this.#onWatchError(folder));
        folder.watcher = watcher;
        return;
      } catch {
        // Missing folder (ignored, spec 1.4) or no inotify: poll until it can be watched.
      }
    }
    this.#poll(folder);
  }

  #poll(folder: Folder): void {
    if (this.#isClosed || folder.pollTimer !== undefined) return;
    const interval = Math.max(50, this.#options.pollingIntervalMs);
    folder.pollTimer = setInterval(() => this.#onPollTick(folder), interval);
    folder.pollTimer.unref();
  }

  #unwatch(folder: Folder): void {
    folder.watcher?.close();
    folder.watcher = undefined;
    if (folder.pollTimer !== undefined) clearInterval(folder.pollTimer);
    folder.pollTimer = undefined;
  }

  #onEvent(folder: Folder, filename: string | Buffer | null): void {
    if (this.#isClosed) return;
    const name = filename === null ? null : filename.toString();
    if (name !== null && !folder.matches(name)) return;
    if (name !== null && folder.urgentNames.has(name)) this.#options.onUrgent?.(path.join(folder.dir, name));
    this.#markDirty(folder);
  }

  /** The folder was deleted or renamed: poll until it exists again, then watch it anew. */
  #onWatchError(folder: Folder): void {
    folder.watcher?.close();
    folder.watcher = undefined;
    this.#markDirty(folder);
    this.#poll(folder);
  }

  #onPollTick(folder: Folder): void {
    if (this.#isClosed) return;
    if (!folder.isNetwork) {
      // Polling only until the folder exists: then switch to notifications.
      let exists = false;
      try {
        exists = fs.statSync(folder.dir).isDirectory();
      } catch {
        exists = false;
      }
      if (exists) {
        this.#unwatch(folder);
        this.#watch(folder);
      }
    }
    const next = folder.read();
    const changed = diff(folder.snapshot, next);
    if (changed.length === 0) return;
    for (const name of changed) if (folder.urgentNames.has(name)) this.#options.onUrgent?.(path.join(folder.dir, name));
    this.#markDirty(folder);
  }

  #markDirty(folder: Folder): void {
    this.#dirty.add(folder);
    const now = Date.now();
    if (this.#debounceTimer === undefined) this.#firstEventAt = now;
    else clearTimeout(this.#debounceTimer);
    const delay = Math.min(DEBOUNCE_MS, Math.max(0, this.#firstEventAt + MAX_DELAY_MS - now));
    this.#debounceTimer = setTimeout(() => this.#flush(), delay);
    this.#debounceTimer.unref();
  }

  #flush(): void {
    this.#debounceTimer = undefined;
    if (this.#isClosed) return;
    const changed: string[] = [];
    for (const folder of this.#dirty) {
      const next = folder.read();
      for (const name of diff(folder.snapshot, next)) changed.push(path.join(folder.dir, name));
      folder.snapshot = next;
    }
    this.#dirty.clear();
    if (changed.length > 0) this.#options.onChange(changed);
  }
}

/** diff lists the names added, removed or changed between two snapshots. */
function diff(before: Snapshot, after: Snapshot): string[] {
  const names: string[] = [];
  for (const [name, value] of after) if (before.get(name) !== value) names.push(name);
  for (const name of before.keys()) if (!after.has(name)) names.push(name);
  return names;
}

/**
 * ConfigReloadWatcher notices changes to a site's web.config files (DESIGN §3: configuration is
 * compiled once per change) and says so through `onChange`; the server then re-reads the
 * configuration before the next request. Every folder the configuration walk visits is watched
 * with inotify (not recursive, so the walk's rules apply: node_modules and dot-folders are
 * skipped); a new or removed folder re-walks the site. On a network file system, where inotify
 * misses remote changes, the web.config files are polled instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { walkSiteFolders } from '../config/site-files.js';
import type { SitePaths } from '../config/site-paths.js';
import { isOnNetworkFileSystem } from '../file-system/network-fs.js';

/** ConfigReloadWatcherOptions: the site root and whom to tell. */
export interface ConfigReloadWatcherOptions {
  readonly siteRoot: string;
  /** The site's applications and virtual directories, whose folders are watched too. */
  readonly paths?: SitePaths | undefined;
  /** Polling period on network file systems (uncFileChangesPollingInterval of the site root). */
  readonly pollingIntervalMs: number;
  readonly onChange: () => void;
}

/** ConfigReloadWatcher: `start()` begins watching, `close()` stops (idempotent). */
export class ConfigReloadWatcher {
  readonly #options: ConfigReloadWatcherOptions;
  readonly #watchers = new Map<string, fs.FSWatcher>();
  #pollTimer: NodeJS.Timeout | undefined = undefined;
  #fingerprint = '';
  #isClosed = false;

  /** The constructor has no side effects. */
  constructor(options: ConfigReloadWatcherOptions) {
    this.#options = options;
  }

  /** start watches every configuration folder of the site (or polls on a network file system). */
  start(): void {
    if (isOnNetworkFileSystem(this.#options.siteRoot)) {
      this.#fingerprint = this.#readFingerprint();
      this.#pollTimer = setInterval(() => this.#poll(), Math.max(100, this.#options.pollingIntervalMs));
      this.#pollTimer.unref();
      return;
    }
    this.#rewatch();
  }

  /** close stops every watch and the poll timer. Idempotent. */
  close(): void {
    this.#isClosed = true;
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  /** rewatch watches the folders of a fresh walk and drops the watches of folders that are gone. */
  #rewatch(): void {
    if (this.#isClosed) return;
    let dirs: string[];
    try {
      dirs = walkSiteFolders(this.#options.siteRoot, this.#options.paths).map((folder) => folder.dir);
    } catch {
      dirs = [];
    }
    const wanted = new Set(dirs);
    for (const [dir, watcher] of this.#watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        this.#watchers.delete(dir);
      }
    }
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue;
      try {
        const watcher = fs.watch(dir, { persistent: false }, (_event, filename) => this.#onEvent(dir, filename));
        watcher.on('error', () => {
          watcher.close();
          this.#watchers.delete(dir);
          this.#options.onChange();
        });
        this.#watchers.set(dir, watcher);
      } catch {
        // The folder vanished during the walk: the parent's event re-walks.
      }
    }
  }

  #onEvent(dir: string, filename: string | Buffer | null): void {
    if (this.#isClosed) return;
    const name = filename === null ? null : filename.toString();
    if (name === null || name.toLowerCase() === 'web.config') {
      this.#options.onChange();
      return;
    }
    // A folder appeared or disappeared: it is watched from now on, and the configuration is
    // re-read only when it holds (or may have held) a web.config. Folders that apps and logs
    // create (iisnode/, uploads) leave the configuration, and what was compiled from it, alone.
    const folder = path.join(dir, name);
    let isFolder = false;
    let isGone = false;
    try {
      isFolder = fs.statSync(folder).isDirectory();
    } catch {
      isGone = this.#watchers.has(folder);
    }
    if (!isFolder && !isGone) return;
    this.#rewatch();
    if (isGone || holdsWebConfig(folder)) this.#options.onChange();
  }

  #poll(): void {
    if (this.#isClosed) return;
    const next = this.#readFingerprint();
    if (next === this.#fingerprint) return;
    this.#fingerprint = next;
    this.#options.onChange();
  }

  #readFingerprint(): string {
    const parts: string[] = [];
    try {
      for (const folder of walkSiteFolders(this.#options.siteRoot, this.#options.paths)) {
        for (const entry of folder.entries) {
          if (entry.name.toLowerCase() !== 'web.config') continue;
          try {
            const stat = fs.statSync(path.join(folder.dir, entry.name));
            parts.push(`${folder.dir}/${entry.name}:${stat.mtimeMs}:${stat.size}`);
          } catch {
            // Removed meanwhile.
          }
        }
      }
    } catch {
      return '';
    }
    return parts.join('\n');
  }
}

/** holdsWebConfig is true when a web.config sits in `dir` or in a folder below it that the walk visits. */
function holdsWebConfig(dir: string): boolean {
  try {
    return walkSiteFolders(dir).some((folder) => folder.entries.some((entry) => entry.name.toLowerCase() === 'web.config'));
  } catch {
    return true;
  }
}

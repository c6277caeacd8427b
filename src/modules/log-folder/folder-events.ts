/**
 * FolderEvents pushes a log folder's file list to browsers as server-sent events (the live
 * index page). One watcher per folder, shared by every page that shows it, made when the
 * first page connects and closed when the last one leaves. A list is sent when it changes:
 * on file system events (debounced) and on a slow refresh that also catches sizes growing in
 * a folder written by another process.
 */
import fs from 'node:fs';
import type { HttpResponse } from '../../http/http-response.js';
import { listLogFiles } from '../../log-files/log-names.js';

/** Debounce of file system events before the folder is listed again. */
const SETTLE_MS = 150;
/** Slow refresh while a page is connected; also keeps proxies from closing an idle stream. */
const REFRESH_MS = 2000;

class Watch {
  readonly dir: string;
  readonly pages = new Set<HttpResponse>();
  watcher: fs.FSWatcher | undefined = undefined;
  refresh: NodeJS.Timeout | undefined = undefined;
  settle: NodeJS.Timeout | undefined = undefined;
  last = '';
  isListing = false;
  constructor(dir: string) {
    this.dir = dir;
  }
}

/** FolderEvents: `subscribe(res, dir)` turns a response into an event stream of `dir`'s file list; `close()` ends all. */
export class FolderEvents {
  readonly #watches = new Map<string, Watch>();

  /** subscribe sends the `files` event now and whenever the list changes, until the client leaves. */
  subscribe(res: HttpResponse, dir: string): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    let watch = this.#watches.get(dir);
    if (watch === undefined) {
      watch = new Watch(dir);
      this.#watches.set(dir, watch);
      this.#start(watch);
    }
    watch.pages.add(res);
    const current = watch;
    res.once('close', () => this.#leave(current, res));
    void this.#sendList(watch, res);
  }

  /** close ends every event stream and watcher. */
  close(): void {
    for (const watch of this.#watches.values()) {
      for (const res of watch.pages) res.end();
      this.#stop(watch);
    }
    this.#watches.clear();
  }

  #start(watch: Watch): void {
    const onChange = () => {
      if (watch.settle === undefined)
        watch.settle = setTimeout(() => {
          watch.settle = undefined;
          void this.#broadcast(watch);
        }, SETTLE_MS);
    };
    try {
      watch.watcher = fs.watch(watch.dir, { persistent: false }, onChange);
      watch.watcher.on('error', () => {
        watch.watcher?.close();
        watch.watcher = undefined;
      });
    } catch {
      // The folder does not exist yet: the slow refresh notices when it appears.
    }
    watch.refresh = setInterval(() => {
      if (watch.watcher === undefined) this.#retryWatch(watch, onChange);
      void this.#broadcast(watch);
    }, REFRESH_MS);
    watch.refresh.unref();
  }

  #retryWatch(watch: Watch, onChange: () => void): void {
    try {
      watch.watcher = fs.watch(watch.dir, { persistent: false }, onChange);
    } catch {
      // Still missing.
    }
  }

  #leave(watch: Watch, res: HttpResponse): void {
    watch.pages.delete(res);
    if (watch.pages.size === 0) {
      this.#stop(watch);
      this.#watches.delete(watch.dir);
    }
  }

  #stop(watch: Watch): void {
    watch.watcher?.close();
    watch.watcher = undefined;
    if (watch.refresh !== undefined) clearInterval(watch.refresh);
    if (watch.settle !== undefined) clearTimeout(watch.settle);
    watch.refresh = undefined;
    watch.settle = undefined;
  }

  async #sendList(watch: Watch, res: HttpResponse): Promise<void> {
    const text = await this.#list(watch);
    if (!res.writableEnded) res.write(`event: files\ndata: ${text}\n\n`);
  }

  async #broadcast(watch: Watch): Promise<void> {
    if (watch.isListing || watch.pages.size === 0) return;
    watch.isListing = true;
    try {
      const files = await listLogFiles(watch.dir);
      const signature = JSON.stringify(files);
      if (signature === watch.last) return;
      watch.last = signature;
      const event = `event: files\ndata: ${JSON.stringify({ files, updated: Date.now() })}\n\n`;
      for (const res of watch.pages) res.write(event);
    } finally {
      watch.isListing = false;
    }
  }

  async #list(watch: Watch): Promise<string> {
    const files = await listLogFiles(watch.dir);
    return JSON.stringify({ files, updated: Date.now() });
  }
}

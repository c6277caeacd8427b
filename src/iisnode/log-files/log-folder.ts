/**
 * LogFolder is one folder of worker log files, shared by every stream that writes into it
 * (all workers of the applications whose logDirectory resolves to it). It creates the folder,
 * enforces the quotas when a file is created, and rewrites `index.html` (spec 2.10).
 *
 * Quotas hold at every moment, not only right after a purge: a file that is being written
 * (or about to be created) counts with its full budget, max(size, maxLogFileSizeInKB), so
 * the folder stays within maxTotalLogFileSizeInKB as those files grow (a file grows past its
 * budget only by a single line longer than the budget). Files being written are never deleted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderIndexPage } from '../../log-files/index-page.js';
import { INDEX_FILE, listLogFiles } from '../../log-files/log-names.js';

/** LogQuotas are the folder's limits in bytes and files. */
export interface LogQuotas {
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly maxFiles: number;
}

/** LogFolderErrorHandler hears about file system failures (the folder cannot be made, a purge failed). */
export type LogFolderErrorHandler = (what: string, dir: string, err: unknown) => void;

/**
 * LogFolder: `createFile(name, open)` reserves a new file, makes room for it and creates it;
 * `endFile(name)` says a file is no longer written. File creation, purges and index writes of
 * one folder run one at a time, in order.
 */
export class LogFolder {
  readonly dir: string;
  /** The folder's quotas; the settings of the application that used it last. */
  quotas: LogQuotas;
  readonly #title: string;
  readonly #onError: LogFolderErrorHandler;
  /** Files being written, or reserved and about to be created. */
  readonly #active = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();

  constructor(dir: string, quotas: LogQuotas, onError: LogFolderErrorHandler) {
    this.dir = dir;
    this.quotas = quotas;
    this.#title = path.dirname(dir);
    this.#onError = onError;
  }

  /** activeCount is the number of files being written (for tests and stats). */
  get activeCount(): number {
    return this.#active.size;
  }

  /** isActive tells whether `name` is being written. */
  isActive(name: string): boolean {
    return this.#active.has(name);
  }

  /**
   * createFile reserves `name`, creates the folder if needed, deletes the oldest files that
   * are not being written until the folder, counting the new file, is within its quotas, then
   * runs `open` (which creates the file) and rewrites index.html. Rejects when the folder or
   * the file cannot be created; the reservation is then dropped.
   */
  createFile<T>(name: string, open: () => Promise<T>): Promise<T> {
    this.#active.add(name);
    const run = async (): Promise<T> => {
      try {
        await fs.promises.mkdir(this.dir, { recursive: true });
        await this.#purge();
        const result = await open();
        await this.#writeIndex();
        return result;
      } catch (err) {
        this.#active.delete(name);
        throw err;
      }
    };
    const result = this.#chain.then(run, run);
    this.#chain = result.catch(noop);
    return result;
  }

  /** endFile records that `name` is no longer written (it may be purged from now on). */
  endFile(name: string): void {
    this.#active.delete(name);
  }

  /** idle resolves when the folder's queued creations, purges and index writes are done. */
  idle(): Promise<void> {
    return this.#chain.then(noop);
  }

  async #purge(): Promise<void> {
    const { maxFileBytes, maxTotalBytes, maxFiles } = this.quotas;
    const files = await listLogFiles(this.dir);
    const onDisk = new Set<string>();
    let count = 0;
    let total = 0;
    for (const file of files) {
      onDisk.add(file.name);
      count++;
      total += this.#active.has(file.name) ? Math.max(file.size, maxFileBytes) : file.size;
    }
    for (const name of this.#active) {
      if (!onDisk.has(name)) {
        count++;
        total += maxFileBytes;
      }
    }
    if (count <= maxFiles && total <= maxTotalBytes) return;
    const candidates = files.filter((file) => !this.#active.has(file.name)).sort((a, b) => a.modified - b.modified);
    for (const file of candidates) {
      if (count <= maxFiles && total <= maxTotalBytes) break;
      try {
        await fs.promises.unlink(path.join(this.dir, file.name));
      } catch (err) {
        // Skipped, as iisnode did; a file deleted meanwhile no longer counts.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.#onError('cannot delete an old log file', this.dir, err);
          continue;
        }
      }
      count--;
      total -= file.size;
    }
  }

  async #writeIndex(): Promise<void> {
    const files = await listLogFiles(this.dir);
    const { maxFileBytes, maxTotalBytes, maxFiles } = this.quotas;
    const html = renderIndexPage(files, {
      title: this.#title,
      maxLogFiles: maxFiles,
      maxTotalLogFileSizeInKB: Math.round(maxTotalBytes / 1024),
      maxLogFileSizeInKB: Math.round(maxFileBytes / 1024),
      updated: Date.now(),
    });
    // Written beside and renamed, so a reader never sees half a page; the temporary name carries
    // the host name too, for hosts that share the folder on a network drive.
    const temp = path.join(this.dir, `.${INDEX_FILE}.${os.hostname()}-${process.pid}.tmp`);
    try {
      await fs.promises.writeFile(temp, html);
      await fs.promises.rename(temp, path.join(this.dir, INDEX_FILE));
    } catch (err) {
      this.#onError('cannot write index.html', this.dir, err);
    }
  }
}

function noop(): void {}

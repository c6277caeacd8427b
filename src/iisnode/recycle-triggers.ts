/**
 * RecycleTriggers are the application's own sources of recycles (DESIGN §2): the file watcher
 * (watchedFiles, and iisnode.yml, whose change must be seen by the very next request) and the
 * control pipe (IISNODE_CONTROL_PIPE, written `recycle` by a worker). They only report; the
 * application decides what a report means.
 */
import path from 'node:path';
import type { IisnodeSettings } from '../config/types.js';
import { ControlPipe } from './control-pipe.js';
import type { RunDir } from './run-dir.js';
import { FileWatcher } from './watchers/file-watcher.js';

/** RecycleTriggersOptions connects the triggers to their application. */
export interface RecycleTriggersOptions {
  readonly scriptPath: string;
  readonly runDir: RunDir;
  /** Absolute path of the configOverrides file (iisnode.yml), watched urgently. */
  readonly ymlFile?: string | undefined;
  /** Whether to watch files at all (off in unit tests that do not need it). */
  readonly isWatching: boolean;
  /** onYmlChanged: iisnode.yml changed (reported before the next request is read). */
  readonly onYmlChanged: () => void;
  /** onFilesChanged: watched files changed (after a quiet period; iisnode.yml may be among them). */
  readonly onFilesChanged: (files: string[]) => void;
  /** onRecycleSignal: a worker wrote `recycle` to the control pipe. */
  readonly onRecycleSignal: () => void;
}

/**
 * RecycleTriggers: `controlPipePath(settings)` opens the control pipe on first need and
 * returns its path; `watch(settings)` (re)starts the watcher when the settings it depends on
 * changed; `close()` stops both (idempotent; later calls do nothing).
 */
export class RecycleTriggers {
  readonly #options: RecycleTriggersOptions;
  #watcher: FileWatcher | undefined = undefined;
  #watchKey = '';
  #controlPipe: ControlPipe | undefined = undefined;
  #isClosed = false;

  /** The constructor has no side effects. */
  constructor(options: RecycleTriggersOptions) {
    this.#options = options;
  }

  /** controlPipePath returns the control pipe's socket path when recycleSignalEnabled, opening the pipe the first time. */
  controlPipePath(settings: Readonly<IisnodeSettings>): string | undefined {
    if (!settings.recycleSignalEnabled) return undefined;
    if (this.#controlPipe === undefined && !this.#isClosed) {
      const { id, socketPath } = this.#options.runDir.nextSocket();
      this.#controlPipe = new ControlPipe(path.join(path.dirname(socketPath), `c${id}.sock`), () => this.#options.onRecycleSignal());
      // Workers get the path at spawn; they connect well after listen() has run.
      void this.#controlPipe.listen();
    }
    return this.#controlPipe?.socketPath;
  }

  /** watch (re)starts the file watcher when the settings it depends on changed. */
  watch(settings: Readonly<IisnodeSettings>): void {
    if (!this.#options.isWatching || this.#isClosed) return;
    const ymlFile = this.#options.ymlFile;
    const key = [settings.watchedFiles, settings.uncFileChangesPollingInterval, settings.watchedFilesPolling, ymlFile ?? ''].join('\0');
    if (key === this.#watchKey) return;
    this.#watchKey = key;
    this.#watcher?.close();
    this.#watcher = new FileWatcher({
      scriptDir: path.dirname(this.#options.scriptPath),
      watchedFiles: settings.watchedFiles,
      urgentFiles: ymlFile === undefined ? [] : [ymlFile],
      pollingIntervalMs: settings.uncFileChangesPollingInterval,
      forcePolling: settings.watchedFilesPolling,
      onUrgent: () => this.#options.onYmlChanged(),
      onChange: (files) => this.#options.onFilesChanged(files),
    });
    this.#watcher.start();
  }

  /** close stops the watcher and the control pipe. */
  close(): void {
    this.#isClosed = true;
    this.#watcher?.close();
    this.#controlPipe?.close();
  }
}

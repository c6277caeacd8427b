/**
 * LogCapture turns the output of every worker into log files (DESIGN §4, spec 2.10): for each
 * application with loggingEnabled it writes each worker's stdout and stderr through a
 * StreamLog into the application's LogFolder, shared by all applications whose logDirectory
 * resolves to the same folder. With loggingEnabled false the output is discarded (only the
 * worker's in-memory stderr tail keeps it) and no folder is made. It also adds the preload
 * script that reports uncaught exceptions (uncaught-preload.cjs) to the worker command.
 *
 * It needs nothing from AppHost but the two seams it already has: the `resolveApp` callback
 * (wrapped with `prepare`) and the `onOutput` hook.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IisnodeSettings } from '../../config/types.js';
import type { HostLog } from '../../host-log.js';
import type { OutputHook, OutputStream, Worker } from '../worker.js';
import { resolveLogDirectory } from '../../log-files/log-directory.js';
import { LogFolder, type LogQuotas } from './log-folder.js';
import { StreamLog, type PipeControl } from './stream-log.js';

/** How long close() waits for buffered output to reach the disk. */
const CLOSE_FLUSH_MS = 5000;

/**
 * PRELOAD_FILE is the CommonJS preload given to workers with `--require`. It sits beside this
 * module: in src/, and in dist/ where the build copies it (scripts/copy-assets.mjs).
 */
export const PRELOAD_FILE: string = fileURLToPath(new URL('./uncaught-preload.cjs', import.meta.url));

/** LogCaptureOptions configure the capture. */
export interface LogCaptureOptions {
  readonly log: HostLog;
  /** Host name in the file names; os.hostname() by default. */
  readonly hostname?: string;
}

/** WorkerLogs are the two stream logs of one worker, made on each stream's first byte. */
class WorkerLogs {
  readonly settings: Readonly<IisnodeSettings>;
  stdout: StreamLog | undefined = undefined;
  stderr: StreamLog | undefined = undefined;
  constructor(settings: Readonly<IisnodeSettings>) {
    this.settings = settings;
  }
}

/** quotasOf turns an application's settings into folder quotas in bytes. */
export function quotasOf(settings: Readonly<IisnodeSettings>): LogQuotas {
  return {
    maxFileBytes: Math.max(1, settings.maxLogFileSizeInKB) * 1024,
    maxTotalBytes: Math.max(1, settings.maxTotalLogFileSizeInKB) * 1024,
    maxFiles: Math.max(1, settings.maxLogFiles),
  };
}

/**
 * withPreload returns the settings with the uncaught-exception preload put before the
 * interceptor (`--require "<preload>" <interceptor>`), so the worker command becomes
 * `node [args] --require <preload> [interceptor] <script>`. The interceptor is the one
 * setting whose words land right before the script; a Windows-path interceptor is dropped
 * whole by buildNodeCommand, preload included.
 */
export function withPreload<T extends Readonly<IisnodeSettings>>(settings: T, preload: string): T {
  const require = `--require "${preload.replaceAll('"', '""')}"`;
  const interceptor = settings.interceptor.trim();
  return { ...settings, interceptor: interceptor === '' ? require : `${require} ${interceptor}` };
}

/**
 * LogCapture: `prepare(script, resolved)` wraps the resolution of an application's settings
 * (it records them and adds the preload when logging is on); `onOutput` is the one output
 * hook of every worker; `directories()` lists the log folders in use (the HTTP module serves
 * them); `close()` waits (bounded) until the output received so far is on disk. The
 * constructor has no side effects.
 */
export class LogCapture {
  readonly #options: LogCaptureOptions;
  readonly #folders = new Map<string, LogFolder>();
  /** The latest settings of each application, by entry script. */
  readonly #settings = new Map<string, Readonly<IisnodeSettings>>();
  /** Each worker's logs; null when its application's logging is off. */
  readonly #workers = new WeakMap<Worker, WorkerLogs | null>();
  readonly #open = new Set<StreamLog>();
  readonly #preload: string | undefined;
  #hasWarnedPreload = false;

  constructor(options: LogCaptureOptions) {
    this.#options = options;
    this.#preload = fs.existsSync(PRELOAD_FILE) ? PRELOAD_FILE : undefined;
  }

  /**
   * prepare records the resolved settings of the application at `scriptPath` (workers started
   * from now on log by them) and returns them with the uncaught-exception preload when
   * loggingEnabled. Resolutions with errors pass through untouched.
   */
  prepare<R extends { settings: IisnodeSettings; errors: readonly unknown[] }>(scriptPath: string, resolved: R): R {
    if (resolved.errors.length > 0) return resolved;
    const settings = resolved.settings;
    this.#settings.set(scriptPath, settings);
    if (!settings.loggingEnabled) return resolved;
    this.#folder(resolveLogDirectory(scriptPath, settings.logDirectory), quotasOf(settings));
    if (this.#preload === undefined) {
      if (!this.#hasWarnedPreload) this.#options.log.warn('uncaught exception reporter missing; workers run without it', { file: PRELOAD_FILE });
      this.#hasWarnedPreload = true;
      return resolved;
    }
    return { ...resolved, settings: withPreload(settings, this.#preload) };
  }

  /** onOutput is the output hook of every worker: each stream goes to its log file from its first byte. */
  readonly onOutput: OutputHook = (worker, stream, chunk) => {
    let logs = this.#workers.get(worker);
    if (logs === undefined) {
      const settings = this.#settings.get(worker.scriptPath);
      logs = settings?.loggingEnabled === true ? new WorkerLogs(settings) : null;
      this.#workers.set(worker, logs);
    }
    if (logs === null) return;
    logs[stream] ??= this.#openStream(logs.settings, worker, stream);
    logs[stream].write(chunk);
  };

  /** directories lists the absolute log folders of the applications started so far. */
  directories(): IterableIterator<string> {
    return this.#folders.keys();
  }

  /** directoryOf is the log folder of the application at `scriptPath` (undefined when it has not started or logs nothing). */
  directoryOf(scriptPath: string): string | undefined {
    const settings = this.#settings.get(scriptPath);
    return settings?.loggingEnabled === true ? resolveLogDirectory(scriptPath, settings.logDirectory) : undefined;
  }

  /** close ends every open stream log and waits until their bytes are on disk (at most 5 s). */
  async close(): Promise<void> {
    const open = [...this.#open];
    for (const log of open) log.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_FLUSH_MS);
    });
    await Promise.race([Promise.all(open.map((log) => log.closed)), timeout]);
    clearTimeout(timer);
    await Promise.race([Promise.all([...this.#folders.values()].map((folder) => folder.idle())), timeout]);
  }

  #folder(dir: string, quotas: LogQuotas): LogFolder {
    let folder = this.#folders.get(dir);
    if (folder === undefined) {
      folder = new LogFolder(dir, quotas, (what, where, err) => this.#options.log.warn(what, { dir: where, code: 'NH_ERR_LOGS_WRITE', err }));
      this.#folders.set(dir, folder);
    } else {
      folder.quotas = quotas;
    }
    return folder;
  }

  #openStream(settings: Readonly<IisnodeSettings>, worker: Worker, stream: OutputStream): StreamLog {
    const folder = this.#folder(resolveLogDirectory(worker.scriptPath, settings.logDirectory), quotasOf(settings));
    const pipe = worker.output(stream);
    const control: PipeControl = pipe === undefined ? NO_PIPE : { pause: () => pipe.pause(), resume: () => pipe.resume() };
    const log = new StreamLog({
      folder,
      pid: worker.pid,
      stream,
      pipe: control,
      ...(this.#options.hostname === undefined ? {} : { hostname: this.#options.hostname }),
      onError: (err, file) =>
        this.#options.log.warn('cannot write worker log; its output is dropped until it can', { code: 'NH_ERR_LOGS_WRITE', file, pid: worker.pid, err }),
      onResume: (droppedBytes, file) => this.#options.log.info('worker log written again', { file, pid: worker.pid, droppedBytes }),
    });
    this.#open.add(log);
    void log.closed.then(() => this.#open.delete(log));
    if (pipe !== undefined) {
      const end = () => log.end();
      pipe.once('end', end);
      pipe.once('close', end);
    }
    if (stream === 'stderr') worker.stderrLog = (maxBytes) => log.tail(maxBytes);
    return log;
  }
}

const NO_PIPE: PipeControl = { pause: noop, resume: noop };

function noop(): void {}

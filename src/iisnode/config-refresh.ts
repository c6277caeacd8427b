/**
 * ConfigRefresh re-reads an application's settings after a web.config reload or an
 * iisnode.yml change and says whether that asks for a recycle. Invalid settings keep the last
 * good ones in force (the error is logged once and shown to loopback clients); changed
 * settings or appSettings recycle; an iisnode.yml that matches watchedFiles recycles even when
 * its settings did not change (iisnode tests 125/126: the very next request sees it).
 */
import path from 'node:path';
import type { NodehostError } from '../errors.js';
import type { FolderConfig, IisnodeSettings } from '../config/types.js';
import type { HostLog } from '../host-log.js';
import { compileNamePattern } from './watchers/watched-files.js';

/** ResolvedSettings is what the application's settings resolver returns. */
export interface ResolvedSettings {
  readonly settings: IisnodeSettings;
  readonly appSettings: readonly (readonly [string, string])[];
  /** Configuration errors; when any, the last good settings stay in force. */
  readonly errors: readonly NodehostError[];
}

/** ConfigChange is a refresh's verdict: recycle with these settings, for this reason. */
export interface ConfigChange {
  readonly reason: string;
  readonly settings: Readonly<IisnodeSettings>;
  readonly appSettings: readonly (readonly [string, string])[];
}

/** ConfigRefreshOptions is what the application knows about where its settings come from. */
export interface ConfigRefreshOptions {
  readonly scriptPath: string;
  readonly log: HostLog;
  /** The configuration the settings came from (compared by identity to notice a reload). */
  readonly folder?: FolderConfig | undefined;
  /** Re-reads the settings from a folder configuration. */
  readonly resolve?: ((folder: FolderConfig) => ResolvedSettings) | undefined;
  /** Absolute path of the configOverrides file (iisnode.yml). */
  readonly ymlFile?: string | undefined;
}

/**
 * ConfigRefresh: `updateFolder` and `markYmlChanged` make it dirty; `refresh(...)` clears that
 * and returns the ConfigChange to recycle with, or undefined. It never throws.
 */
export class ConfigRefresh {
  readonly #options: ConfigRefreshOptions;
  #folder: FolderConfig | undefined;
  #isDirty = false;
  #isYmlTouched = false;
  #configError: NodehostError | undefined = undefined;

  /** The constructor has no side effects. */
  constructor(options: ConfigRefreshOptions) {
    this.#options = options;
    this.#folder = options.folder;
  }

  /** folder is the configuration the settings were last resolved from. */
  get folder(): FolderConfig | undefined {
    return this.#folder;
  }

  /** ymlFile is the configOverrides file, when there is one. */
  get ymlFile(): string | undefined {
    return this.#options.ymlFile;
  }

  /** isDirty tells whether the next request must refresh first. */
  get isDirty(): boolean {
    return this.#isDirty;
  }

  /** configError is the error that keeps the last good settings in force, if any. */
  get configError(): NodehostError | undefined {
    return this.#configError;
  }

  /** updateFolder records the configuration of a request after a web.config reload. */
  updateFolder(folder: FolderConfig): void {
    if (folder === this.#folder) return;
    this.#folder = folder;
    this.#isDirty = true;
  }

  /** markYmlChanged records an iisnode.yml change: the very next request must see it (spec 1.4). */
  markYmlChanged(): void {
    this.#isDirty = true;
    this.#isYmlTouched = true;
  }

  /**
   * refresh re-reads the settings (unless the application `isClosed`) and compares them with
   * `settings`/`appSettings` (the newest generation's). `force` (a watched file changed too)
   * recycles anyway.
   */
  refresh(
    settings: Readonly<IisnodeSettings>,
    appSettings: readonly (readonly [string, string])[],
    force: boolean,
    isClosed: boolean,
  ): ConfigChange | undefined {
    this.#isDirty = false;
    const isYmlTouched = this.#isYmlTouched;
    this.#isYmlTouched = false;
    const { resolve, log, scriptPath } = this.#options;
    const folder = this.#folder;
    if (resolve === undefined || folder === undefined || isClosed) {
      return force ? { reason: 'watched files changed', settings, appSettings } : undefined;
    }
    const errors = folder.errors.length > 0 ? folder.errors : resolve(folder).errors;
    if (errors.length > 0) {
      const error = errors[0]!;
      if (this.#configError?.toString() !== error.toString()) {
        log.error('config error', { script: scriptPath, code: error.code, where: error.where(), message: error.message, keeps: 'last good configuration' });
      }
      this.#configError = error;
      return undefined;
    }
    const resolved = resolve(folder);
    if (this.#configError !== undefined) log.info('config fixed', { script: scriptPath });
    this.#configError = undefined;
    const isChanged = !sameSettings(resolved.settings, settings) || !sameAppSettings(resolved.appSettings, appSettings);
    const isYmlWatched = isYmlTouched && this.#isWatchedByName(this.#options.ymlFile, settings.watchedFiles);
    if (!isChanged && !force && !isYmlWatched) return undefined;
    return { reason: isChanged ? 'configuration changed' : 'watched files changed', settings: resolved.settings, appSettings: resolved.appSettings };
  }

  /** isWatchedByName tells whether a file in the script's folder matches a watchedFiles entry. */
  #isWatchedByName(file: string | undefined, watchedFiles: string): boolean {
    if (file === undefined || path.dirname(file) !== path.dirname(this.#options.scriptPath)) return false;
    const name = path.basename(file);
    for (const entry of watchedFiles.split(';')) {
      const trimmed = entry.trim();
      if (trimmed !== '' && !/[\\/]/.test(trimmed) && compileNamePattern(trimmed).test(name)) return true;
    }
    return false;
  }
}

/** sameSettings compares two settings objects field by field. */
function sameSettings(a: Readonly<IisnodeSettings>, b: Readonly<IisnodeSettings>): boolean {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  for (const key of Object.keys(left)) if (left[key] !== right[key]) return false;
  return Object.keys(left).length === Object.keys(right).length;
}

function sameAppSettings(a: readonly (readonly [string, string])[], b: readonly (readonly [string, string])[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

/**
 * SiteConfig is the compiled web.config configuration of one site: every web.config under the
 * site root, merged per configuration level at load, looked up per URL on the hot path.
 *
 * A configuration level is a URL path that some configuration targets: a folder holding a
 * web.config, or the target of a `<location path>` (a folder or a single file). IIS resolves
 * configuration per URL, segment by segment, so the effective configuration of a URL is the
 * one of its deepest level; URLs below no level of their own share their ancestor's object.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { NodehostError } from '../errors.js';
import { resolveAppSettings, type ResolvedAppSettings } from './app-settings.js';
import { FolderMerge, type BaseWebConfig, type HostDefaults } from './folder-merge.js';

export type { BaseWebConfig, HostDefaults };
import { findWebConfig, walkSiteFolders } from './site-files.js';
import type { SitePaths } from './site-paths.js';
import type { ConfigWarning, FolderConfig } from './types.js';
import { parseWebConfig, readWebConfig, type ConfigSections, type WebConfigFile } from './web-config.js';

/** One thing merged into a level: errors that apply there, and sections (absent for a file-level error layer). */
interface Layer {
  readonly errors: readonly NodehostError[];
  readonly sections: ConfigSections | undefined;
}

/** How many URLs forPath remembers; beyond it the oldest are forgotten (URLs are client-chosen). */
const URL_CACHE_LIMIT = 10_000;

/** SiteConfig holds a site's merged web.config configuration; build it with SiteConfig.load. */
export class SiteConfig {
  /** Absolute path of the site root. */
  readonly siteRoot: string;
  /** Absolute paths of the web.config files read, parents before children. */
  readonly files: readonly string[];
  /** Every error of every file and of the merge, each once, in discovery order. */
  readonly errors: readonly NodehostError[];
  /** What the site does that nodehost accepts but IIS refuses (`nodehost check` prints them), in merge order. */
  readonly warnings: readonly ConfigWarning[];
  private readonly env: NodeJS.ProcessEnv;
  /** Effective configuration per level, keyed by the lower-cased level path without slashes ('' = root). */
  private readonly levels: ReadonlyMap<string, FolderConfig>;
  private readonly urlCache: Map<string, FolderConfig>;

  private constructor(
    siteRoot: string,
    files: string[],
    errors: NodehostError[],
    warnings: ConfigWarning[],
    levels: Map<string, FolderConfig>,
    env: NodeJS.ProcessEnv,
  ) {
    this.siteRoot = siteRoot;
    this.files = Object.freeze(files);
    this.errors = Object.freeze(errors);
    this.warnings = Object.freeze(warnings);
    this.levels = levels;
    this.env = env;
    this.urlCache = new Map();
  }

  /**
   * SiteConfig.load reads every web.config under siteRoot (recursively, skipping node_modules
   * and dot-folders) synchronously and merges them. It never throws: errors of bad files are
   * collected in `errors` and in the FolderConfig of the URLs they affect. `env` is the host
   * environment used for IISNODE_* overrides and `%VAR%` expansion (default process.env);
   * `host` the defaults of nodehost.yml, merged under the site's root web.config (its
   * `webConfig`, when given, is read as the first web.config of the root, not listed in `files`).
   * With `paths`, the folders of its applications and virtual directories are read at their URLs
   * too, so their web.config files inherit the site root's as IIS's do.
   */
  static load(siteRoot: string, env: NodeJS.ProcessEnv = process.env, host: HostDefaults = {}, paths?: SitePaths): SiteConfig {
    const root = path.resolve(siteRoot);
    const parsed: WebConfigFile[] = [];
    const errors: NodehostError[] = [];
    const base = host.webConfig;
    if (base !== undefined) parsed.push(parseWebConfig(base.text, base.file, '/', { isFile: (relative) => isRegularFile(path.join(root, relative)) }));
    try {
      for (const folder of walkSiteFolders(root, paths)) {
        const name = findWebConfig(folder);
        if (name !== undefined) parsed.push(readWebConfig(path.join(folder.dir, name), folder.url));
      }
    } catch (err) {
      errors.push(
        new NodehostError('NH_ERR_CONFIG_READ', `Cannot read the site folder ${root}: ${(err as Error).message}`, {
          cause: err,
          source: { file: root, line: 1 },
        }),
      );
    }
    const layers = collectLayers(parsed);
    for (const file of parsed) {
      errors.push(...file.errors, ...file.top.errors);
      for (const location of file.locations) errors.push(...location.sections.errors);
    }
    const warnings: ConfigWarning[] = [];
    const levels = mergeLevels(layers, errors, warnings, host);
    return new SiteConfig(
      root,
      parsed.filter((file) => file.file !== base?.file).map((file) => file.file),
      errors,
      warnings,
      levels,
      env,
    );
  }

  /**
   * forPath returns the frozen effective configuration for a URL path (decoded, normalised,
   * starting with `/`, e.g. `/a/b/hello.js`, `/a/b/` or `/`). Matching is case-insensitive.
   * A URL seen before costs one Map lookup.
   */
  forPath(urlPath: string): FolderConfig {
    const cached = this.urlCache.get(urlPath);
    if (cached !== undefined) return cached;
    const config = this.deepestLevel(urlPath);
    if (this.urlCache.size >= URL_CACHE_LIMIT) {
      const oldest = this.urlCache.keys().next();
      if (!oldest.done) this.urlCache.delete(oldest.value);
    }
    this.urlCache.set(urlPath, config);
    return config;
  }

  /**
   * resolveAppSettings returns the effective iisnode settings of the application whose entry
   * script is `scriptPath` (absolute), from `folder` (forPath of the script's URL): IISNODE_*
   * variables, then `%VAR%` expansion, then the configOverrides file (read fresh on every call;
   * the caller caches and watches `ymlFile`), then the CPU-count defaults. Never throws.
   */
  resolveAppSettings(scriptPath: string, folder: FolderConfig): ResolvedAppSettings {
    return resolveAppSettings(scriptPath, folder, this.env);
  }

  private deepestLevel(urlPath: string): FolderConfig {
    const lower = urlPath.toLowerCase();
    let best = this.levels.get('') as FolderConfig;
    let start = 1;
    while (start < lower.length) {
      const slash = lower.indexOf('/', start);
      const end = slash < 0 ? lower.length : slash;
      const level = this.levels.get(lower.slice(1, end));
      if (level !== undefined) best = level;
      if (slash < 0) break;
      start = slash + 1;
    }
    return best;
  }
}

/**
 * Orders the layers of every level. For a level: the `<location>` elements of ancestor files
 * that target it (outer files first, document order), then the level's own web.config (its
 * file-level errors, its top-level sections, then its own `<location path=".">` elements).
 */
function collectLayers(files: readonly WebConfigFile[]): Map<string, Layer[]> {
  const fromAncestors = new Map<string, Layer[]>();
  const own = new Map<string, Layer[]>();
  // `files` comes from a parents-first walk, so outer files are seen first.
  for (const file of files) {
    const level = levelKey(file.folderUrl);
    const ownLayers = getOrCreate(own, level);
    ownLayers.push({ errors: file.errors, sections: undefined }, { errors: [], sections: file.top });
    for (const location of file.locations) {
      const layer: Layer = { errors: [], sections: location.sections };
      if (location.relativePath === '') ownLayers.push(layer);
      else getOrCreate(fromAncestors, joinLevel(level, location.relativePath.toLowerCase())).push(layer);
    }
  }
  const layers = new Map<string, Layer[]>(fromAncestors);
  for (const [level, list] of own) layers.set(level, [...(layers.get(level) ?? []), ...list]);
  return layers;
}

/** Merges every level, parents first, each starting from its deepest configured ancestor. */
function mergeLevels(layers: Map<string, Layer[]>, errors: NodehostError[], warnings: ConfigWarning[], host: HostDefaults): Map<string, FolderConfig> {
  const keys = [...new Set(['', ...layers.keys()])].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  const states = new Map<string, FolderMerge>();
  const levels = new Map<string, FolderConfig>();
  const base = FolderMerge.base(host);
  for (const key of keys) {
    const state = (key === '' ? base : nearestAncestor(states, key)).child();
    for (const layer of layers.get(key) ?? []) {
      state.addErrors(layer.errors);
      if (layer.sections) errors.push(...state.apply(layer.sections, warnings));
    }
    states.set(key, state);
    levels.set(key, state.freeze());
  }
  return levels;
}

function nearestAncestor(states: Map<string, FolderMerge>, key: string): FolderMerge {
  let at = key;
  while (at !== '') {
    const slash = at.lastIndexOf('/');
    at = slash < 0 ? '' : at.slice(0, slash);
    const state = states.get(at);
    if (state) return state;
  }
  return states.get('') as FolderMerge;
}

/** The level key of a URL folder: lower case, without leading and trailing `/`. */
function levelKey(folderUrl: string): string {
  return folderUrl.slice(1, -1).toLowerCase();
}

function joinLevel(level: string, relative: string): string {
  return level === '' ? relative : `${level}/${relative}`;
}

function depth(key: string): number {
  if (key === '') return 0;
  let count = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 47) count++;
  return count;
}

function getOrCreate<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Finding the log folder a URL points into (spec 2.10: a log folder is served at its
 * application's folder URL + `/<logDirectory>/`). Two sources, cheapest first:
 * - the folders of the applications started so far (their effective logDirectory, including
 *   iisnode.yml and IISNODE_* values), given by the log capture;
 * - for every folder on the URL's path that has an iisnode handler mapping, the logDirectory
 *   of its web.config (or IISNODE_LOGDIRECTORY), so that logs written before a restart are
 *   served, and protected, before their application runs again.
 * Only log folders inside the site are reachable by URL; an absolute logDirectory outside it
 * is not served.
 */
import path from 'node:path';
import type { SitePaths } from '../../config/site-paths.js';
import type { FolderConfig, IisnodeSettings } from '../../config/types.js';

/** LogDirectorySource lists the absolute log folders of the running applications. */
export interface LogDirectorySource {
  directories(): Iterable<string>;
}

/** LocatedLogFolder is the log folder a URL is in, and what follows it. */
export interface LocatedLogFolder {
  /** URL of the folder, without the trailing slash (e.g. `/app/iisnode`). */
  readonly url: string;
  /** Absolute path of the folder. */
  readonly dir: string;
  /** Decoded URL path after `url + '/'` ('' for the folder itself); undefined when the URL is the folder without its slash. */
  readonly rest: string | undefined;
  /** Settings of the folder's configuration (for the quotas shown on a generated index). */
  readonly settings: Readonly<IisnodeSettings>;
}

/** SiteView is what locating needs of a site. */
export interface SiteView {
  readonly root: string;
  /** The site's applications and virtual directories; undefined: the root serves every URL. */
  readonly paths?: SitePaths | undefined;
  readonly config: { forPath(urlPath: string): FolderConfig };
}

/**
 * locateLogFolder returns the log folder that `urlPath` (decoded, normalised) is in, or
 * undefined. `envLogDirectory` is IISNODE_LOGDIRECTORY when set.
 */
export function locateLogFolder(
  urlPath: string,
  site: SiteView,
  source: LogDirectorySource | undefined,
  envLogDirectory: string | undefined,
): LocatedLogFolder | undefined {
  const root = site.root;
  if (source !== undefined) {
    for (const dir of source.directories()) {
      const url =
        site.paths !== undefined ? site.paths.urlOf(dir) : dir.startsWith(root + path.sep) ? dir.slice(root.length).split(path.sep).join('/') : undefined;
      if (url === undefined || url === '') continue;
      const found = match(urlPath, url, dir);
      if (found !== undefined) return { ...found, settings: site.config.forPath(url.slice(0, url.lastIndexOf('/') + 1)).iisnode };
    }
  }
  // Folder prefixes of the URL: '/', '/a/', '/a/b/', ...
  for (let slash = 0; slash !== -1 && slash < urlPath.length - 1; slash = urlPath.indexOf('/', slash + 1)) {
    const folderUrl = urlPath.slice(0, slash + 1);
    const config = site.config.forPath(folderUrl);
    const relative = folderLogDirectory(config, envLogDirectory);
    if (relative === undefined) continue;
    const url = folderUrl + relative;
    const found = match(urlPath, url, site.paths === undefined ? root + url : site.paths.physicalPath(url));
    if (found !== undefined) return { ...found, settings: config.iisnode };
  }
  return undefined;
}

function match(urlPath: string, url: string, dir: string): { url: string; dir: string; rest: string | undefined } | undefined {
  if (urlPath === url) return { url, dir, rest: undefined };
  if (urlPath.length > url.length && urlPath.startsWith(url) && urlPath.charCodeAt(url.length) === 0x2f)
    return { url, dir, rest: urlPath.slice(url.length + 1) };
  return undefined;
}

/**
 * The log folder (relative, `a/b`) of each folder configuration with an iisnode handler, or
 * null: configurations are frozen and replaced whole on reload, so the answer is computed once
 * per configuration and IISNODE_LOGDIRECTORY value, not per request.
 */
const folderLogDirectories = new WeakMap<FolderConfig, { readonly env: string | undefined; readonly relative: string | null }>();

/** folderLogDirectory is the relative log folder of a folder configuration that maps iisnode; undefined otherwise. */
function folderLogDirectory(config: FolderConfig, envLogDirectory: string | undefined): string | undefined {
  let known = folderLogDirectories.get(config);
  if (known === undefined || known.env !== envLogDirectory) {
    const relative = hasIisnodeHandler(config) ? relativeLogDirectory(envLogDirectory ?? config.iisnode.logDirectory) : undefined;
    known = { env: envLogDirectory, relative: relative ?? null };
    folderLogDirectories.set(config, known);
  }
  return known.relative ?? undefined;
}

function hasIisnodeHandler(config: FolderConfig): boolean {
  for (const handler of config.handlers) if (handler.modules.toLowerCase() === 'iisnode') return true;
  return false;
}

/** relativeLogDirectory normalises a relative logDirectory to `a/b` form; undefined when absolute or leaving its folder. */
function relativeLogDirectory(value: string): string | undefined {
  const trimmed = value.trim() === '' ? 'iisnode' : value.trim();
  if (path.isAbsolute(trimmed) || trimmed.includes('%')) return undefined;
  const normal = path.posix.normalize(trimmed.replaceAll('\\', '/')).replace(/\/+$/, '');
  if (normal === '.' || normal === '' || normal.startsWith('..')) return undefined;
  return normal;
}

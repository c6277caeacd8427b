/**
 * Walking a site's folders: where configuration files and node applications are looked for.
 * node_modules and dot-folders (.git, .vscode, ...) are skipped, and symbolic links to folders
 * are not followed, so a walk always ends and never leaves the site.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import type { SitePaths } from './site-paths.js';

/** SiteFolder is one folder of a site: its absolute path, its URL (ending in `/`) and its entries. */
export interface SiteFolder {
  readonly dir: string;
  readonly url: string;
  readonly entries: readonly Dirent[];
}

/**
 * walkSiteFolders lists the folders of a site from `siteRoot` down, parents before children,
 * siblings sorted by name. With `paths`, each mount's folder is walked at its URL after the
 * root, and a folder whose URL a mount serves is replaced by that mount's. Folders that cannot
 * be read are left out. When the root itself cannot be read, the error is thrown.
 */
export function walkSiteFolders(siteRoot: string, paths?: SitePaths): SiteFolder[] {
  const mountUrls = new Set(paths?.mounts.map((mount) => `${mount.url.toLowerCase()}/`));
  const folders = walkFrom(siteRoot, '/', mountUrls);
  // Shallow mounts first, so an application's folders come before its virtual directories'.
  for (const mount of [...(paths?.mounts ?? [])].reverse()) {
    try {
      folders.push(...walkFrom(mount.dir, `${mount.url}/`, mountUrls));
    } catch {
      // A missing mount folder serves nothing; its requests get 404 like any missing file.
    }
  }
  return folders;
}

function walkFrom(dir: string, url: string, mountUrls: ReadonlySet<string>): SiteFolder[] {
  const folders: SiteFolder[] = [];
  const rootEntries = readdirSync(dir, { withFileTypes: true });
  const queue: { dir: string; url: string; entries: Dirent[] }[] = [{ dir, url, entries: rootEntries }];
  for (let index = 0; index < queue.length; index++) {
    const folder = queue[index];
    if (!folder) break;
    folder.entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    folders.push(folder);
    for (const entry of folder.entries) {
      if (!entry.isDirectory() || isSkippedFolder(entry.name)) continue;
      const childUrl = `${folder.url}${entry.name}/`;
      if (mountUrls.has(childUrl.toLowerCase())) continue;
      const child = path.join(folder.dir, entry.name);
      try {
        queue.push({ dir: child, url: childUrl, entries: readdirSync(child, { withFileTypes: true }) });
      } catch {
        // An unreadable folder cannot be served either; leaving it out is all we can do.
      }
    }
  }
  return folders;
}

/** isSkippedFolder tells whether a folder name is one the walk does not enter. */
export function isSkippedFolder(name: string): boolean {
  return name.startsWith('.') || name.toLowerCase() === 'node_modules';
}

/**
 * isRegularFileEntry tells whether an entry is a file, following a symbolic link to see what
 * it points at (a site may link its web.config or entry script from elsewhere).
 */
export function isRegularFileEntry(dir: string, entry: Dirent): boolean {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(path.join(dir, entry.name)).isFile();
  } catch {
    return false;
  }
}

/**
 * findWebConfig returns the name of a folder's web.config. IIS runs on a case-insensitive file
 * system, so `Web.config` (as Visual Studio writes it) counts too; when several spellings
 * exist, `web.config` wins, then the first in name order.
 */
export function findWebConfig(folder: SiteFolder): string | undefined {
  let found: string | undefined;
  for (const entry of folder.entries) {
    if (entry.name.toLowerCase() !== 'web.config' || !isRegularFileEntry(folder.dir, entry)) continue;
    if (entry.name === 'web.config') return entry.name;
    found ??= entry.name;
  }
  return found;
}

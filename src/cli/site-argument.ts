/**
 * resolveSiteArgument finds what the `<site>` argument of `config get|set` and `rewrite test`
 * names: a site of nodehost.yml by its name, or a site folder, either optionally followed by a
 * URL path (`shop/node`, `./site/node`), as appcmd's "Default Web Site/node" names an
 * application of IIS.
 *
 * - nodehost.yml is the `--config` file, else `./nodehost.yml` when it exists. Its sites are the
 *   long form's `sites:` list, or the short form's one site (`name`, else its root folder's name).
 *   The longest site name that the argument is, or starts with followed by `/`, wins.
 * - Otherwise the argument is a folder path: the site root is the outermost folder on the path,
 *   as written, that has a web.config (the rest is the URL path), else the folder itself.
 * - The URL path maps to a folder as requests do: through the site's applications and virtual
 *   directories (`shop/node` is the folder of the `/node` application), else below the root.
 *
 * Throws NH_ERR_CONFIG_EDIT when nothing matches, or when the URL path leaves the site or names
 * no folder; a broken nodehost.yml throws its own error naming file:line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadHostConfig, type HostConfig } from '../config/host-config.js';
import { SitePaths } from '../config/site-paths.js';
import { NodehostError } from '../errors.js';

/** SiteArgument is where a `<site>` argument points. */
export interface SiteArgument {
  readonly root: string;
  /** The site's applications and virtual directories; undefined when it has none (a folder, the short form). */
  readonly paths: SitePaths | undefined;
  /** The URL path after the site (`/node`), `/` when none. */
  readonly urlPath: string;
  /** The folder that URL path maps to. */
  readonly dir: string;
  /** The host configuration that named the site; undefined when the argument was a folder. */
  readonly host: HostConfig | undefined;
}

/** resolveSiteArgument resolves `arg` (see the file comment); `configFile` is the `--config` flag. */
export function resolveSiteArgument(arg: string, configFile: string | undefined): SiteArgument {
  const hostFile = configFile ?? (fs.existsSync('nodehost.yml') ? 'nodehost.yml' : undefined);
  if (hostFile !== undefined) {
    const file = path.resolve(hostFile);
    const host = loadHostConfig(file);
    const named = sitesOf(host, file)
      .filter((site) => arg === site.name || arg.startsWith(`${site.name}/`))
      .sort((a, b) => b.name.length - a.name.length)[0];
    if (named !== undefined) return folderOf(named.root, named.paths, arg.slice(named.name.length), host);
  }
  const parts = arg.split('/');
  for (let count = 1; count <= parts.length; count++) {
    const prefix = parts.slice(0, count).join('/') || '/';
    if (fs.existsSync(path.join(prefix, 'web.config'))) return folderOf(path.resolve(prefix), undefined, `/${parts.slice(count).join('/')}`, undefined);
  }
  if (isDirectory(arg)) return folderOf(path.resolve(arg), undefined, '/', undefined);
  throw new NodehostError('NH_ERR_CONFIG_EDIT', `no site named '${arg}'${hostFile === undefined ? '' : ` in ${hostFile}`} and no such site folder`);
}

/** sitesOf lists the sites a host configuration names, each with its root and mounts. */
function sitesOf(host: HostConfig, file: string): { name: string; root: string; paths: SitePaths | undefined }[] {
  if (host.sites !== undefined)
    return host.sites.map((site) => ({
      name: site.name,
      root: site.root,
      paths: site.mounts.length === 0 ? undefined : new SitePaths(site.root, site.mounts),
    }));
  const root = host.root ?? path.dirname(file);
  return [{ name: host.name ?? path.basename(root), root, paths: undefined }];
}

function folderOf(root: string, paths: SitePaths | undefined, urlPath: string, host: HostConfig | undefined): SiteArgument {
  const clean = `/${urlPath
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/')}`;
  if (clean.split('/').includes('..')) throw new NodehostError('NH_ERR_CONFIG_EDIT', `the URL path ${urlPath} leaves the site`);
  const dir = path.join(paths === undefined ? path.join(root, clean) : paths.physicalPath(clean));
  if (!isDirectory(dir)) throw new NodehostError('NH_ERR_CONFIG_EDIT', `the site ${root} has no folder ${clean} (${dir})`);
  return { root, paths, urlPath: clean, dir, host };
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

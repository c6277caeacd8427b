/**
 * The symbolic-link gate of the static file handler (nodehost.yml `followSymlinks`, nginx's
 * `disable_symlinks`): a site copied from Windows never expected links, so by default a file is
 * served only when the path it resolves to stays inside the site folder.
 */
import { realpath } from 'node:fs/promises';
import type { FollowSymlinks } from '../../config/host-config.js';

/** The resolved site folders, by site root as configured (one or two per process). */
const realRoots = new Map<string, Promise<string>>();

/**
 * isLinkAllowed says whether `physicalPath` (under `siteRoot`: the site folder, or the folder of
 * the application or virtual directory serving it) may be served under `policy`: `always`
 * allows every link; `inside` a path whose resolved target is inside that resolved folder;
 * `never` only a path with no link below it. A path that does not resolve
 * is allowed here: the stat that follows reports it as missing.
 */
export async function isLinkAllowed(siteRoot: string, physicalPath: string, policy: FollowSymlinks): Promise<boolean> {
  if (policy === 'always') return true;
  let real: string;
  try {
    real = await realpath(physicalPath);
  } catch {
    return true;
  }
  let root = realRoots.get(siteRoot);
  if (root === undefined) {
    root = realpath(siteRoot).catch(() => siteRoot);
    realRoots.set(siteRoot, root);
  }
  const realRoot = await root;
  if (policy === 'never') return real === realRoot + physicalPath.slice(siteRoot.length);
  return real === realRoot || real.startsWith(realRoot.endsWith('/') ? realRoot : realRoot + '/');
}

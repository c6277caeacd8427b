/**
 * The symbolic-link gate of the static file handler (nodehost.yml `followSymlinks`, nginx's
 * `disable_symlinks`): a site copied from Windows never expected links, so by default a file is
 * served only when the path it resolves to stays inside the site folder.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import type { FollowSymlinks } from '../../config/host-config.js';

/** The resolved site folders, by site root as configured (one or two per process). */
const realRoots = new Map<string, Promise<string>>();

/**
 * isLinkAllowed says whether `physicalPath` (under `siteRoot`: the site folder, or the folder of
 * the application or virtual directory serving it) may be served under `policy`: `always`
 * allows every link; `inside` a path whose resolved target is inside that resolved folder;
 * `never` only a path with no link below it; `ownerMatch` a path each of whose links below it
 * has the owner of what it points to. A path that does not resolve is allowed here: the stat
 * that follows reports it as missing.
 */
export async function isLinkAllowed(siteRoot: string, physicalPath: string, policy: FollowSymlinks): Promise<boolean> {
  if (policy === 'always') return true;
  if (policy === 'ownerMatch') return isOwnerMatched(siteRoot, physicalPath);
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

/**
 * isOwnerMatched walks the path below `siteRoot` a segment at a time: a segment that is a link
 * must have the same owner uid as what it finally resolves to (Apache's SymLinksIfOwnerMatch;
 * nginx's `disable_symlinks if_not_owner` compares each component the same way). So a user
 * who can write in the site can link only to files they own, not to /etc/shadow or another
 * user's files. A segment that does not exist, or a link that leads nowhere, ends the walk.
 */
async function isOwnerMatched(siteRoot: string, physicalPath: string): Promise<boolean> {
  let at = siteRoot.endsWith('/') ? siteRoot.slice(0, -1) : siteRoot;
  for (const segment of physicalPath.slice(at.length).split('/')) {
    if (segment === '') continue;
    at += '/' + segment;
    try {
      const link = await lstat(at);
      if (link.isSymbolicLink() && (await stat(at)).uid !== link.uid) return false;
    } catch {
      return true;
    }
  }
  return true;
}

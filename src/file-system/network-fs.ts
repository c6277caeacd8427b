/**
 * Deciding whether a folder lives on a network file system, where inotify sees only the
 * changes made on this machine: there nodehost polls instead (spec/iisnode.md 1.4, "UNC paths
 * are polled"). The answer comes from the file-system type of the folder's mount in /proc/mounts.
 */
import fs from 'node:fs';
import path from 'node:path';

/** File-system types whose changes inotify does not report reliably. */
const NETWORK_TYPES = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smbfs',
  'smb3',
  'ncpfs',
  'afs',
  '9p',
  'ceph',
  'glusterfs',
  'lustre',
  'gpfs',
  'beegfs',
  'davfs',
  'virtiofs',
]);

interface Mount {
  readonly point: string;
  readonly type: string;
}

/** isNetworkFileSystemType tells whether a /proc/mounts type names a network file system. */
export function isNetworkFileSystemType(type: string): boolean {
  if (NETWORK_TYPES.has(type) || type.startsWith('smb') || type.startsWith('nfs')) return true;
  // FUSE file systems that reach another machine (sshfs, rclone, s3fs, gcsfuse, ...).
  return /^fuse\.(sshfs|rclone|s3fs|gcsfuse|goofys|glusterfs|cephfs|davfs|smbnetfs|curlftpfs)/.test(type);
}

/**
 * parseMounts reads the mount point and type of each line of /proc/mounts text (octal escapes
 * such as `\040` for a space are decoded).
 */
export function parseMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 3) continue;
    const point = fields[1]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    mounts.push({ point, type: fields[2]! });
  }
  return mounts;
}

/**
 * fileSystemTypeOf returns the type of the mount holding `dir` (the longest mount point that
 * contains it, after resolving symbolic links of the nearest existing ancestor), or '' when
 * /proc/mounts cannot be read.
 */
export function fileSystemTypeOf(dir: string, mountsText?: string): string {
  let text = mountsText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/mounts', 'utf8');
    } catch {
      return '';
    }
  }
  const real = realExistingPath(dir);
  let best: Mount | undefined;
  for (const mount of parseMounts(text)) {
    const point = mount.point;
    const inside = real === point || point === '/' || real.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (inside && (best === undefined || point.length >= best.point.length)) best = mount;
  }
  return best?.type ?? '';
}

/** isOnNetworkFileSystem tells whether `dir` is on a network file system (see isNetworkFileSystemType). */
export function isOnNetworkFileSystem(dir: string): boolean {
  return isNetworkFileSystemType(fileSystemTypeOf(dir));
}

/** realExistingPath resolves the symbolic links of the nearest existing ancestor and keeps the rest as written. */
function realExistingPath(dir: string): string {
  let at = path.resolve(dir);
  let rest = '';
  for (;;) {
    try {
      return path.join(fs.realpathSync(at), rest);
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return path.join(at, rest);
      rest = path.join(path.basename(at), rest);
      at = parent;
    }
  }
}

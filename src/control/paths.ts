/**
 * Where a running nodehost keeps its control socket and pid file (DESIGN §5): a private folder
 * `<tmp>/nodehost-<uid>/` (mode 0700, so file permissions decide who may control the server),
 * with `<key>.sock` and `<key>.pid` named after the site root, so `nodehost recycle <siteRoot>`
 * finds the server of that site without being told a path.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/** ControlPaths names the files of one site's control endpoint. */
export interface ControlPaths {
  readonly dir: string;
  readonly socketPath: string;
  readonly pidFile: string;
}

/** PidFileContent is what the pid file holds (one JSON object). */
export interface PidFileContent {
  readonly pid: number;
  readonly socket: string;
  readonly siteRoot: string;
  readonly url: string;
}

/** controlPaths returns the control files of the site at `siteRoot` (resolved through symbolic links when it exists). */
export function controlPaths(siteRoot: string, base = os.tmpdir()): ControlPaths {
  let root = path.resolve(siteRoot);
  try {
    root = fs.realpathSync(root);
  } catch {
    // A missing root still gets a stable name; the client reports that no server runs.
  }
  const key = createHash('sha256').update(root).digest('hex').slice(0, 16);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  let dir = path.join(base, `nodehost-${uid}`);
  if (Buffer.byteLength(path.join(dir, `${key}.sock`)) > MAX_SOCKET_PATH_BYTES) dir = path.join('/tmp', `nodehost-${uid}`);
  return { dir, socketPath: path.join(dir, `${key}.sock`), pidFile: path.join(dir, `${key}.pid`) };
}

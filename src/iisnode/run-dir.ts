/**
 * RunDir is the private folder that holds the Unix sockets of one AppHost's workers, e.g.
 * `/tmp/nh-4242-1/w17.sock`. Socket paths are limited to 107 bytes on Linux, so the folder
 * name is kept short and falls back to /tmp when the temp folder's path is long. The folder
 * is created with mode 0700 so that other users cannot connect to the workers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Longest socket path Linux accepts (sun_path is 108 bytes including the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;
/** Room left for the socket file name (`w<id>.sock`, ids up to 10 digits). */
const SOCKET_NAME_ROOM = 17;

let hostSequence = 0;

export class RunDir {
  /** path is the absolute folder; it exists only between the first socketPath() and remove(). */
  readonly path: string;
  #nextId = 1;
  #isCreated = false;

  /** The constructor has no side effects; the folder is created on first use. */
  constructor(base = os.tmpdir()) {
    hostSequence++;
    const name = `nh-${process.pid}-${hostSequence}`;
    const preferred = path.join(base, name);
    this.path = Buffer.byteLength(preferred) + SOCKET_NAME_ROOM <= MAX_SOCKET_PATH_BYTES ? preferred : path.join('/tmp', name);
  }

  /** nextSocket allocates a worker id and its socket path, creating the folder when needed. */
  nextSocket(): { id: number; socketPath: string } {
    if (!this.#isCreated) this.#create();
    const id = this.#nextId++;
    return { id, socketPath: path.join(this.path, `w${id}.sock`) };
  }

  /** remove deletes the folder and any sockets left in it. Idempotent; never throws. */
  remove(): void {
    if (!this.#isCreated) return;
    this.#isCreated = false;
    try {
      fs.rmSync(this.path, { recursive: true, force: true });
    } catch {
      // Best effort: a leftover folder is swept by the next host (sweepStaleRunDirs).
    }
  }

  #create(): void {
    sweepStaleRunDirs(path.dirname(this.path));
    // A folder left by an earlier process with our pid is stale by definition.
    fs.rmSync(this.path, { recursive: true, force: true });
    fs.mkdirSync(this.path, { recursive: true, mode: 0o700 });
    this.#isCreated = true;
  }
}

/**
 * sweepStaleRunDirs removes `nh-<pid>-<n>` folders of processes that no longer exist (a host
 * that was killed could not clean up). Best effort, never throws.
 */
export function sweepStaleRunDirs(base: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^nh-(\d+)-\d+$/.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      fs.rmSync(path.join(base, name), { recursive: true, force: true });
    } catch {
      // Someone else's folder we may not remove: leave it.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

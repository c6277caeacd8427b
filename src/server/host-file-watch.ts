/**
 * watchHostFile calls `onChange` when nodehost.yml changes, once each save has settled. Editors
 * replace the file (write a new one, rename it over the old), so its folder is watched, not the
 * file. The one process that applies reloads watches: the server with one host process, the
 * front doors' primary with several (which then asks every front door to re-read it).
 */
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { HostLog } from '../host-log.js';

/** How long nodehost.yml must stay unchanged after an event before it is re-read. */
const SETTLE_MS = 100;

/** HostFileWatch is a running watch; `close()` ends it (idempotent). */
export interface HostFileWatch {
  close(): void;
}

/** watchHostFile starts watching `file`; undefined (and a warning in the host log) when it cannot be watched. */
export function watchHostFile(file: string, onChange: () => void, log: HostLog): HostFileWatch | undefined {
  let timer: NodeJS.Timeout | undefined;
  try {
    const watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name !== null && name.toString() !== basename(file)) return;
      // A save is a burst of events (truncate, write, rename): read once it has settled.
      clearTimeout(timer);
      timer = setTimeout(onChange, SETTLE_MS);
      timer.unref();
    });
    watcher.on('error', () => watcher.close());
    return {
      close: () => {
        clearTimeout(timer);
        watcher.close();
      },
    };
  } catch (err) {
    log.warn('host config not watched', { file, error: (err as Error).message });
    return undefined;
  }
}

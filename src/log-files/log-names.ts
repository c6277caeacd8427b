/**
 * Names and listings of worker log files (DESIGN §4, spec 2.10):
 * `<hostname>-<pid>-<stdout|stderr>-<ms since epoch>.txt` in an application's log folder,
 * beside the folder's `index.html`.
 */
import fs from 'node:fs';
import path from 'node:path';

/** LOG_FILE_PATTERN matches a worker log file name; groups: host, pid, stream, created ms. */
export const LOG_FILE_PATTERN = /^(.+)-(\d+)-(stdout|stderr)-(\d+)\.txt$/;

/** INDEX_FILE is the name of the generated listing in every log folder. */
export const INDEX_FILE = 'index.html';

/** LogFileInfo describes one log file on disk. */
export interface LogFileInfo {
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  readonly stream: 'stdout' | 'stderr';
  /** Creation time from the name (ms since epoch). */
  readonly created: number;
  readonly size: number;
  /** Last modification time (ms since epoch). */
  readonly modified: number;
}

/** ParsedLogName is what a log file name says about its file. */
export interface ParsedLogName {
  readonly host: string;
  readonly pid: number;
  readonly stream: 'stdout' | 'stderr';
  readonly created: number;
}

/** parseLogFileName reads a log file name; undefined for any other name (index.html, user files). */
export function parseLogFileName(name: string): ParsedLogName | undefined {
  const match = LOG_FILE_PATTERN.exec(name);
  if (match === null) return undefined;
  return { host: match[1]!, pid: Number(match[2]), stream: match[3] as 'stdout' | 'stderr', created: Number(match[4]) };
}

/** formatLogFileName builds a log file name; the host name's path separators are replaced so the name stays one segment. */
export function formatLogFileName(host: string, pid: number, stream: 'stdout' | 'stderr', created: number): string {
  return `${host.replace(/[/\\]/g, '_')}-${pid}-${stream}-${created}.txt`;
}

/**
 * listLogFiles lists the log files of a folder, newest first (by creation time, then name).
 * Files that vanish while being listed are skipped; a missing folder gives an empty list.
 */
export async function listLogFiles(dir: string): Promise<LogFileInfo[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const infos: LogFileInfo[] = [];
  await Promise.all(
    names.map(async (name) => {
      const parsed = parseLogFileName(name);
      if (parsed === undefined) return;
      try {
        const stat = await fs.promises.stat(path.join(dir, name));
        if (stat.isFile()) infos.push({ name, ...parsed, size: stat.size, modified: stat.mtimeMs });
      } catch {
        // Deleted by a quota purge between readdir and stat.
      }
    }),
  );
  return infos.sort(newestFirst);
}

function newestFirst(a: LogFileInfo, b: LogFileInfo): number {
  return b.created - a.created || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);
}

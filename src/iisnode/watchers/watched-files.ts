/**
 * The `watchedFiles` syntax (spec/iisnode.md 1.4): a `;`-separated list of entries relative to
 * the folder of the entry script. An entry is an optional sub-folder path plus a file name;
 * `*` and `?` are wildcards in the file name only. Watching is not recursive, so each entry
 * names exactly one folder. Entries whose file name is `web.config` are skipped (the server
 * reloads the configuration for those).
 */
import path from 'node:path';
import { wildcardToRegex } from '../../config/wildcard-to-regex.js';

/** WatchedFolder is one folder to watch and the file-name patterns that matter in it. */
export interface WatchedFolder {
  /** Absolute folder path. */
  readonly dir: string;
  /** Compiled file-name patterns (anchored, case-sensitive as Linux file names are). */
  readonly patterns: readonly RegExp[];
}

/**
 * parseWatchedFiles turns a watchedFiles value into one entry per distinct folder, in order
 * of first appearance. Backslashes are accepted as separators (web.config files written for
 * Windows use them). Empty entries and entries with a wildcard in the folder part (not
 * allowed by the syntax) are ignored. Never throws.
 */
export function parseWatchedFiles(value: string, scriptDir: string): WatchedFolder[] {
  const byDir = new Map<string, RegExp[]>();
  for (const raw of value.split(';')) {
    const entry = raw.trim().replace(/\\/g, '/');
    if (entry === '') continue;
    const slash = entry.lastIndexOf('/');
    const folderPart = slash < 0 ? '' : entry.slice(0, slash);
    const name = slash < 0 ? entry : entry.slice(slash + 1);
    if (name === '' || /[*?]/.test(folderPart)) continue;
    if (name.toLowerCase().endsWith('web.config')) continue;
    const dir = path.resolve(scriptDir, folderPart);
    let list = byDir.get(dir);
    if (list === undefined) {
      list = [];
      byDir.set(dir, list);
    }
    list.push(compileNamePattern(name));
  }
  return [...byDir].map(([dir, patterns]) => ({ dir, patterns }));
}

/** compileNamePattern compiles a file name with `*` (any run of characters) and `?` (one character), case-sensitively. */
export function compileNamePattern(name: string): RegExp {
  return new RegExp(wildcardToRegex(name), 's');
}

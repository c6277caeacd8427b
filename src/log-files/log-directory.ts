/**
 * Where an application's worker output is written: shared by the capture (iisnode), the log
 * folder module and the `nodehost logs` command.
 */
import path from 'node:path';

/**
 * resolveLogDirectory gives the absolute log folder of an application: logDirectory resolved
 * against the entry script's folder (absolute values are kept), `iisnode` when empty.
 */
export function resolveLogDirectory(scriptPath: string, logDirectory: string): string {
  return path.resolve(path.dirname(scriptPath), logDirectory.trim() === '' ? 'iisnode' : logDirectory.trim());
}

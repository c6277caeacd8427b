/**
 * `nodehost serve app.js`: a script instead of a site folder, the way `pm2 start app.js` runs
 * one. Its folder becomes the site, with the web.config that Kudu wrote for node sites
 * (config/app-web-config.ts) merged in memory: nothing is written to the folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { appWebConfig } from '../config/app-web-config.js';
import type { BaseWebConfig } from '../config/site-config.js';
import { findWebConfig } from '../config/site-files.js';
import { NodehostError } from '../errors.js';

/** ScriptSite is the folder to serve and the web.config it is served with. */
export interface ScriptSite {
  readonly siteRoot: string;
  readonly baseConfig: BaseWebConfig;
}

/** parseProcesses reads `-i N` as pm2 does: a count, or `0` / `max` for one process per CPU. */
export function parseProcesses(value: string): number {
  if (value === 'max') return 0;
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a number of processes, or 'max' (one per CPU)");
  return Number(value);
}

/** isScriptPath tells whether a serve argument names a file rather than a folder. */
export function isScriptPath(arg: string): boolean {
  try {
    return fs.statSync(arg).isFile();
  } catch {
    return false;
  }
}

/**
 * siteRootOf is the site folder a command names: the folder itself, or the folder of a script
 * served with `nodehost serve app.js`, so `nodehost status app.js` finds that server.
 */
export function siteRootOf(arg: string | undefined): string {
  const target = path.resolve(arg ?? '.');
  return isScriptPath(target) ? path.dirname(target) : target;
}

/**
 * scriptSite makes the site of one script. A folder that has its own web.config is refused:
 * its configuration decides what the application is, so the folder is what to serve.
 */
export function scriptSite(scriptArg: string, processes: number | undefined): ScriptSite {
  const script = path.resolve(scriptArg);
  const siteRoot = path.dirname(script);
  const name = path.basename(script);
  const existing = findWebConfig({ dir: siteRoot, url: '/', entries: fs.readdirSync(siteRoot, { withFileTypes: true }) });
  if (existing !== undefined) {
    throw new NodehostError(
      'NH_ERR_CLI_USAGE',
      `${path.join(siteRoot, existing)} already says how the folder is served: run 'nodehost serve ${siteRoot}' instead of naming ${name}`,
    );
  }
  return { siteRoot, baseConfig: { file: `web.config generated for ${name}`, text: appWebConfig({ script: name, processes }) } };
}

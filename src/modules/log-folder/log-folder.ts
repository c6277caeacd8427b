/**
 * The log-folder pipeline module (phase 'map-handler', before handler mapping): it claims the
 * URLs of application log folders (`<app folder URL>/<logDirectory>/...`, spec 2.10), ahead
 * of any handler mapping (a catch-all `*` mapped to iisnode does not swallow them), and
 * - refuses clients that are neither on this machine nor authenticated by the site with 403
 *   (DESIGN §4; ctx.maySeeInternals: an authenticated user here is one the authorization
 *   rules allowed);
 * - redirects the folder without its slash to the folder with it (301);
 * - serves `index.html` for the folder (a generated one when no log was written yet), and
 *   every file in it through the static file handler (`.txt` as text/plain, with ETag and
 *   ranges), with `Cache-Control: no-cache`;
 * - answers `events` with the server-sent events of the live index page, and
 *   `tail?file=<name>` with the live tail of a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readEnvOverrides } from '../../config/env-overrides.js';
import { renderIndexPage } from '../../log-files/index-page.js';
import { INDEX_FILE, listLogFiles } from '../../log-files/log-names.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import { fail } from '../../http/error-outcome.js';
import { FolderEvents } from './folder-events.js';
import { locateLogFolder, type LocatedLogFolder, type LogDirectorySource, type SiteView } from './locate-log-folder.js';
import { serveTail } from './tail-stream.js';

/** LogFolderModule is the pipeline module plus `close()`, which ends the live streams (events and tails). */
export interface LogFolderModule extends PipelineModule {
  close(): void;
}

/**
 * createLogFolderModule builds the module for a site. `source` lists the log folders of the
 * running applications; `env` gives IISNODE_LOGDIRECTORY (process.env by default).
 */
export function createLogFolderModule(site: SiteView, source: LogDirectorySource | undefined, env: NodeJS.ProcessEnv = process.env): LogFolderModule {
  const overrides = readEnvOverrides(env).values as { logDirectory?: string };
  const envLogDirectory = overrides.logDirectory;
  const events = new FolderEvents();
  const tails = new Set<() => void>();
  return {
    id: 'log-folder',
    phase: 'map-handler',
    handle: (ctx: RequestContext): Outcome | Promise<Outcome> => {
      const folder = locateLogFolder(ctx.path, site, source, envLogDirectory);
      if (folder === undefined) return 'continue';
      return serveLogFolder(ctx, folder, events, tails);
    },
    close: () => {
      events.close();
      for (const finish of [...tails]) finish();
    },
  };
}

async function serveLogFolder(ctx: RequestContext, folder: LocatedLogFolder, events: FolderEvents, tails: Set<() => void>): Promise<Outcome> {
  if (!ctx.maySeeInternals) {
    return fail('NH_ERR_LOGS_REMOTE');
  }
  const res = ctx.res;
  if (folder.rest === undefined) {
    const query = ctx.rawUrl.indexOf('?');
    const target = (query === -1 ? ctx.rawUrl : ctx.rawUrl.slice(0, query)) + '/' + (query === -1 ? '' : ctx.rawUrl.slice(query));
    ctx.status = 301;
    res.writeHead(301, { Location: target, 'Content-Length': 0 });
    res.end();
    return 'finish';
  }
  const rest = folder.rest;
  if (rest === 'events') {
    events.subscribe(res, folder.dir);
    ctx.status = 200;
    await new Promise<void>((resolve) => res.once('close', resolve));
    return 'finish';
  }
  if (rest === 'tail') {
    await serveTail(ctx, folder.dir, tails);
    return 'finish';
  }
  const name = rest === '' ? INDEX_FILE : rest;
  const file = path.join(folder.dir, name);
  if (name === INDEX_FILE && !(await exists(file))) {
    await sendGeneratedIndex(ctx, folder);
    return 'finish';
  }
  // Everything else is a static file of the folder.
  res.setHeader('Cache-Control', 'no-cache');
  ctx.handler = 'static';
  ctx.path = folder.url + '/' + name;
  ctx.physicalPath = file;
  return 'next-phase';
}

/** sendGeneratedIndex answers the index of a folder that has no index.html yet (no log written so far). */
async function sendGeneratedIndex(ctx: RequestContext, folder: LocatedLogFolder): Promise<void> {
  const settings = folder.settings;
  const html = renderIndexPage(await listLogFiles(folder.dir), {
    title: path.dirname(folder.dir),
    maxLogFiles: settings.maxLogFiles,
    maxTotalLogFileSizeInKB: settings.maxTotalLogFileSizeInKB,
    maxLogFileSizeInKB: settings.maxLogFileSizeInKB,
    updated: Date.now(),
  });
  ctx.status = 200;
  ctx.res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', 'Content-Length': Buffer.byteLength(html) });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : html);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}

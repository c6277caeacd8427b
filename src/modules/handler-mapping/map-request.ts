/**
 * The map-handler phase: handler mapping picks iisnode or static; a directory served
 * statically goes through the default document, whose result is mapped again (so `index.js`
 * mapped to iisnode runs node). What it needs of the other modules (the default document,
 * the static file cache) is handed to it when the site is built.
 */
import { stat } from 'node:fs/promises';
import { mapHandler } from './handler-mapping.js';
import type { DirectoryOutcome } from '../default-document/resolve-directory.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import type { SiteHandle } from '../../http/site-handle.js';

/** DirectoryResolver answers a request for a directory: a redirect or error (finished), or a default document to map. */
export type DirectoryResolver = (ctx: RequestContext) => Promise<DirectoryOutcome>;

/** MapHandlerDependencies are what the map-handler step asks of other modules. */
export interface MapHandlerDependencies {
  /** Answers a request for a directory (the default-document module). */
  readonly resolveDirectory: DirectoryResolver;
  /** True for a path known to be a regular file (held by the static file cache): no stat needed. */
  readonly isKnownFile: (physicalPath: string) => boolean;
}

/** createMapHandlerModule builds the map-handler step for a site. */
export function createMapHandlerModule(site: SiteHandle, dependencies: MapHandlerDependencies): PipelineModule {
  return {
    id: 'handler-mapping',
    phase: 'map-handler',
    handle: (ctx) => mapRequest(ctx, site, dependencies),
  };
}

async function mapRequest(ctx: RequestContext, site: SiteHandle, { resolveDirectory, isKnownFile }: MapHandlerDependencies): Promise<Outcome> {
  const configFor = (urlPath: string) => site.config.forPath(urlPath);
  // A default document keeps the list's spelling in the URL but its on-disk name here.
  let documentPath: string | undefined;
  // At most one default-document hop: a default document that is itself a directory is not followed.
  for (let hop = 0; hop < 2; hop++) {
    const match = mapHandler(ctx.path, ctx.req.method ?? 'GET', ctx.config!, configFor, (urlPath) => ctx.mapPath(urlPath));
    if (match.kind === 'iisnode') {
      ctx.handler = 'iisnode';
      ctx.scriptUrl = match.scriptUrl;
      ctx.pathInfo = match.pathInfo;
      ctx.scriptPath = documentPath !== undefined && match.pathInfo === '' ? documentPath : ctx.mapPath(match.scriptUrl);
      ctx.physicalPath = ctx.scriptPath;
      // The script's own folder configures the application, not the path-info URL's.
      if (match.pathInfo !== '') ctx.config = configFor(match.scriptUrl);
      return 'continue';
    }
    ctx.handler = 'static';
    ctx.physicalPath = documentPath ?? ctx.mapPath(ctx.path);
    if (hop === 1 || isKnownFile(ctx.physicalPath) || !(await isDirectory(ctx.physicalPath))) return 'continue';
    const outcome = await resolveDirectory(ctx);
    if (outcome.kind === 'finished') return 'finish';
    ctx.path = outcome.urlPath;
    documentPath = outcome.physicalPath;
    ctx.config = configFor(outcome.urlPath);
  }
  return 'continue';
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The map-handler phase: handler mapping picks iisnode or static; a directory served
 * statically goes through the default document, whose result is mapped again (so `index.js`
 * mapped to iisnode runs node). What it needs of the other modules (the default document,
 * the static file cache) is handed to it when the site is built.
 */
import { stat } from 'node:fs/promises';
import { mapHandler, type HandlerMatch } from './handler-mapping.js';
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

/**
 * mapRequest maps ctx's URL to its handler. It answers synchronously when no directory can be
 * involved (a node application, or a file the static cache holds: the hot cases); otherwise
 * it stats, asynchronously, and may go through the default document (mapDirectory).
 */
function mapRequest(ctx: RequestContext, site: SiteHandle, dependencies: MapHandlerDependencies): Outcome | Promise<Outcome> {
  const match = handlerOf(ctx, site);
  if (match.kind === 'iisnode') {
    useIisnode(ctx, site, match, undefined);
    return 'continue';
  }
  ctx.handler = 'static';
  ctx.physicalPath = ctx.mapPath(ctx.path);
  if (dependencies.isKnownFile(ctx.physicalPath)) return 'continue';
  return mapDirectory(ctx, site, dependencies);
}

/** handlerOf is the handler mapping of ctx's current URL, in its configuration. */
function handlerOf(ctx: RequestContext, site: SiteHandle): HandlerMatch {
  return mapHandler(
    ctx.path,
    ctx.req.method ?? 'GET',
    ctx.config!,
    (urlPath) => site.config.forPath(urlPath),
    (urlPath) => ctx.mapPath(urlPath),
  );
}

/** useIisnode gives the request to the node application `match` names. */
function useIisnode(ctx: RequestContext, site: SiteHandle, match: HandlerMatch & { kind: 'iisnode' }, documentPath: string | undefined): void {
  ctx.handler = 'iisnode';
  ctx.scriptUrl = match.scriptUrl;
  ctx.pathInfo = match.pathInfo;
  ctx.scriptPath = documentPath !== undefined && match.pathInfo === '' ? documentPath : ctx.mapPath(match.scriptUrl);
  ctx.physicalPath = ctx.scriptPath;
  // The script's own folder configures the application, not the path-info URL's.
  if (match.pathInfo !== '') ctx.config = site.config.forPath(match.scriptUrl);
}

/** mapDirectory finishes the mapping of a static URL that may name a directory: its default document, mapped again. */
async function mapDirectory(ctx: RequestContext, site: SiteHandle, { resolveDirectory }: MapHandlerDependencies): Promise<Outcome> {
  if (!(await isDirectory(ctx.physicalPath))) return 'continue';
  const outcome = await resolveDirectory(ctx);
  if (outcome.kind === 'finished') return 'finish';
  ctx.path = outcome.urlPath;
  // A default document keeps the list's spelling in the URL but its on-disk name here.
  const documentPath = outcome.physicalPath;
  ctx.config = site.config.forPath(outcome.urlPath);
  // At most one default-document hop: a default document that is itself a directory is not followed.
  const match = handlerOf(ctx, site);
  if (match.kind === 'iisnode') {
    useIisnode(ctx, site, match, documentPath);
    return 'continue';
  }
  ctx.handler = 'static';
  ctx.physicalPath = documentPath;
  return 'continue';
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

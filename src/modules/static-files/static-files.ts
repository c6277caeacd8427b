/**
 * The static-files pipeline module: the 'execute' phase handler for requests that handler
 * mapping gave to the static handler.
 */
import type { RequestContext } from '../../http/request-context.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import { fileCache } from './file-cache.js';
import { ANSWERED, serveStatic } from './serve-static.js';

/**
 * handleStaticFiles serves the request with serveStatic when ctx.handler is 'static'
 * ('finish' once the response is complete; at once when it was answered synchronously), and
 * passes every other request on ('continue') without allocating a promise.
 */
export function handleStaticFiles(ctx: RequestContext): Outcome | Promise<Outcome> {
  if (ctx.handler !== 'static') return 'continue';
  const serving = serveStatic(ctx);
  // A file from memory is answered already: finishing now spares the engine a promise turn.
  return serving === ANSWERED ? 'finish' : serving.then(finished);
}

function finished(): Outcome {
  return 'finish';
}

/** staticFiles is the pipeline module of the static file handler, phase 'execute'. */
export const staticFiles = {
  id: 'static-files',
  phase: 'execute',
  handle: handleStaticFiles,
} as const satisfies PipelineModule;

/** isCachedStaticFile is true for a path the static file cache holds: a regular file, not a directory. */
export function isCachedStaticFile(physicalPath: string): boolean {
  return fileCache.has(physicalPath);
}

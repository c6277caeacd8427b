/**
 * The one list of built-in pipeline modules (STYLE 4). Order within a phase is the order
 * here; the phases themselves run in IIS order (module.ts).
 */
import type { AppHost } from '../iisnode/app-host.js';
import { createIisnodeModule } from '../iisnode/iisnode-module.js';
import { createMapHandlerModule } from '../modules/handler-mapping/map-request.js';
import { createAccessLogModule, type AccessLog } from '../modules/access-log/access-log.js';
import { resolveDirectory } from '../modules/default-document/resolve-directory.js';
import { requestFiltering } from '../modules/request-filtering/request-filtering.js';
import { isCachedStaticFile, staticFiles } from '../modules/static-files/static-files.js';
import { outboundRewrite } from '../modules/url-rewrite/outbound.js';
import { customHeaders } from '../modules/custom-headers/custom-headers.js';
import { httpErrorsFilter } from '../modules/custom-errors/http-errors-filter.js';
import { createUrlRewriteModule } from '../modules/url-rewrite/url-rewrite.js';
import type { PipelineModule } from '../http/pipeline-module.js';
import type { ResponseFilter } from '../http/response-filter.js';
import type { SiteHandle } from '../http/site-handle.js';

/** builtinModules builds a site's module list: filtering, handler mapping, then the two handlers. */
export function builtinModules(site: SiteHandle, appHost: AppHost, services: SiteServices = {}): PipelineModule[] {
  return [
    requestFiltering,
    // Runs the host's global rules first when it has some (site.globalRules), then web.config's.
    createUrlRewriteModule(site),
    // Log folders are claimed before handler mapping, so a catch-all handler does not swallow them.
    ...(services.logFolder === undefined ? [] : [services.logFolder]),
    createMapHandlerModule(site, { resolveDirectory, isKnownFile: isCachedStaticFile }),
    createIisnodeModule(appHost),
    staticFiles,
    ...(services.accessLog === undefined ? [] : [createAccessLogModule(services.accessLog)]),
  ];
}

/** SiteServices are what some modules need from the server; a module whose service is absent is left out. */
export interface SiteServices {
  /** The log-folder module (the server makes it, to end its live streams on shutdown). */
  readonly logFolder?: PipelineModule;
  /** The site's access log, written by the 'log' phase. */
  readonly accessLog?: AccessLog;
}

/**
 * builtinResponseFilters is the response filter chain, in order (STYLE 3). Outbound rules
 * come first: they read and rewrite the body as the handler wrote it (IIS runs URL Rewrite's
 * outbound rules before the modules that encode the response). httpErrors comes next: it may
 * replace a node error response by a custom page or a redirect, and the custom headers after
 * it must see that final status (redirectHeaders go on redirects only). Custom headers are
 * head-only, so a response that only they want keeps the cheap head hook.
 */
export function builtinResponseFilters(): ResponseFilter[] {
  return [outboundRewrite, httpErrorsFilter, customHeaders];
}

/**
 * The one list of built-in pipeline modules (STYLE 4). Order within a phase is the order
 * here; the phases themselves run in IIS order (module.ts).
 */
import type { AppHost } from '../iisnode/app-host.js';
import { createIisnodeModule } from '../iisnode/iisnode-module.js';
import { createMapHandlerModule } from '../modules/handler-mapping/map-request.js';
import { createAccessLogModule, type AccessLog } from '../modules/access-log/access-log.js';
import { createHealthModule, type HealthReadiness } from '../modules/health/health-paths.js';
import { createRequestMetricsModule, type RequestMetrics } from '../modules/request-metrics/request-metrics.js';
import { resolveDirectory } from '../modules/default-document/resolve-directory.js';
import { requestFiltering } from '../modules/request-filtering/request-filtering.js';
import { createIpSecurityModule } from '../modules/ip-security/ip-security.js';
import { createAuthenticationModule } from '../modules/authentication/basic-authentication.js';
import type { UsersFile } from '../modules/authentication/users-file.js';
import { authorization } from '../modules/authorization/authorization.js';
import { isCachedStaticFile, staticFiles } from '../modules/static-files/static-files.js';
import { outboundRewrite } from '../modules/url-rewrite/outbound.js';
import { OutputCache, outputCacheStore } from '../modules/output-cache/output-cache.js';
import { dynamicCompression } from '../modules/compression/dynamic-compression.js';
import { customHeaders } from '../modules/custom-headers/custom-headers.js';
import { httpErrorsFilter } from '../modules/custom-errors/http-errors-filter.js';
import { createUrlRewriteModule } from '../modules/url-rewrite/url-rewrite.js';
import type { PipelineModule } from '../http/pipeline-module.js';
import type { ResponseFilter } from '../http/response-filter.js';
import type { SiteHandle } from '../http/site-handle.js';

/** builtinModules builds a site's module list: IP restrictions, filtering, authentication and authorization, handler mapping, then the two handlers. */
export function builtinModules(site: SiteHandle, appHost: AppHost, services: SiteServices = {}): PipelineModule[] {
  return [
    // The health probes on the site's port, when configured, before anything could change them.
    ...(services.health === undefined ? [] : [createHealthModule(services.health.path, services.health.readiness)]),
    // IP restrictions first (IIS: BeginRequest), then filtering, authentication, authorization.
    createIpSecurityModule(),
    requestFiltering,
    createAuthenticationModule({ users: services.users }),
    authorization,
    // Runs the host's global rules first when it has some (site.globalRules), then web.config's.
    createUrlRewriteModule(site),
    // Log folders are claimed before handler mapping, so a catch-all handler does not swallow them.
    ...(services.logFolder === undefined ? [] : [services.logFolder]),
    createMapHandlerModule(site, { resolveDirectory, isKnownFile: isCachedStaticFile }),
    // resolve-cache: a hit answers here, before either handler runs.
    new OutputCache(site).module,
    createIisnodeModule(appHost),
    staticFiles,
    ...(services.accessLog === undefined ? [] : [createAccessLogModule(services.accessLog)]),
    ...(services.requestMetrics === undefined ? [] : [createRequestMetricsModule(services.requestMetrics)]),
  ];
}

/** SiteServices are what some modules need from the server; a module whose service is absent is left out. */
export interface SiteServices {
  /** The log-folder module (the server makes it, to end its live streams on shutdown). */
  readonly logFolder?: PipelineModule;
  /** The site's access log, written by the 'log' phase. */
  readonly accessLog?: AccessLog;
  /** The site's users file (nodehost.yml `users:`) for Basic logins; absent: every Basic login fails. */
  readonly users?: UsersFile | undefined;
  /** The site's request counters for /metrics, fed by the 'log' phase. */
  readonly requestMetrics?: RequestMetrics;
  /** `<path>/ready` and `<path>/live` on the site (nodehost.yml `admin.healthPath`), answered from `readiness`. */
  readonly health?: { readonly path: string; readonly readiness: () => HealthReadiness } | undefined;
}

/**
 * builtinResponseFilters is the response filter chain, in order (STYLE 3). Outbound rules
 * come first: they read and rewrite the body as the handler wrote it (IIS runs URL Rewrite's
 * outbound rules before the modules that encode the response). httpErrors comes next: it may
 * replace a node error response by a custom page or a redirect, and the custom headers after
 * it must see that final status (redirectHeaders go on redirects only); custom headers are
 * head-only, so a response that only they want keeps the cheap head hook. Dynamic compression
 * comes after every filter that reads or changes the body or the headers it decides on
 * (Content-Type, Cache-Control, Vary). The output-cache store comes last, so what it stores is
 * what the client got (the encoded variant, its headers included), and a hit can be replayed
 * without running the chain again.
 */
export function builtinResponseFilters(): ResponseFilter[] {
  return [outboundRewrite, httpErrorsFilter, customHeaders, dynamicCompression, outputCacheStore];
}

/**
 * The compiled, frozen configuration shapes that request code reads. Nothing here parses
 * files: the adapters (web-config.ts, iisnode-yml.ts, env-overrides.ts) produce these, and
 * site-config.ts merges them per folder.
 */
import type { NodehostError, SourcePosition } from '../errors.js';
import type { RewriteConfig } from './rewrite-types.js';
import type { SecurityConfig } from './security-types.js';

/** IisnodeSettings holds the effective value of every setting of the iisnode section (schema.ts). */
export interface IisnodeSettings {
  node_env: string;
  asyncCompletionThreadCount: number;
  nodeProcessCountPerApplication: number;
  nodeProcessCommandLine: string;
  interceptor: string;
  maxConcurrentRequestsPerProcess: number;
  maxNamedPipeConnectionRetry: number;
  namedPipeConnectionRetryDelay: number;
  maxNamedPipeConnectionPoolSize: number;
  maxNamedPipePooledConnectionAge: number;
  initialRequestBufferSize: number;
  maxRequestBufferSize: number;
  uncFileChangesPollingInterval: number;
  gracefulShutdownTimeout: number;
  loggingEnabled: boolean;
  logDirectory: string;
  debuggingEnabled: boolean;
  debuggerExtensionDll: string;
  debugHeaderEnabled: boolean;
  debuggerVirtualDir: string;
  debuggerPathSegment: string;
  debuggerPortRange: string;
  maxLogFileSizeInKB: number;
  maxTotalLogFileSizeInKB: number;
  maxLogFiles: number;
  devErrorsEnabled: boolean;
  flushResponse: boolean;
  watchedFiles: string;
  enableXFF: boolean;
  promoteServerVars: string;
  configOverrides: string;
  recycleSignalEnabled: boolean;
  idlePageOutTimePeriod: number;
  nodeProcessStickySessions: boolean;
  // nodehost's own settings (not in iisnode's schema).
  watchedFilesPolling: boolean;
  recycleKeepsOldOnFailure: boolean;
  overlappedRecycle: boolean;
  maxMemoryPerProcessMB: number;
  maxRequestsPerProcess: number;
  maxEventLoopBlockMs: number;
  maxHeapMB: number;
  responseTimeout: number;
  idleTimeout: number;
  preload: boolean;
}

export type IisnodeSettingName = keyof IisnodeSettings;

/** HandlerMapping is one entry of the merged `<handlers>` list (first match wins). */
export interface HandlerMapping {
  readonly name: string;
  /** `path` as written: `*`, `*.js`, `hello.js`, or a path with `/` (relative to `scope`). */
  readonly path: string;
  /** Upper-case verbs, or '*' for all. */
  readonly verbs: readonly string[] | '*';
  /** The `modules` attribute as written, e.g. `iisnode` or `StaticFileModule`. */
  readonly modules: string;
  readonly resourceType: 'File' | 'Directory' | 'Either' | 'Unspecified';
  /** URL folder of the configuration that declared the entry, always ending in `/` (e.g. `/`, `/api/`). */
  readonly scope: string;
  readonly source: SourcePosition;
  /** `requireAccess`: None, Read, Write, Script (the default) or Execute. */
  readonly requireAccess?: 'None' | 'Read' | 'Write' | 'Script' | 'Execute';
  /** `preCondition` as written ('' when absent), e.g. `integratedMode`. */
  readonly preCondition?: string;
  /** `responseBufferLimit` in bytes (IIS default 4194304); `0` asks for unbuffered responses. */
  readonly responseBufferLimit?: number;
  /** `scriptProcessor` as written ('' when absent). */
  readonly scriptProcessor?: string;
}

/**
 * ConfigWarning is something nodehost accepts but IIS would refuse, so that a site may fail when
 * moved back to IIS. Requests do not see warnings; `nodehost check` prints them.
 */
export interface ConfigWarning {
  readonly message: string;
  readonly source: SourcePosition;
}

/**
 * FolderConfig is the effective configuration for one URL (its folder, plus any `<location>`
 * that names the file itself). Frozen; shared by every request under that URL.
 */
export interface FolderConfig {
  /** Merged handler list, first match wins; the built-in static tail is not included. */
  readonly handlers: readonly HandlerMapping[];
  readonly defaultDocument: { readonly enabled: boolean; readonly files: readonly string[] };
  /** Lower-case extension with its dot (`.js`), `.` for extension-less files, `*` for all. */
  readonly mimeMap: ReadonlyMap<string, string>;
  /** Lower-case segment names that are never served (404.8). */
  readonly hiddenSegments: ReadonlySet<string>;
  /** appSettings in order; empty keys already dropped; last duplicate wins when applied. */
  readonly appSettings: readonly (readonly [string, string])[];
  /** iisnode section from web.config levels merged over schema defaults (env and yml come later, per app). */
  readonly iisnode: Readonly<IisnodeSettings>;
  /** Where each setting that is not a default was set. */
  readonly iisnodeSources: Readonly<Partial<Record<IisnodeSettingName, SourcePosition>>>;
  /** Errors of any web.config file on the way to this folder; when non-empty, requests here fail (1031). */
  readonly errors: readonly NodehostError[];
  /** URL Rewrite rules in force here (spec/rewrite.md §1); undefined when there are none. */
  readonly rewrite?: RewriteConfig | undefined;
  /** Request filtering beyond hiddenSegments (spec §2.6); undefined means the IIS defaults. */
  readonly requestFiltering?: RequestFilteringConfig | undefined;
  /** Output caching (spec §2.8); undefined when no level configures it. */
  readonly caching?: CachingConfig | undefined;
  /** Authentication, authorization and IP restrictions (security-config.ts); undefined in hand-built test configurations, which means the IIS defaults. */
  readonly security?: SecurityConfig | undefined;
  /** urlCompression and httpCompression (spec §2.7), merged; undefined only in hand-built test configs. */
  readonly compression?: CompressionConfig | undefined;
  /** staticContent/clientCache for static files; undefined means NoControl. */
  readonly clientCache?: ClientCacheConfig | undefined;
  /** httpProtocol custom and redirect headers (always present: the built-in X-Powered-By). */
  readonly httpProtocol: HttpProtocolConfig;
  /** httpErrors; IIS defaults (DetailedLocalOnly, Auto, no pages) when no web.config sets it. */
  readonly httpErrors: HttpErrorsConfig;
}

/** RequestFilteringConfig is the compiled request filtering of one configuration level. */
export interface RequestFilteringConfig {
  readonly allowDoubleEscaping: boolean;
  /** Bytes; a larger Content-Length gets 413.1. */
  readonly maxAllowedContentLength: number;
  /** Characters of the URL path; longer gets 404.14. */
  readonly maxUrl: number;
  /** Characters of the query string; longer gets 404.15. */
  readonly maxQueryString: number;
  /** Lower-case header name → size limit (431 when exceeded). */
  readonly headerLimits: ReadonlyMap<string, number>;
  readonly fileExtensionsAllowUnlisted: boolean;
  /** Lower-case extension with its dot → allowed. */
  readonly fileExtensions: ReadonlyMap<string, boolean>;
  readonly verbsAllowUnlisted: boolean;
  /** Upper-case verb → allowed. */
  readonly verbs: ReadonlyMap<string, boolean>;
  /** Lower-case sequences denied in the URL (404.5). */
  readonly denyUrlSequences: readonly string[];
  /** Lower-case sequences denied in the query string (404.18). */
  readonly denyQueryStringSequences: readonly string[];
}

/** CachePolicy is an output-cache profile's `policy` (spec/rewrite.md §2.8). */
export type CachePolicy = 'DontCache' | 'CacheUntilChange' | 'CacheForTimePeriod' | 'DisableCache';

/** CacheLocation is a profile's `location`: where the response may be cached. */
export type CacheLocation = 'Any' | 'Client' | 'Downstream' | 'Server' | 'None' | 'ServerAndClient';

/** CacheProfile is one compiled `<caching><profiles><add>` entry. */
export interface CacheProfile {
  /** Lower-case extension with its dot (`.js`), or `*` for every handler file. */
  readonly extension: string;
  readonly policy: CachePolicy;
  /** `duration` in milliseconds (CacheForTimePeriod). */
  readonly durationMs: number;
  /** `varyByQueryString`: `*` for the whole query, else the names (as written, compared exactly). */
  readonly varyByQueryString: '*' | readonly string[];
  /** `varyByHeaders`: lower-case header names. */
  readonly varyByHeaders: readonly string[];
  readonly location: CacheLocation;
  /** nodehost's `staleWhileRevalidate` in milliseconds: how long after expiry a stale entry may answer while one request refreshes it; 0 = never. */
  readonly staleMs: number;
  readonly source: SourcePosition;
}

/** CachingConfig is the compiled `system.webServer/caching` of one configuration level. */
export interface CachingConfig {
  readonly enabled: boolean;
  /** Accepted for IIS compatibility; nodehost has one cache, in the host's memory. */
  readonly enableKernelCache: boolean;
  /** `maxCacheSize` in MB as written (0 = nodehost's default); only the site root's counts. */
  readonly maxCacheSizeMB: number;
  /** `maxResponseSize` in bytes: larger responses are not cached; 0 = no limit but the cache's. */
  readonly maxResponseSize: number;
  /** Profiles by extension (`*` included); see profileFor. */
  readonly profiles: ReadonlyMap<string, CacheProfile>;
  /** True when caching is enabled and some profile does something: the response filter wants these requests. */
  readonly isActive: boolean;
}

/** CompressionScheme is a content coding nodehost can produce. */
export type CompressionScheme = 'br' | 'gzip' | 'deflate';

/** CompressionTypeList is a merged `<staticTypes>` or `<dynamicTypes>` list (compression-config.ts). */
export interface CompressionTypeList {
  /** The merged entries in order: [lower-case pattern, enabled]. */
  readonly entries: readonly (readonly [string, boolean])[];
  /** True when no entry is enabled. */
  readonly isEmpty: boolean;
  /** isEnabled tells whether a response with this Content-Type value is compressed (most specific entry wins). */
  isEnabled(contentType: string): boolean;
}

/** CompressionConfig is the compiled urlCompression and httpCompression of one configuration level. */
export interface CompressionConfig {
  readonly doStaticCompression: boolean;
  readonly doDynamicCompression: boolean;
  /** Bytes; a response whose length is known and smaller is sent as it is. */
  readonly minFileSizeForComp: number;
  readonly noCompressionForRange: boolean;
  readonly noCompressionForHttp10: boolean;
  readonly noCompressionForProxies: boolean;
  readonly staticTypes: CompressionTypeList;
  readonly dynamicTypes: CompressionTypeList;
  /** The enabled schemes, in server preference order (br, gzip, deflate). */
  readonly schemes: readonly CompressionScheme[];
}

/** ClientCacheConfig is the compiled `staticContent/clientCache` of one level (spec/rewrite.md §2.4). */
export interface ClientCacheConfig {
  readonly cacheControlMode: 'NoControl' | 'DisableCache' | 'UseMaxAge' | 'UseExpires';
  /** Seconds of cacheControlMaxAge (default 86400). */
  readonly maxAgeSeconds: number;
  /** httpExpires as written (an RFC 1123 date), '' when unset. */
  readonly httpExpires: string;
  /** Extra Cache-Control directives ('' when unset), e.g. `public`. */
  readonly cacheControlCustom: string;
  /** The headers static responses get, as [name, value] pairs, computed once. */
  readonly headers: readonly (readonly [string, string])[];
}

/** CustomHeader is one entry of `httpProtocol/customHeaders` or `redirectHeaders`. */
export interface CustomHeader {
  readonly name: string;
  readonly value: string;
}

/** HttpProtocolConfig is the compiled `system.webServer/httpProtocol` of one level (spec §2.9). */
export interface HttpProtocolConfig {
  /** Added to every response, in order (the built-in `X-Powered-By: nodehost` unless removed). */
  readonly customHeaders: readonly CustomHeader[];
  /** customHeaders as one flat list (name, value, ...), to append to a precomputed head as it is. */
  readonly customHeaderList: readonly string[];
  /** Added to redirect responses (3xx with Location) only. */
  readonly redirectHeaders: readonly CustomHeader[];
}

/** The response modes of a custom error page. */
export type HttpErrorResponseMode = 'File' | 'ExecuteURL' | 'Redirect';

/** HttpErrorPage is one `<error>` entry of httpErrors (or the defaultPath page). */
export interface HttpErrorPage {
  readonly statusCode: number;
  /** -1 matches every substatus. */
  readonly subStatusCode: number;
  readonly responseMode: HttpErrorResponseMode;
  /** `path` as written: a file (File), a server-relative URL (ExecuteURL) or the Location (Redirect). */
  readonly path: string;
  /** File mode: the absolute file, resolved against the folder of the web.config that declared it. */
  readonly file: string;
  /** File mode with prefixLanguageFilePath: the absolute folder holding one folder per language tag; '' otherwise. */
  readonly languageRoot: string;
}

/** HttpErrorsConfig is the compiled `system.webServer/httpErrors` of one level (spec §2.5). */
export interface HttpErrorsConfig {
  readonly errorMode: 'DetailedLocalOnly' | 'Custom' | 'Detailed';
  readonly existingResponse: 'Auto' | 'Replace' | 'PassThrough';
  readonly defaultResponseMode: HttpErrorResponseMode;
  /** The page of statuses without an entry (defaultPath in defaultResponseMode); undefined when unset. */
  readonly defaultPage: HttpErrorPage | undefined;
  readonly errors: readonly HttpErrorPage[];
}

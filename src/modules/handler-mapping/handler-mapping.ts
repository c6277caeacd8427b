/**
 * Handler mapping (DESIGN §1 stage 4): decides which handler owns the current URL, the way
 * IIS walks its merged `<handlers>` list. The first entry whose `path` and `verb` match wins;
 * when none does, the built-in static tail serves the URL. A URL below a script
 * (`/hello.js/more`) belongs to that script: the part after it is path info.
 */
import { statSync } from 'node:fs';
import type { FolderConfig, HandlerMapping } from '../../config/types.js';
import { wildcardMatch } from '../../config/wildcard-match.js';
import { lastIndexOfChar } from '../../http/last-index-of-char.js';

/** HandlerMatch says who serves a URL: a node application (with its script URL and path info) or the static handler. */
export type HandlerMatch = { readonly kind: 'iisnode'; readonly scriptUrl: string; readonly pathInfo: string } | { readonly kind: 'static' };

const STATIC: HandlerMatch = Object.freeze({ kind: 'static' });

/**
 * mapHandler finds the handler for `urlPath` (decoded, normalised) and `method`.
 * `configFor` returns the configuration of a URL (the script's own folder decides its
 * mapping). `mapPath` gives a URL's file, to tell whether a path-info prefix names a real file.
 */
export function mapHandler(
  urlPath: string,
  method: string,
  config: FolderConfig,
  configFor: (urlPath: string) => FolderConfig,
  mapPath: (urlPath: string) => string,
): HandlerMatch {
  // The whole URL first: the common case (/hello.js) costs one pass over the list and no stat.
  const whole = firstMatch(config.handlers, urlPath, method);
  if (whole !== undefined) return isIisnode(whole) ? { kind: 'iisnode', scriptUrl: urlPath, pathInfo: '' } : STATIC;

  // Path info: the shortest prefix that is a mapped script file owns the rest of the URL.
  let end = urlPath.indexOf('/', 1);
  while (end !== -1) {
    const prefix = urlPath.slice(0, end);
    const handler = firstMatch(configFor(prefix).handlers, prefix, method);
    if (handler !== undefined && isIisnode(handler) && isFile(mapPath(prefix))) {
      return { kind: 'iisnode', scriptUrl: prefix, pathInfo: urlPath.slice(end) };
    }
    end = urlPath.indexOf('/', end + 1);
  }
  return STATIC;
}

/** firstMatch returns the first handler entry that claims `urlPath` for `method`, skipping modules nodehost does not run. */
function firstMatch(handlers: readonly HandlerMapping[], urlPath: string, method: string): HandlerMapping | undefined {
  // Indexed, not for-of: the compiled list is frozen, and iterating it costs a call per entry.
  for (let i = 0; i < handlers.length; i++) {
    const handler = handlers[i]!;
    if (!isSupported(handler)) continue;
    if (handler.verbs !== '*' && !handler.verbs.includes(method)) continue;
    if (pathMatches(handler, urlPath)) return handler;
  }
  return undefined;
}

function isIisnode(handler: HandlerMapping): boolean {
  return moduleKindOf(handler.modules) === 'iisnode';
}

/**
 * isSupported: nodehost runs iisnode and the static file module. Entries for other IIS
 * modules (FastCGI, ASP.NET, httpPlatformHandler) are skipped, so such URLs fall through
 * to later entries and the static tail instead of failing.
 */
function isSupported(handler: HandlerMapping): boolean {
  return moduleKindOf(handler.modules) !== 'unsupported';
}

/** ModuleKind is what nodehost makes of a handler entry's `modules` attribute. */
type ModuleKind = 'iisnode' | 'static' | 'unsupported';

/** Kinds of the `modules` attributes seen, so a request runs no regular expression for them. */
const MODULE_KINDS = new Map<string, ModuleKind>();

function moduleKindOf(modules: string): ModuleKind {
  let kind = MODULE_KINDS.get(modules);
  if (kind === undefined) {
    kind = /(^|,)\s*iisnode\s*(,|$)/i.test(modules) ? 'iisnode' : /StaticFileModule/i.test(modules) ? 'static' : 'unsupported';
    // The attributes come from the configuration, so the map stays small; a bound keeps it so anyway.
    if (MODULE_KINDS.size < 1000) MODULE_KINDS.set(modules, kind);
  }
  return kind;
}

/**
 * pathMatches applies IIS's rule: a `path` without `/` is matched, case-insensitively and
 * with `*`/`?` wildcards, against the last URL segment; a `path` with `/` against the URL
 * relative to the folder of the configuration that declared it.
 */
function pathMatches(handler: HandlerMapping, urlPath: string): boolean {
  const pattern = handler.path;
  if (pattern === '*') return true;
  if (!pattern.includes('/')) {
    const last = urlPath.slice(lastIndexOfChar(urlPath, 47) + 1);
    return wildcardMatch(pattern, last);
  }
  const relative = pattern.startsWith('/') ? pattern : handler.scope + pattern;
  return wildcardMatch(relative, urlPath);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * RequestContext carries one request through the pipeline. Its constructor assigns every
 * field, so all contexts share one shape (STYLE 11); modules fill in the later fields
 * (configuration, handler, script) as the phases run.
 */
import type { FollowSymlinks } from '../config/host-config.js';
import type { IncomingMessage } from 'node:http';
import type { SitePaths } from '../config/site-paths.js';
import type { FolderConfig } from '../config/types.js';
import type { HttpResponse } from './http-response.js';
import type { ErrorOutcome } from './error-outcome.js';
import { isLoopbackAddress } from './is-loopback-address.js';
import { monotonicMs } from './monotonic-ms.js';
import type { PendingUpgrade } from './pending-upgrade.js';
import type { TrustedProxies } from './trusted-proxies.js';

/** The handler chosen by handler mapping. */
export type HandlerKind = 'none' | 'iisnode' | 'static';

/**
 * CacheResult is the output cache's answer: a stored response ('hit'), one shared with a
 * concurrent request for the same key ('collapsed'), an expired one served while another
 * request refreshes it ('stale'), or none ('miss').
 */
export type CacheResult = '' | 'hit' | 'miss' | 'collapsed' | 'stale';

/** ErrorResponder renders error outcomes: the engine's one error step, handed to every request context. */
export interface ErrorResponder {
  respond(ctx: RequestContext, outcome: ErrorOutcome): void;
  /**
   * executeUrl answers ctx with an httpErrors ExecuteURL page: `url` runs through the pipeline,
   * and the response keeps ctx.errorStatus (set by the caller, with ctx.isExecutingErrorUrl).
   * Absent outside a pipeline (unit tests), where no page can run.
   */
  readonly executeUrl?: ((ctx: RequestContext, url: string) => Promise<void>) | undefined;
}

export class RequestContext {
  /** The client request and response. */
  readonly req: IncomingMessage;
  readonly res: HttpResponse;
  /** The engine's error step (see sendError). */
  readonly errors: ErrorResponder;
  /** The raw socket of an upgrade request (WebSocket); undefined for an ordinary request. */
  readonly upgrade: PendingUpgrade | undefined;
  /** The request target exactly as the client sent it (never decoded); node receives this. */
  readonly rawUrl: string;
  /** Decoded, normalised URL path of the current (possibly rewritten) URL, starting with `/`. */
  path: string;
  /** Raw query string of the current URL, without `?`; '' when absent. */
  query: string;
  /** Whether the current URL has a `?` at all (so `/a?` is kept distinct from `/a`). */
  hasQuery: boolean;
  /** Absolute folder of the site. */
  readonly siteRoot: string;
  /** Site name, for logs. */
  readonly siteName: string;
  /** Which symbolic links static files may be reached through (nodehost.yml `followSymlinks`). */
  readonly followSymlinks: FollowSymlinks;
  /** The site's applications and virtual directories; undefined when the root serves every URL. */
  readonly sitePaths: SitePaths | undefined;
  /** IIS's site ID (APPL_MD_PATH). */
  readonly siteId: number;
  /** Absolute file system path of `path` under `siteRoot` or the folder of the mount serving it (never outside it). */
  physicalPath: string;
  /** Effective configuration for `path`, set by the engine before filtering. */
  config: FolderConfig | undefined;
  /** The handler chosen by handler mapping. */
  handler: HandlerKind;
  /** For the iisnode handler: absolute path of the entry script, its URL, and the path info after it. */
  scriptPath: string;
  scriptUrl: string;
  pathInfo: string;
  /**
   * The client's address (REMOTE_ADDR) and whether it used HTTPS: the connection's, or what a
   * trusted proxy's X-Forwarded-For / X-Forwarded-Proto say (trusted-proxies.ts).
   */
  readonly remoteAddress: string;
  readonly isHttps: boolean;
  /** True when the peer is a trusted proxy, whose X-Forwarded-For and X-Forwarded-Proto nodehost read (remoteAddress, isHttps). */
  readonly isFromTrustedProxy: boolean;
  /** The client's port (a balancer's, behind one). */
  readonly remotePort: number;
  /**
   * The server's end of the connection, read from the socket when first asked for (a
   * getsockname call, and an address object node keeps on the socket): most requests never ask.
   */
  #localAddress: string | undefined;
  #localPort: number;
  /** Authenticated user and scheme; '' when anonymous. */
  authUser: string;
  authType: string;
  /** Roles of the authenticated user (lower case, from the users file); empty when anonymous. */
  authRoles: readonly string[];
  /** True once the authorization rules refused this request (its URL, or the rewritten one): see maySeeInternals. */
  isDeniedByAuthorization: boolean;
  /** True when nodehost consumed the client's `Authorization` header (a Basic login) and node must not receive it. */
  isAuthorizationHidden: boolean;
  /** IIS status and substatus of the final response, for the access log. */
  status: number;
  substatus: number;
  /** When the request began, on the monotonic clock of `monotonicMs()` (ms, fractional): for time-taken and the duration histogram. */
  readonly startTime: number;
  /** True once a URL Rewrite rule changed the URL (path and query describe the rewritten URL). */
  isRewritten: boolean;
  /**
   * Server variables set by `<serverVariables><set>` for this request (upper-case names), read
   * first by serverVariable; undefined until a rule sets one.
   */
  serverVariables: Map<string, string> | undefined;
  /** What the output cache did for this request ('' when it did not look): for the debug header and the log. */
  cacheResult: CacheResult;
  /**
   * True when the response replays a stored one (an output-cache hit): the response filters
   * ran when it was stored, so the chain passes it through untouched.
   */
  isReplayed: boolean;
  /**
   * The status of the error this response answers, set by the engine's error step before it
   * writes any page (its own, or a custom httpErrors page); 0 while the response is not an
   * error page. Response filters use it to leave error pages alone, and the error step to
   * never nest a custom page inside another.
   */
  errorStatus: number;
  /** True while a custom error page is produced by running its ExecuteURL: the response keeps errorStatus. */
  isExecutingErrorUrl: boolean;

  constructor(
    req: IncomingMessage,
    res: HttpResponse,
    site: {
      root: string;
      name: string;
      paths?: SitePaths | undefined;
      id?: number | undefined;
      trustedProxies?: TrustedProxies | undefined;
      followSymlinks?: FollowSymlinks | undefined;
    },
    isHttps: boolean,
    errors: ErrorResponder,
    upgrade?: PendingUpgrade,
  ) {
    this.req = req;
    this.res = res;
    this.errors = errors;
    this.upgrade = upgrade;
    this.rawUrl = req.url ?? '/';
    this.path = '/';
    this.query = '';
    this.hasQuery = false;
    this.siteRoot = site.root;
    this.siteName = site.name;
    this.followSymlinks = site.followSymlinks ?? 'inside';
    this.sitePaths = site.paths;
    this.siteId = site.id ?? 1;
    this.physicalPath = site.root;
    this.config = undefined;
    this.handler = 'none';
    this.scriptPath = '';
    this.scriptUrl = '';
    this.pathInfo = '';
    const socket = req.socket;
    const peer = stripV4Mapped(socket.remoteAddress ?? '');
    if (site.trustedProxies === undefined) {
      this.remoteAddress = peer;
      this.isHttps = isHttps;
      this.isFromTrustedProxy = false;
    } else {
      const client = site.trustedProxies.client(peer, isHttps, req.headers);
      this.remoteAddress = client.address;
      this.isHttps = client.isHttps;
      this.isFromTrustedProxy = site.trustedProxies.isTrusted(peer);
    }
    this.remotePort = socket.remotePort ?? 0;
    this.#localAddress = undefined;
    this.#localPort = 0;
    this.authUser = '';
    this.authType = '';
    this.authRoles = NO_ROLES;
    this.isDeniedByAuthorization = false;
    this.isAuthorizationHidden = false;
    this.status = 0;
    this.substatus = 0;
    this.startTime = monotonicMs();
    this.isRewritten = false;
    this.serverVariables = undefined;
    this.cacheResult = '';
    this.isReplayed = false;
    this.errorStatus = 0;
    this.isExecutingErrorUrl = false;
  }

  /** localAddress is the server's address on the connection (LOCAL_ADDR). */
  get localAddress(): string {
    if (this.#localAddress === undefined) this.#readLocalEnd();
    return this.#localAddress!;
  }

  /** localPort is the server's port on the connection (SERVER_PORT). */
  get localPort(): number {
    if (this.#localAddress === undefined) this.#readLocalEnd();
    return this.#localPort;
  }

  /** readLocalEnd keeps both halves: node answers neither once the socket is closed. */
  #readLocalEnd(): void {
    const socket = this.req.socket;
    this.#localAddress = stripV4Mapped(socket.localAddress ?? '');
    this.#localPort = socket.localPort ?? 0;
  }

  /** isLocal is true when the client is on this machine (loopback, or the server's own address). */
  get isLocal(): boolean {
    return isLoopbackAddress(this.remoteAddress) || this.remoteAddress === this.localAddress;
  }

  /**
   * serverVariable reads an IIS server variable for this request (REQUEST_METHOD, URL,
   * QUERY_STRING, REMOTE_ADDR, HTTP_<HEADER>, ...); undefined when it does not exist.
   * Names are case-insensitive.
   */
  serverVariable(name: string): string | undefined {
    return this.serverVariableOf(name.toUpperCase());
  }

  /** serverVariableOf is serverVariable for a name already in upper case (the rewrite compiler's). */
  serverVariableOf(key: string): string | undefined {
    if (this.serverVariables !== undefined) {
      const set = this.serverVariables.get(key);
      if (set !== undefined) return set;
    }
    const read = BUILT_IN_VARIABLES.get(key);
    if (read !== undefined) return read(this);
    if (key.startsWith('HTTP_')) return headerValue(this.req.headers[key.slice(5).toLowerCase().replaceAll('_', '-')]);
    return undefined;
  }

  /** mapPath is the file system path of a URL path (decoded, normalised): below the site root, or below the folder of the application or virtual directory serving it. */
  mapPath(urlPath: string): string {
    return this.sitePaths === undefined ? this.siteRoot + urlPath : this.sitePaths.physicalPath(urlPath);
  }

  /**
   * sendError answers this request with the error page its outcome calls for, through the
   * engine's one error step. Modules return error outcomes instead; this is for handlers whose
   * failure arrives after their step has returned (a worker that dies mid-exchange).
   */
  sendError(outcome: ErrorOutcome): void {
    this.errors.respond(this, outcome);
  }

  /**
   * maySeeInternals tells whether this client may be given what nodehost keeps from the public
   * (DESIGN §4: the log folders, the debugger, detailed error pages): a client on this machine,
   * or a user the site authenticated and the authorization rules did not refuse. A handler asks
   * after those rules allowed the request; the error step may ask about a refusal itself (a 403
   * for an authenticated user), which must not be detailed, or about an error raised before
   * authentication, whose client is anonymous still.
   */
  get maySeeInternals(): boolean {
    return this.isLocal || (this.authUser !== '' && !this.isDeniedByAuthorization);
  }

  /** serverName is the host name the client asked for, without port (SERVER_NAME). */
  get serverName(): string {
    const host = this.req.headers.host ?? '';
    if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
    const colon = host.indexOf(':');
    return colon === -1 ? host || this.localAddress : host.slice(0, colon);
  }
}

const NO_ROLES: readonly string[] = Object.freeze([]);

/** ServerVariableReader reads one server variable of a request (see serverVariableReader). */
export type ServerVariableReader = (ctx: RequestContext) => string | undefined;

/**
 * BUILT_IN_VARIABLES are the server variables computed from the request (spec/rewrite.md §1.9),
 * by upper-case name: one table, read by serverVariableOf and resolved once per name by
 * serverVariableReader. HTTP_<HEADER> names that are not listed read the request header.
 */
const BUILT_IN_VARIABLES: ReadonlyMap<string, ServerVariableReader> = new Map<string, ServerVariableReader>([
  ['REQUEST_METHOD', (ctx) => ctx.req.method ?? 'GET'],
  ['URL', (ctx) => ctx.path],
  ['PATH_INFO', (ctx) => ctx.path],
  ['SCRIPT_NAME', (ctx) => ctx.path],
  ['QUERY_STRING', (ctx) => ctx.query],
  ['REQUEST_URI', (ctx) => ctx.rawUrl],
  ['UNENCODED_URL', (ctx) => ctx.rawUrl],
  ['HTTP_URL', (ctx) => ctx.rawUrl],
  ['REMOTE_ADDR', (ctx) => ctx.remoteAddress],
  ['REMOTE_HOST', (ctx) => ctx.remoteAddress],
  ['REMOTE_PORT', (ctx) => String(ctx.remotePort)],
  ['LOCAL_ADDR', (ctx) => ctx.localAddress],
  ['SERVER_ADDR', (ctx) => ctx.localAddress],
  ['CACHE_URL', (ctx) => `${ctx.isHttps ? 'https' : 'http'}://${ctx.req.headers.host ?? ctx.localAddress}${ctx.rawUrl}`],
  ['DOCUMENT_ROOT', (ctx) => (ctx.siteRoot.endsWith('/') ? ctx.siteRoot : ctx.siteRoot + '/')],
  ['APPL_MD_PATH', (ctx) => `/LM/W3SVC/${ctx.siteId}/ROOT${ctx.sitePaths?.applicationOf(ctx.path)?.url ?? ''}`],
  ['APP_POOL_ID', (ctx) => ctx.siteName],
  ['SERVER_NAME', (ctx) => ctx.serverName],
  ['SERVER_PORT', (ctx) => String(ctx.localPort)],
  ['SERVER_PORT_SECURE', (ctx) => (ctx.isHttps ? '1' : '0')],
  ['SERVER_PROTOCOL', (ctx) => `HTTP/${ctx.req.httpVersion}`],
  ['SERVER_SOFTWARE', () => 'nodehost'],
  ['HTTPS', (ctx) => (ctx.isHttps ? 'on' : 'off')],
  ['AUTH_USER', (ctx) => ctx.authUser],
  ['LOGON_USER', (ctx) => ctx.authUser],
  ['REMOTE_USER', (ctx) => ctx.authUser],
  ['AUTH_TYPE', (ctx) => ctx.authType],
  [
    'APPL_PHYSICAL_PATH',
    (ctx) => {
      const dir = ctx.sitePaths?.applicationOf(ctx.path)?.dir ?? ctx.siteRoot;
      return dir.endsWith('/') ? dir : dir + '/';
    },
  ],
  ['REQUEST_FILENAME', (ctx) => ctx.physicalPath],
  ['PATH_TRANSLATED', (ctx) => ctx.physicalPath],
  ['CONTENT_TYPE', (ctx) => ctx.req.headers['content-type']],
  ['CONTENT_LENGTH', (ctx) => ctx.req.headers['content-length']],
]);

function headerValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header.join(',') : header;
}

/**
 * serverVariableReader resolves an upper-case variable name once (when a configuration is
 * compiled) to a function that reads it as `ctx.serverVariableOf(key)` does, without matching
 * the name on each request: variables set by rules first, then the built-in value or the
 * request header.
 */
export function serverVariableReader(key: string): ServerVariableReader {
  const builtIn = BUILT_IN_VARIABLES.get(key);
  if (builtIn !== undefined) return (ctx) => (ctx.serverVariables === undefined ? builtIn(ctx) : ctx.serverVariableOf(key));
  if (key.startsWith('HTTP_')) {
    const header = key.slice(5).toLowerCase().replaceAll('_', '-');
    return (ctx) => (ctx.serverVariables === undefined ? headerValue(ctx.req.headers[header]) : ctx.serverVariableOf(key));
  }
  return (ctx) => ctx.serverVariables?.get(key);
}

function stripV4Mapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

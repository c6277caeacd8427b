/**
 * The host configuration file (`nodehost.yml`): where nodehost listens and which site it
 * serves. Command-line flags win over it. Later issues add several sites, bindings and
 * certificates; unknown keys are errors so a typo never passes silently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Node, Pair, Scalar } from 'yaml';
import { NodehostError } from '../errors.js';
import type { CompressionSection } from './compression-config.js';
import { loadGlobalRules } from './global-rules.js';
import { loadHostCompression } from './host-compression.js';
import { parseProxyRange, type ProxyRange } from './proxy-range.js';
import type { InboundRule } from './rewrite-types.js';
import type { Mount } from './site-paths.js';
import { lazyRequire } from '../lazy-require.js';

type Yaml = typeof import('yaml');
// Loaded with the first nodehost.yml read: a host started without one never loads the parser.
const yaml = lazyRequire<Yaml>('yaml');
const isMap = ((node: unknown) => yaml().isMap(node)) as Yaml['isMap'];
const isScalar = ((node: unknown) => yaml().isScalar(node)) as Yaml['isScalar'];
const isSeq = ((node: unknown) => yaml().isSeq(node)) as Yaml['isSeq'];

/** HostConfig is the validated content of nodehost.yml; absent keys are undefined. */
export interface HostConfig {
  /** Site folder, resolved against the file's folder. */
  readonly root: string | undefined;
  readonly name: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  /**
   * Folder of the access logs, resolved against the file's folder: each site logs into
   * `<logs>/<site name>/`. Absent: `<site root>/../logs/<site name>/`. An empty string turns
   * the access log off.
   */
  readonly logs?: string | undefined;
  /**
   * The compiled global URL Rewrite rules (key `globalRules`: a path to an XML file, relative to
   * the file's folder, or inline XML; see global-rules.ts). They run before the distributed
   * rules of web.config, on the whole URL path. Undefined when absent or without an enabled rule.
   */
  readonly globalRules?: readonly InboundRule[] | undefined;
  /**
   * Front-door processes sharing the listening socket (key `hostProcesses`: a positive integer,
   * or `auto` for os.availableParallelism()). Undefined when absent, which means 1.
   */
  readonly hostProcesses?: number | undefined;
  /** The long form (key `sites`): every site with its bindings; undefined in the short form. */
  readonly sites?: readonly SiteSpec[] | undefined;
  /** The site that answers a Host no binding names (key `defaultSite`); undefined: such requests get 404. */
  readonly defaultSite?: string | undefined;
  /**
   * The site's users file for Basic authentication (key `users`: a path relative to the file's
   * folder), resolved. Undefined when absent: no file is assumed, and every Basic login fails.
   */
  readonly users?: string | undefined;
  /**
   * The admin listener (key `admin`, a mapping; docs/admin.md): `listen: <host>:<port>` opens the
   * admin API, /metrics, /ready and /live on TCP (absent: only the control socket serves them);
   * `token: <secret>` makes every path but /ready and /live require `Authorization: Bearer
   * <secret>`, and is required when the host is not a loopback address; `metrics: false` stops
   * counting requests (default true).
   */
  readonly admin?: HostAdminConfig | undefined;
  /**
   * The user (key `user`: a name or a uid) and group (key `group`; default: the user's own) the
   * host switches to once its ports are bound, before any worker starts. Undefined: the host
   * keeps its own identity (and warns when that is root).
   */
  readonly user?: string | undefined;
  readonly group?: string | undefined;
  /**
   * Host-wide compression defaults (key `compression`: `<httpCompression>` and/or
   * `<urlCompression>` as inline XML or a path to an XML file, relative to the file's folder;
   * see host-compression.ts), merged under every web.config of every site, and re-read with
   * the file. Undefined when absent.
   */
  readonly compression?: CompressionSection | undefined;
  /**
   * The load balancers in front of nodehost (key `trustedProxies`: a list of addresses and CIDR
   * ranges, e.g. `[127.0.0.1, 10.0.0.0/8]`, or one of them; docs/scale-out.md). A request from one of them is
   * taken to come from the client its `X-Forwarded-For` names, over the scheme its
   * `X-Forwarded-Proto` names: REMOTE_ADDR, HTTPS, the access log, ipSecurity, enableXFF and
   * the loopback-only pages see that client. From any other peer the headers are ignored.
   * Undefined when absent: no peer is trusted.
   */
  readonly trustedProxies?: readonly ProxyRange[] | undefined;
  /**
   * Client timeouts (key `limits`, a mapping of durations such as `60s`, `500ms`, `2m`, or `off`):
   * `headerTimeout` bounds the whole request head from its first byte (nginx
   * client_header_timeout, node headersTimeout; default 60s); `bodyTimeout` closes a request
   * whose body sends nothing for that long (nginx client_body_timeout; default 60s);
   * `requestTimeout` bounds receiving the whole request, head and body (node requestTimeout;
   * default off); `maxConnections` caps the client connections open at once, new ones beyond it
   * being closed at accept (bounded memory under a flood of idle connections; default 10000);
   * `idleTimeout` closes an HTTP/2 connection with no open stream for that long (nginx
   * keepalive_timeout; default 75s); `ticketKeyRotation` is how often the TLS session ticket key
   * is replaced (default 12h; a ticket issued under the key before stops resuming then);
   * `maxHeaderCount` is the most header fields a request may have, more get 431 (default 200,
   * twice Apache's LimitRequestFields; 0: no limit but the 16 KiB head); `halfClose` is what a
   * client's FIN while its request runs does: `abort` it (default, as nginx and node do) or
   * `respond` (the request runs on and its response is sent, nginx's
   * proxy_ignore_client_abort on). Absent keys take their defaults.
   */
  readonly limits?: HostLimits | undefined;
  /**
   * Which symbolic links inside the site are followed for static files (key `followSymlinks`):
   * `inside` (default) serves a link only when its target is inside the site folder, `always`
   * serves every link, `never` serves no file reached through a link, `ownerMatch` a link only
   * when it and its target have the same owner (Apache's SymLinksIfOwnerMatch; docs/security.md).
   */
  readonly followSymlinks?: FollowSymlinks | undefined;
  /** Automatic certificates (key `acme`) for the sites with `tls: { acme: true }`; defaults filled in. */
  readonly acme?: AcmeSettings | undefined;
}

/** FollowSymlinks is the `followSymlinks` policy of nodehost.yml. */
export type FollowSymlinks = 'inside' | 'always' | 'never' | 'ownerMatch';
const FOLLOW_SYMLINKS: readonly FollowSymlinks[] = ['inside', 'always', 'never', 'ownerMatch'];

/** HostLimits are the client timeouts in milliseconds (0 is off) and the connection cap (0 is none). */
export interface HostLimits {
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly ticketKeyRotationMs: number;
  /** The most header fields a request may have (0: no limit of nodehost's own). */
  readonly maxHeaderCount: number;
  /** What a client's FIN does to its running request. */
  readonly halfClose: HalfClose;
}

/** HalfClose is `limits.halfClose`: `abort` the request of a client that sent its FIN, or `respond` to it. */
export type HalfClose = 'abort' | 'respond';

/**
 * DEFAULT_LIMITS: nginx's client_header_timeout, client_body_timeout and keepalive_timeout; no
 * whole-request bound; 10000 connections (about 100 MB of idle ones); a new ticket key every 12
 * hours; 200 header fields (a browser sends about 20; Apache allows 100, node 2000 but drops
 * the rest silently); a FIN aborts.
 */
export const DEFAULT_LIMITS: HostLimits = {
  headerTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  requestTimeoutMs: 0,
  maxConnections: 10_000,
  idleTimeoutMs: 75_000,
  ticketKeyRotationMs: 12 * 3_600_000,
  maxHeaderCount: 200,
  halfClose: 'abort',
};
const LIMIT_KEYS = ['headerTimeout', 'bodyTimeout', 'requestTimeout', 'maxConnections', 'idleTimeout', 'ticketKeyRotation', 'maxHeaderCount', 'halfClose'];

/** parseDuration reads `off`, `0`, or a number with a unit (`ms`, `s`, `m`, `h`; a bare number is seconds) into ms; undefined when invalid. */
export function parseDuration(value: unknown): number | undefined {
  if (value === 'off' || value === false) return 0;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(value.trim());
  if (match === null) return undefined;
  const factor = match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : match[2] === 'h' ? 3_600_000 : 1000;
  return Math.round(Number(match[1]) * factor);
}

/** parseLimits reads the `limits` mapping; throws NH_ERR_CONFIG_HOST naming the line. */
function parseLimits(value: unknown, at: (offset: number | undefined) => { file: string; line: number }, offset: number | undefined): HostLimits {
  if (!isMap(value)) throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'limits' must be a mapping (${LIMIT_KEYS.join(', ')})`, { source: at(offset) });
  const limits = { ...DEFAULT_LIMITS };
  for (const pair of value.items as Pair[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const where = at(isScalar(pair.key) ? pair.key.range?.[0] : offset);
    if (!LIMIT_KEYS.includes(key))
      throw new NodehostError('NH_ERR_CONFIG_HOST', `unknown setting 'limits.${key}' (known: ${LIMIT_KEYS.join(', ')})`, { source: where });
    const item = isScalar(pair.value) ? pair.value.value : undefined;
    if (key === 'maxConnections' || key === 'maxHeaderCount') {
      if (!(Number.isSafeInteger(item) && (item as number) >= 0))
        throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'limits.${key}' must be a whole number (0: no limit)`, { source: where });
      limits[key] = item as number;
      continue;
    }
    if (key === 'halfClose') {
      if (item !== 'abort' && item !== 'respond')
        throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'limits.halfClose' must be abort or respond (got ${JSON.stringify(item ?? null)})`, {
          source: where,
        });
      limits.halfClose = item;
      continue;
    }
    const ms = parseDuration(item);
    if (ms === undefined)
      throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'limits.${key}' must be a duration such as 60s, 500ms or 2m, or off`, { source: where });
    if (key === 'headerTimeout') limits.headerTimeoutMs = ms;
    else if (key === 'bodyTimeout') limits.bodyTimeoutMs = ms;
    else if (key === 'idleTimeout') limits.idleTimeoutMs = ms;
    else if (key === 'ticketKeyRotation') limits.ticketKeyRotationMs = ms;
    else limits.requestTimeoutMs = ms;
  }
  if (limits.requestTimeoutMs > 0 && (limits.headerTimeoutMs === 0 || limits.headerTimeoutMs > limits.requestTimeoutMs))
    throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'limits.headerTimeout' must be on and no longer than 'limits.requestTimeout'", {
      source: at(offset),
    });
  return limits;
}

/** The Let's Encrypt production directory: `acme: { directory }` when absent. */
export const DEFAULT_ACME_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** AcmeSettings is the `acme` key: the ACME directory (RFC 8555) nodehost orders certificates from and where it keeps them. */
export interface AcmeSettings {
  /** The account's contact address; undefined: an account without contact. */
  readonly email?: string | undefined;
  /** The directory URL. */
  readonly directory: string;
  /** The folder of the account key and certificates (0700, files 0600), resolved against the file's folder; default `acme` beside nodehost.yml. */
  readonly storage: string;
  /** Extra CA certificates (PEM) trusted for the directory's own HTTPS, for a private directory. */
  readonly caFile?: string | undefined;
  /**
   * The wait after a first failed order (key `retryDelay`, a duration), doubled after each further
   * failure up to 12 hours; undefined: 1 minute. A shorter one suits a private directory only: a
   * public one counts failed orders against the account.
   */
  readonly retryDelayMs?: number | undefined;
}

/** HostAdminConfig is the `admin` mapping of nodehost.yml. */
export interface HostAdminConfig {
  readonly listen?: { readonly host: string; readonly port: number } | undefined;
  readonly token?: string | undefined;
  readonly metrics?: boolean | undefined;
  /** `<healthPath>/ready` and `<healthPath>/live` answered on every site's own port too; undefined: on the admin listener only. */
  readonly healthPath?: string | undefined;
}

const ADMIN_KEYS = ['listen', 'token', 'metrics', 'healthPath'];

/** parseAdmin reads the `admin` mapping; throws NH_ERR_CONFIG_HOST naming the line. */
function parseAdmin(value: unknown, at: (offset: number | undefined) => { file: string; line: number }, offset: number | undefined): HostAdminConfig {
  if (!isMap(value)) throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'admin' must be a mapping (${ADMIN_KEYS.join(', ')})`, { source: at(offset) });
  const admin: { listen?: { host: string; port: number }; token?: string; metrics?: boolean; healthPath?: string } = {};
  for (const pair of value.items as Pair[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const where = at(isScalar(pair.key) ? pair.key.range?.[0] : offset);
    const item = isScalar(pair.value) ? pair.value.value : undefined;
    if (!ADMIN_KEYS.includes(key))
      throw new NodehostError('NH_ERR_CONFIG_HOST', `unknown setting 'admin.${key}' (known: ${ADMIN_KEYS.join(', ')})`, { source: where });
    if (key === 'listen') {
      const match = typeof item === 'string' || typeof item === 'number' ? /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$|^(\d{1,5})$/.exec(String(item)) : null;
      const port = match === null ? NaN : Number(match[3] ?? match[4]);
      if (match === null || port > 65535)
        throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'admin.listen' must be <host>:<port> or <port> (got ${JSON.stringify(item ?? null)})`, {
          source: where,
        });
      admin.listen = { host: match[1] ?? (match[2] || '127.0.0.1'), port };
    } else if (key === 'token') {
      if (typeof item !== 'string' || item === '')
        throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'admin.token' must be a non-empty string", { source: where });
      admin.token = item;
    } else if (key === 'healthPath') {
      if (typeof item !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(item) || /\/\.\.?(\/|$)/.test(item))
        throw new NodehostError(
          'NH_ERR_CONFIG_HOST',
          `setting 'admin.healthPath' must be a URL path such as /_nodehost (got ${JSON.stringify(item ?? null)})`,
          {
            source: where,
          },
        );
      admin.healthPath = item;
    } else {
      if (typeof item !== 'boolean') throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'admin.metrics' must be true or false", { source: where });
      admin.metrics = item;
    }
  }
  return admin;
}

/** parseTrustedProxies reads the `trustedProxies` list (or one entry alone); throws NH_ERR_CONFIG_HOST naming the entry's line. */
function parseTrustedProxies(value: unknown, at: (offset: number | undefined) => { file: string; line: number }, offset: number | undefined): ProxyRange[] {
  const items = isSeq(value) ? value.items : isScalar(value) && value.value !== null ? [value] : [];
  if (items.length === 0)
    throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'trustedProxies' must be a list of addresses or CIDR ranges (e.g. [127.0.0.1, 10.0.0.0/8])", {
      source: at(offset),
    });
  return items.map((item) => {
    const text = isScalar(item) ? String(item.value) : '';
    const range = parseProxyRange(text);
    if (range === undefined)
      throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'trustedProxies': ${JSON.stringify(text)} is not an IP address or CIDR range`, {
        source: at(isScalar(item) ? item.range?.[0] : offset),
      });
    return range;
  });
}

/**
 * Binding is one `protocol://host:port` string of a site (IIS's site bindings). `host` is a
 * lower-case name, `*` (any name) or `*.suffix` (any name ending in `.suffix`), or an IP
 * literal (`127.0.0.1`, `[::1]`): then `address` is set and the binding takes any host name
 * on connections to that local address.
 */
export interface Binding {
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** The local IP address of an IP-literal binding (no brackets); undefined for names and `*`. */
  readonly address?: string | undefined;
  /** The string as written, for messages. */
  readonly text: string;
}

/** TlsFiles names a site's certificate (PEM, the chain after the leaf) and private key (PEM), resolved against the file's folder. */
export interface TlsFiles {
  readonly certificate: string;
  readonly key: string;
  /**
   * `tls: { selfSigned: true }`: the names (DNS names and IP addresses) nodehost certifies itself
   * in `certificate` (which then holds the key too), made at start when missing, expiring or for
   * other names; undefined: the files are the operator's.
   */
  readonly selfSigned?: readonly string[] | undefined;
}

/** SiteSpec is one entry of `sites` in the long form. */
export interface SiteSpec {
  readonly name: string;
  readonly root: string;
  readonly bindings: readonly Binding[];
  readonly tls?: TlsFiles | undefined;
  /** `tls: { acme: true }`: the certificate of the https bindings comes from the `acme` directory. */
  readonly acme?: boolean | undefined;
  /** Requests on an http binding get 301 to the site's first https binding (key `redirectToHttps`). */
  readonly redirectToHttps?: boolean | undefined;
  /** The Strict-Transport-Security value added to https responses (key `hsts`); undefined: none. */
  readonly hsts?: string | undefined;
  /** The site's users file for Basic authentication (key `users`), resolved; undefined: none. */
  readonly users?: string | undefined;
  /** The site's applications and virtual directories (keys `applications`, `virtualDirectories`: lists of `{ path, root }`). */
  readonly mounts: readonly Mount[];
  /** Where the configuration names the site, for messages. */
  readonly source: { readonly file: string; readonly line: number };
}

const KEYS = [
  'root',
  'name',
  'host',
  'port',
  'logs',
  'globalRules',
  'hostProcesses',
  'users',
  'admin',
  'compression',
  'user',
  'group',
  'trustedProxies',
  'limits',
  'followSymlinks',
  'sites',
  'defaultSite',
  'acme',
] as const;
const SITE_KEYS = ['name', 'root', 'bindings', 'tls', 'redirectToHttps', 'hsts', 'users', 'applications', 'virtualDirectories'] as const;
const TLS_KEYS = ['certificate', 'key', 'acme', 'selfSigned'] as const;
const ACME_KEYS = ['email', 'directory', 'storage', 'caFile', 'retryDelay'] as const;
/** The longest acme.retryDelay: the backoff's own cap. */
const ACME_RETRY_DELAY_MAX_MS = 12 * 3_600_000;
/** The short-form keys that the long form replaces with `sites` (each site has its own). */
const SHORT_FORM_ONLY = ['root', 'name', 'port', 'users'] as const;

/**
 * selfSignedNames are the names a self-signed certificate covers: each https binding's host name
 * or IP address, `*` standing for `localhost` and the loopback addresses (a development site),
 * `*.domain` for itself; empty when the site has no https binding.
 */
function selfSignedNames(bindings: readonly Binding[]): string[] {
  const names = new Set<string>();
  for (const binding of bindings) {
    if (binding.protocol !== 'https') continue;
    if (binding.host === '*') for (const name of ['localhost', '127.0.0.1', '::1']) names.add(name);
    else names.add(binding.address ?? binding.host);
  }
  return [...names];
}

/** parseBinding reads `http://*:8080` or `https://shop.example.test:8443`; undefined when malformed. */
export function parseBinding(text: string): Binding | undefined {
  const match = /^(https?):\/\/(\*|\*\.[a-z0-9.-]+|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]):(\d{1,5})\/?$/i.exec(text);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  const host = match[2]!.toLowerCase();
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  const family = isIP(literal);
  if (host.startsWith('[') && family !== 6) return undefined;
  return { protocol: match[1]!.toLowerCase() as 'http' | 'https', host, port, text, ...(family === 0 ? {} : { address: literal }) };
}

/**
 * parseHostProcesses reads a `hostProcesses` value (nodehost.yml or `serve --host-processes`):
 * a positive integer, or `auto` for os.availableParallelism(). Returns undefined when invalid.
 */
export function parseHostProcesses(value: unknown): number | undefined {
  if (value === 'auto') return availableParallelism();
  const count = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof count === 'number' && Number.isSafeInteger(count) && count >= 1 ? count : undefined;
}

/** loadHostConfig reads and validates nodehost.yml; throws NH_ERR_CONFIG_HOST naming file:line. */
export function loadHostConfig(file: string): HostConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NodehostError('NH_ERR_CONFIG_HOST', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter: lines });
  const at = (offset: number | undefined) => ({ file, line: offset === undefined ? 1 : lines.linePos(offset).line });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new NodehostError('NH_ERR_CONFIG_HOST', first.message.split('\n')[0]!, { source: at(first.pos[0]) });
  }
  const values: Record<string, unknown> = {};
  if (doc.contents !== null && doc.contents !== undefined) {
    if (!isMap(doc.contents))
      throw new NodehostError('NH_ERR_CONFIG_HOST', 'nodehost.yml must be a mapping of settings', { source: at(doc.contents.range?.[0]) });
    for (const pair of doc.contents.items as Pair[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      if (!(KEYS as readonly string[]).includes(key)) {
        throw new NodehostError('NH_ERR_CONFIG_HOST', `unknown setting '${key}' (known: ${KEYS.join(', ')})`, { source: at(offset) });
      }
      if (key === 'sites') {
        values[key] = readSites(pair.value as Node | null, at(offset), at, file);
        continue;
      }
      if (key === 'admin') {
        values[key] = parseAdmin(pair.value, at, offset);
        continue;
      }
      if (key === 'trustedProxies') {
        values[key] = parseTrustedProxies(pair.value, at, offset);
        continue;
      }
      if (key === 'acme') {
        values[key] = readAcme(pair.value as Node | null, at(offset), at, file);
        continue;
      }
      if (key === 'limits') {
        values[key] = parseLimits(pair.value, at, offset);
        continue;
      }
      const value = isScalar(pair.value) ? pair.value.value : undefined;
      if (key === 'followSymlinks') {
        if (!(FOLLOW_SYMLINKS as readonly unknown[]).includes(value))
          throw new NodehostError(
            'NH_ERR_CONFIG_HOST',
            `setting 'followSymlinks' must be one of ${FOLLOW_SYMLINKS.join(', ')} (got ${JSON.stringify(value ?? null)})`,
            {
              source: at(offset),
            },
          );
        values[key] = value;
        continue;
      }
      if (key === 'user' || key === 'group') {
        const isId = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
        if (!isId && (typeof value !== 'string' || !/^[a-z_][a-z0-9_.-]*\$?$/i.test(value)))
          throw new NodehostError('NH_ERR_CONFIG_HOST', `setting '${key}' must be a ${key} name or a numeric id (got ${JSON.stringify(value ?? null)})`, {
            source: at(offset),
          });
        values[key] = String(value);
        continue;
      }
      if (key === 'hostProcesses') {
        // YAML gives 2 as a number; of the strings only `auto` is meant.
        values[key] = typeof value === 'string' && value !== 'auto' ? undefined : parseHostProcesses(value);
        if (values[key] === undefined) {
          throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'hostProcesses' must be a positive integer or 'auto' (got ${JSON.stringify(value ?? null)})`, {
            source: at(offset),
          });
        }
        continue;
      }
      if (key === 'port' ? !(Number.isInteger(value) && (value as number) >= 0 && (value as number) < 65536) : typeof value !== 'string') {
        throw new NodehostError('NH_ERR_CONFIG_HOST', `setting '${key}' must be ${key === 'port' ? 'a port number' : 'a string'}`, { source: at(offset) });
      }
      if (key === 'globalRules' || key === 'compression') {
        const scalar = pair.value as Scalar;
        const valueLine = at(scalar.range?.[0]).line;
        // A block scalar (`|`) starts on the line after its indicator.
        const isBlock = scalar.type === yaml().Scalar.BLOCK_LITERAL || scalar.type === yaml().Scalar.BLOCK_FOLDED;
        const load = key === 'globalRules' ? loadGlobalRules : loadHostCompression;
        values[key] = load(value as string, at(offset), isBlock ? valueLine + 1 : valueLine, (relative) => resolve(dirname(file), relative));
        continue;
      }
      values[key] = value;
    }
  }
  const sites = values.sites as SiteSpec[] | undefined;
  if (sites !== undefined) {
    for (const key of SHORT_FORM_ONLY) {
      if (values[key] !== undefined)
        throw new NodehostError(
          'NH_ERR_CONFIG_HOST',
          `setting '${key}' belongs to the short form; with 'sites' give each site its own (name, root, bindings, users)`,
          { source: keyAt(doc.contents as Node, key, at) },
        );
    }
  }
  if (values.group !== undefined && values.user === undefined)
    throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'group' needs 'user' (the user to switch to after binding)", {
      source: keyAt(doc.contents as Node, 'group', at),
    });
  if (values.defaultSite !== undefined && (sites === undefined || !sites.some((site) => site.name === values.defaultSite))) {
    throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'defaultSite' names no site of 'sites' (got ${JSON.stringify(values.defaultSite)})`, {
      source: keyAt(doc.contents as Node, 'defaultSite', at),
    });
  }
  const acmeSite = sites?.find((site) => site.acme === true);
  if (acmeSite !== undefined && values.hostProcesses !== undefined && (values.hostProcesses as number) > 1) {
    throw new NodehostError(
      'NH_ERR_CONFIG_HOST',
      `site '${acmeSite.name}' has 'tls: { acme: true }': automatic certificates need one host process (hostProcesses: 1), which answers the challenges`,
      { source: keyAt(doc.contents as Node, 'hostProcesses', at) },
    );
  }
  return {
    sites,
    acme:
      acmeSite === undefined
        ? undefined
        : ((values.acme as AcmeSettings | undefined) ?? { directory: DEFAULT_ACME_DIRECTORY, storage: resolve(dirname(file), 'acme') }),
    defaultSite: values.defaultSite as string | undefined,
    root: values.root === undefined ? undefined : resolve(dirname(file), values.root as string),
    name: values.name as string | undefined,
    host: values.host as string | undefined,
    port: values.port as number | undefined,
    globalRules: values.globalRules as readonly InboundRule[] | undefined,
    hostProcesses: values.hostProcesses as number | undefined,
    ...(values.users === undefined ? {} : { users: resolve(dirname(file), values.users as string) }),
    admin: values.admin as HostAdminConfig | undefined,
    user: values.user as string | undefined,
    group: values.group as string | undefined,
    compression: values.compression as CompressionSection | undefined,
    trustedProxies: values.trustedProxies as readonly ProxyRange[] | undefined,
    limits: values.limits as HostLimits | undefined,
    followSymlinks: values.followSymlinks as FollowSymlinks | undefined,
    logs: values.logs === undefined || values.logs === '' ? (values.logs as string | undefined) : resolve(dirname(file), values.logs as string),
  };
}

type At = (offset: number | undefined) => { file: string; line: number };

/** keyAt is the position of `key` in a mapping node. */
function keyAt(node: Node, key: string, at: At): { file: string; line: number } {
  if (!isMap(node)) return at(node.range?.[0]);
  const pair = (node.items as Pair[]).find((item) => isScalar(item.key) && String(item.key.value) === key);
  return at(isScalar(pair?.key) ? pair.key.range?.[0] : node.range?.[0]);
}

/** readSites validates the long form's `sites` list (see SiteSpec). */
function readSites(node: Node | null, keySource: { file: string; line: number }, at: At, file: string): SiteSpec[] {
  const fail = (message: string, source: { file: string; line: number }): never => {
    throw new NodehostError('NH_ERR_CONFIG_HOST', message, { source });
  };
  if (node === null || !isSeq(node) || node.items.length === 0) fail("setting 'sites' must be a list of sites (name, root, bindings)", keySource);
  const sites: SiteSpec[] = [];
  const taken = new Map<string, string>();
  const portProtocols = new Map<number, string>();
  for (const item of (node as { items: unknown[] }).items as Node[]) {
    const siteAt = at(item.range?.[0]);
    if (!isMap(item)) fail('each entry of sites must be a mapping (name, root, bindings)', siteAt);
    const fields = new Map<string, { value: Node | null; source: { file: string; line: number } }>();
    for (const pair of (item as { items: Pair[] }).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const source = at(isScalar(pair.key) ? pair.key.range?.[0] : item.range?.[0]);
      if (!(SITE_KEYS as readonly string[]).includes(key)) fail(`unknown site setting '${key}' (known: ${SITE_KEYS.join(', ')})`, source);
      fields.set(key, { value: pair.value as Node | null, source });
    }
    const text = (key: string): string | undefined => {
      const field = fields.get(key);
      if (field === undefined) return undefined;
      const value = isScalar(field.value) ? field.value.value : undefined;
      if (typeof value !== 'string' || value === '') fail(`site setting '${key}' must be a non-empty string`, field.source);
      return value as string;
    };
    const name = text('name') ?? fail("a site needs a 'name'", siteAt);
    const root = text('root') ?? fail(`site '${name}' needs a 'root' folder`, siteAt);
    if (sites.some((site) => site.name === name)) fail(`two sites are named '${name}'`, fields.get('name')!.source);
    const bindingsField = fields.get('bindings') ?? fail(`site '${name}' needs 'bindings' (such as "http://*:8080")`, siteAt);
    if (!isSeq(bindingsField.value) || bindingsField.value.items.length === 0)
      fail(`site setting 'bindings' must be a list of binding strings such as "http://*:8080"`, bindingsField.source);
    const bindings: Binding[] = [];
    for (const entry of (bindingsField.value as { items: Node[] }).items) {
      const entryAt = at(entry.range?.[0]);
      const value = isScalar(entry) ? entry.value : undefined;
      const binding = typeof value === 'string' ? parseBinding(value) : undefined;
      if (binding === undefined)
        fail(
          `bad binding ${JSON.stringify(value ?? null)}: write protocol://host:port, such as "http://*:8080" or "https://shop.example.test:8443" (host: a name, * or *.domain, or a local IP address such as 127.0.0.1 or [::1])`,
          entryAt,
        );
      const { protocol, host, port } = binding!;
      const id = `${host}:${port}`;
      if (taken.has(id)) fail(`binding ${binding!.text} is taken already by site '${taken.get(id)}'`, entryAt);
      const other = portProtocols.get(port);
      if (other !== undefined && other !== protocol) fail(`binding ${binding!.text}: port ${port} already serves ${other}`, entryAt);
      taken.set(id, name);
      portProtocols.set(port, protocol);
      bindings.push(binding!);
    }
    let tls: TlsFiles | undefined;
    let acme: boolean | undefined;
    let selfSigned: boolean | undefined;
    const tlsField = fields.get('tls');
    if (tlsField !== undefined) {
      if (!isMap(tlsField.value))
        fail("site setting 'tls' must be a mapping with 'certificate' and 'key' (PEM files), 'acme: true' or 'selfSigned: true'", tlsField.source);
      const files: Record<string, string> = {};
      for (const pair of (tlsField.value as { items: Pair[] }).items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const source = at(isScalar(pair.key) ? pair.key.range?.[0] : tlsField.value!.range?.[0]);
        if (!(TLS_KEYS as readonly string[]).includes(key)) fail(`unknown tls setting '${key}' (known: ${TLS_KEYS.join(', ')})`, source);
        const value = isScalar(pair.value) ? pair.value.value : undefined;
        if (key === 'acme') {
          if (typeof value !== 'boolean') fail("tls setting 'acme' must be true or false", source);
          acme = value as boolean;
          continue;
        }
        if (key === 'selfSigned') {
          if (typeof value !== 'boolean') fail("tls setting 'selfSigned' must be true or false", source);
          selfSigned = value as boolean;
          continue;
        }
        if (typeof value !== 'string' || value === '') fail(`tls setting '${key}' must be a file path`, source);
        files[key] = resolve(dirname(file), value as string);
      }
      if (acme === true && selfSigned === true) fail("site setting 'tls' has 'acme: true' and 'selfSigned: true': give one or the other", tlsField.source);
      if (selfSigned === true) {
        if (files.certificate !== undefined || files.key !== undefined)
          fail("site setting 'tls' has 'selfSigned: true' and certificate files: give one or the other", tlsField.source);
        const names = selfSignedNames(bindings);
        if (names.length === 0) fail("site setting 'tls: { selfSigned: true }' needs an https binding to certify", tlsField.source);
        // Kept beside nodehost.yml, so a restart presents the same certificate (a browser's exception stays valid).
        const pem = resolve(dirname(file), 'self-signed', `${name.replace(/[^a-zA-Z0-9.-]+/g, '_')}.pem`);
        tls = { certificate: pem, key: pem, selfSigned: names };
      } else if (acme === true) {
        if (files.certificate !== undefined || files.key !== undefined)
          fail("site setting 'tls' has 'acme: true' and certificate files: give one or the other", tlsField.source);
        const unnamed = bindings.find((binding) => binding.protocol === 'https' && binding.host.startsWith('*'));
        if (unnamed !== undefined)
          fail(
            `binding ${unnamed.text}: 'tls: { acme: true }' needs host names in the https bindings (a certificate for * or *.domain needs DNS validation)`,
            tlsField.source,
          );
        if (!bindings.some((binding) => binding.protocol === 'https'))
          fail("site setting 'tls: { acme: true }' needs an https binding to certify", tlsField.source);
      } else {
        if (files.certificate === undefined || files.key === undefined) fail("site setting 'tls' needs both 'certificate' and 'key'", tlsField.source);
        tls = { certificate: files.certificate!, key: files.key! };
      }
    }
    if (tls === undefined && acme !== true && bindings.some((binding) => binding.protocol === 'https'))
      fail(`site '${name}' has an https binding but no 'tls' (certificate and key, acme: true or selfSigned: true)`, bindingsField.source);
    let redirectToHttps: boolean | undefined;
    const redirectField = fields.get('redirectToHttps');
    if (redirectField !== undefined) {
      const value = isScalar(redirectField.value) ? redirectField.value.value : undefined;
      if (typeof value !== 'boolean') fail("site setting 'redirectToHttps' must be true or false", redirectField.source);
      if (value === true && !bindings.some((binding) => binding.protocol === 'https'))
        fail("site setting 'redirectToHttps' needs an https binding to redirect to", redirectField.source);
      redirectToHttps = value as boolean;
    }
    const users = text('users');
    const mounts: Mount[] = [];
    for (const key of ['applications', 'virtualDirectories'] as const) {
      const field = fields.get(key);
      if (field !== undefined) mounts.push(...readMounts(key, field.value, field.source, at, file, mounts));
    }
    sites.push({
      name,
      root: resolve(dirname(file), root),
      bindings,
      tls,
      acme,
      redirectToHttps,
      hsts: text('hsts'),
      users: users === undefined ? undefined : resolve(dirname(file), users),
      mounts,
      source: siteAt,
    });
  }
  return sites;
}

const MOUNT_KEYS = ['path', 'root'] as const;

/** readMounts validates an `applications` or `virtualDirectories` list: entries `{ path: /prefix, root: folder }`, each prefix once per site. */
function readMounts(
  key: 'applications' | 'virtualDirectories',
  node: Node | null,
  keySource: { file: string; line: number },
  at: At,
  file: string,
  taken: readonly Mount[],
): Mount[] {
  const fail = (message: string, source: { file: string; line: number }): never => {
    throw new NodehostError('NH_ERR_CONFIG_HOST', message, { source });
  };
  if (node === null || !isSeq(node)) fail(`site setting '${key}' must be a list of { path, root }`, keySource);
  const mounts: Mount[] = [];
  for (const item of (node as { items: Node[] }).items) {
    const itemAt = at(item.range?.[0]);
    if (!isMap(item)) fail(`each entry of ${key} must be a mapping { path, root }`, itemAt);
    const values: Record<string, string> = {};
    for (const pair of (item as { items: Pair[] }).items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const source = at(isScalar(pair.key) ? pair.key.range?.[0] : item.range?.[0]);
      if (!(MOUNT_KEYS as readonly string[]).includes(name)) fail(`unknown ${key} setting '${name}' (known: ${MOUNT_KEYS.join(', ')})`, source);
      const value = isScalar(pair.value) ? pair.value.value : undefined;
      if (typeof value !== 'string' || value === '') fail(`${key} setting '${name}' must be a non-empty string`, source);
      values[name] = value as string;
    }
    const urlPath = values.path ?? fail(`an entry of ${key} needs a 'path' (such as /node)`, itemAt);
    const root = values.root ?? fail(`an entry of ${key} needs a 'root' folder`, itemAt);
    const url = urlPath.replace(/\/+$/, '');
    if (!url.startsWith('/') || url.includes('//') || /(^|\/)\.\.?(\/|$)/.test(url) || url.includes('\\'))
      fail(`${key} path ${JSON.stringify(urlPath)} must be a URL path below the site root, such as /node`, itemAt);
    if ([...taken, ...mounts].some((other) => other.url.toLowerCase() === url.toLowerCase())) fail(`path ${url} is mounted twice in this site`, itemAt);
    mounts.push({ url, dir: resolve(dirname(file), root), isApplication: key === 'applications' });
  }
  return mounts;
}

/** readAcme validates the `acme` mapping (see AcmeSettings). */
function readAcme(node: Node | null, keySource: { file: string; line: number }, at: At, file: string): AcmeSettings {
  const fail = (message: string, source: { file: string; line: number }): never => {
    throw new NodehostError('NH_ERR_CONFIG_HOST', message, { source });
  };
  if (node === null || !isMap(node)) fail(`setting 'acme' must be a mapping (${ACME_KEYS.join(', ')})`, keySource);
  const values: Record<string, string> = {};
  let retryDelayMs: number | undefined;
  for (const pair of (node as { items: Pair[] }).items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const source = at(isScalar(pair.key) ? pair.key.range?.[0] : node!.range?.[0]);
    if (!(ACME_KEYS as readonly string[]).includes(key)) fail(`unknown acme setting '${key}' (known: ${ACME_KEYS.join(', ')})`, source);
    const value = isScalar(pair.value) ? pair.value.value : undefined;
    if (key === 'retryDelay') {
      const ms = parseDuration(value);
      if (ms === undefined || ms === 0 || ms > ACME_RETRY_DELAY_MAX_MS)
        fail("acme setting 'retryDelay' must be a duration such as 1m, 30s or 500ms, above 0 and at most 12h", source);
      retryDelayMs = ms as number;
      continue;
    }
    if (typeof value !== 'string' || value === '') fail(`acme setting '${key}' must be a non-empty string`, source);
    if (key === 'directory' && !/^https?:\/\/[^/]+/.test(value as string))
      fail(`acme setting 'directory' must be the directory's URL, such as ${DEFAULT_ACME_DIRECTORY}`, source);
    if (key === 'email' && !/^[^@\s]+@[^@\s]+$/.test(value as string))
      fail(`acme setting 'email' must be an e-mail address (got ${JSON.stringify(value)})`, source);
    if (key === 'caFile' && !existsSync(resolve(dirname(file), value as string)))
      fail(`acme setting 'caFile': no file ${resolve(dirname(file), value as string)}`, source);
    values[key] = value as string;
  }
  return {
    email: values.email,
    directory: values.directory ?? DEFAULT_ACME_DIRECTORY,
    storage: resolve(dirname(file), values.storage ?? 'acme'),
    caFile: values.caFile === undefined ? undefined : resolve(dirname(file), values.caFile),
    ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
  };
}

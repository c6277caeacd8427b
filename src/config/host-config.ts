/**
 * The host configuration file (`nodehost.yml`): where nodehost listens and which site it
 * serves. Command-line flags win over it. Later issues add several sites, bindings and
 * certificates; unknown keys are errors so a typo never passes silently.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, Scalar, type Pair } from 'yaml';
import { NodehostError } from '../errors.js';
import type { CompressionSection } from './compression-config.js';
import { loadGlobalRules } from './global-rules.js';
import { loadHostCompression } from './host-compression.js';
import { parseProxyRange, type ProxyRange } from './proxy-range.js';
import type { InboundRule } from './rewrite-types.js';

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
   * Host-wide compression defaults (key `compression`: `<httpCompression>` and/or
   * `<urlCompression>` as inline XML or a path to an XML file, relative to the file's folder;
   * see host-compression.ts), merged under every web.config of the site. Undefined when absent.
   */
  readonly compression?: CompressionSection | undefined;
  /**
   * The load balancers in front of nodehost (key `trustedProxies`: a list of addresses and CIDR
   * ranges, e.g. `[127.0.0.1, 10.0.0.0/8]`; docs/scale-out.md). A request from one of them is
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
   * being closed at accept (bounded memory under a flood of idle connections; default 10000).
   * Absent keys take their defaults.
   */
  readonly limits?: HostLimits | undefined;
  /**
   * Which symbolic links inside the site are followed for static files (key `followSymlinks`):
   * `inside` (default) serves a link only when its target is inside the site folder, `always`
   * serves every link, `never` serves no file reached through a link (docs/security.md).
   */
  readonly followSymlinks?: FollowSymlinks | undefined;
}

/** FollowSymlinks is the `followSymlinks` policy of nodehost.yml. */
export type FollowSymlinks = 'inside' | 'always' | 'never';
const FOLLOW_SYMLINKS: readonly FollowSymlinks[] = ['inside', 'always', 'never'];

/** HostLimits are the client timeouts in milliseconds (0 is off) and the connection cap (0 is none). */
export interface HostLimits {
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
}

/** DEFAULT_LIMITS: nginx's client_header_timeout and client_body_timeout; no whole-request bound; 10000 connections (about 100 MB of idle ones). */
export const DEFAULT_LIMITS: HostLimits = { headerTimeoutMs: 60_000, bodyTimeoutMs: 60_000, requestTimeoutMs: 0, maxConnections: 10_000 };
const LIMIT_KEYS = ['headerTimeout', 'bodyTimeout', 'requestTimeout', 'maxConnections'];

/** parseDuration reads `off`, `0`, or a number with a unit (`ms`, `s`, `m`; a bare number is seconds) into ms; undefined when invalid. */
export function parseDuration(value: unknown): number | undefined {
  if (value === 'off' || value === false) return 0;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value.trim());
  if (match === null) return undefined;
  const factor = match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000;
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
    if (key === 'maxConnections') {
      if (!(Number.isSafeInteger(item) && (item as number) >= 0))
        throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'limits.maxConnections' must be a whole number (0: no cap)", { source: where });
      limits.maxConnections = item as number;
      continue;
    }
    const ms = parseDuration(item);
    if (ms === undefined)
      throw new NodehostError('NH_ERR_CONFIG_HOST', `setting 'limits.${key}' must be a duration such as 60s, 500ms or 2m, or off`, { source: where });
    if (key === 'headerTimeout') limits.headerTimeoutMs = ms;
    else if (key === 'bodyTimeout') limits.bodyTimeoutMs = ms;
    else limits.requestTimeoutMs = ms;
  }
  if (limits.requestTimeoutMs > 0 && (limits.headerTimeoutMs === 0 || limits.headerTimeoutMs > limits.requestTimeoutMs))
    throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'limits.headerTimeout' must be on and no longer than 'limits.requestTimeout'", {
      source: at(offset),
    });
  return limits;
}

/** HostAdminConfig is the `admin` mapping of nodehost.yml. */
export interface HostAdminConfig {
  readonly listen?: { readonly host: string; readonly port: number } | undefined;
  readonly token?: string | undefined;
  readonly metrics?: boolean | undefined;
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
  'trustedProxies',
  'limits',
  'followSymlinks',
] as const;
const ADMIN_KEYS = ['listen', 'token', 'metrics'];

/** parseAdmin reads the `admin` mapping; throws NH_ERR_CONFIG_HOST naming the line. */
function parseAdmin(value: unknown, at: (offset: number | undefined) => { file: string; line: number }, offset: number | undefined): HostAdminConfig {
  if (!isMap(value)) throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'admin' must be a mapping (listen, token, metrics)", { source: at(offset) });
  const admin: { listen?: { host: string; port: number }; token?: string; metrics?: boolean } = {};
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
    } else {
      if (typeof item !== 'boolean') throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'admin.metrics' must be true or false", { source: where });
      admin.metrics = item;
    }
  }
  return admin;
}

/** parseTrustedProxies reads the `trustedProxies` list; throws NH_ERR_CONFIG_HOST naming the entry's line. */
function parseTrustedProxies(value: unknown, at: (offset: number | undefined) => { file: string; line: number }, offset: number | undefined): ProxyRange[] {
  if (!isSeq(value))
    throw new NodehostError('NH_ERR_CONFIG_HOST', "setting 'trustedProxies' must be a list of addresses or CIDR ranges (e.g. [127.0.0.1, 10.0.0.0/8])", {
      source: at(offset),
    });
  return value.items.map((item) => {
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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
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
      if (key === 'admin') {
        values[key] = parseAdmin(pair.value, at, offset);
        continue;
      }
      if (key === 'trustedProxies') {
        values[key] = parseTrustedProxies(pair.value, at, offset);
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
        const isBlock = scalar.type === Scalar.BLOCK_LITERAL || scalar.type === Scalar.BLOCK_FOLDED;
        const load = key === 'globalRules' ? loadGlobalRules : loadHostCompression;
        values[key] = load(value as string, at(offset), isBlock ? valueLine + 1 : valueLine, (relative) => resolve(dirname(file), relative));
        continue;
      }
      values[key] = value;
    }
  }
  return {
    root: values.root === undefined ? undefined : resolve(dirname(file), values.root as string),
    name: values.name as string | undefined,
    host: values.host as string | undefined,
    port: values.port as number | undefined,
    globalRules: values.globalRules as readonly InboundRule[] | undefined,
    hostProcesses: values.hostProcesses as number | undefined,
    ...(values.users === undefined ? {} : { users: resolve(dirname(file), values.users as string) }),
    admin: values.admin as HostAdminConfig | undefined,
    compression: values.compression as CompressionSection | undefined,
    trustedProxies: values.trustedProxies as readonly ProxyRange[] | undefined,
    limits: values.limits as HostLimits | undefined,
    followSymlinks: values.followSymlinks as FollowSymlinks | undefined,
    logs: values.logs === undefined || values.logs === '' ? (values.logs as string | undefined) : resolve(dirname(file), values.logs as string),
  };
}

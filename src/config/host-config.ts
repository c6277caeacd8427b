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
}

/** HostAdminConfig is the `admin` mapping of nodehost.yml. */
export interface HostAdminConfig {
  readonly listen?: { readonly host: string; readonly port: number } | undefined;
  readonly token?: string | undefined;
  readonly metrics?: boolean | undefined;
}

const KEYS = ['root', 'name', 'host', 'port', 'logs', 'globalRules', 'hostProcesses', 'users', 'admin', 'compression', 'trustedProxies'] as const;
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
      const value = isScalar(pair.value) ? pair.value.value : undefined;
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
    logs: values.logs === undefined || values.logs === '' ? (values.logs as string | undefined) : resolve(dirname(file), values.logs as string),
  };
}

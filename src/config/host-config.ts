/**
 * The host configuration file (`nodehost.yml`): where nodehost listens and which site it
 * serves. Command-line flags win over it. Later issues add several sites, bindings and
 * certificates; unknown keys are errors so a typo never passes silently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, Scalar, type Node, type Pair } from 'yaml';
import { NodehostError } from '../errors.js';
import { loadGlobalRules } from './global-rules.js';
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
  /** The long form (key `sites`): every site with its bindings; undefined in the short form. */
  readonly sites?: readonly SiteSpec[] | undefined;
  /** The site that answers a Host no binding names (key `defaultSite`); undefined: such requests get 404. */
  readonly defaultSite?: string | undefined;
  /** Automatic certificates (key `acme`) for the sites with `tls: { acme: true }`; defaults filled in. */
  readonly acme?: AcmeSettings | undefined;
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
}

/**
 * Binding is one `protocol://host:port` string of a site (IIS's site bindings). `host` is a
 * lower-case name, `*` (any name) or `*.suffix` (any name ending in `.suffix`).
 */
export interface Binding {
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** The string as written, for messages. */
  readonly text: string;
}

/** TlsFiles names a site's certificate (PEM, the chain after the leaf) and private key (PEM), resolved against the file's folder. */
export interface TlsFiles {
  readonly certificate: string;
  readonly key: string;
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
  /** Where the configuration names the site, for messages. */
  readonly source: { readonly file: string; readonly line: number };
}

const KEYS = ['root', 'name', 'host', 'port', 'logs', 'globalRules', 'hostProcesses', 'sites', 'defaultSite', 'acme'] as const;
const SITE_KEYS = ['name', 'root', 'bindings', 'tls', 'redirectToHttps', 'hsts', 'applications', 'virtualDirectories'] as const;
const TLS_KEYS = ['certificate', 'key', 'acme'] as const;
const ACME_KEYS = ['email', 'directory', 'storage', 'caFile'] as const;
/** The short-form keys that the long form replaces with `sites`. */
const SHORT_FORM_ONLY = ['root', 'name', 'port'] as const;

/** parseBinding reads `http://*:8080` or `https://shop.example.test:8443`; undefined when malformed. */
export function parseBinding(text: string): Binding | undefined {
  const match = /^(https?):\/\/(\*|\*\.[a-z0-9.-]+|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?):(\d{1,5})\/?$/i.exec(text);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { protocol: match[1]!.toLowerCase() as 'http' | 'https', host: match[2]!.toLowerCase(), port, text };
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
      if (key === 'sites') {
        values[key] = readSites(pair.value as Node | null, at(offset), at, file);
        continue;
      }
      if (key === 'acme') {
        values[key] = readAcme(pair.value as Node | null, at(offset), at, file);
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
      if (key === 'globalRules') {
        const scalar = pair.value as Scalar;
        const valueLine = at(scalar.range?.[0]).line;
        // A block scalar (`|`) starts on the line after its indicator.
        const isBlock = scalar.type === Scalar.BLOCK_LITERAL || scalar.type === Scalar.BLOCK_FOLDED;
        values[key] = loadGlobalRules(value as string, at(offset), isBlock ? valueLine + 1 : valueLine, (relative) => resolve(dirname(file), relative));
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
          `setting '${key}' belongs to the short form; with 'sites' give each site its own (name, root, bindings)`,
          { source: keyAt(doc.contents as Node, key, at) },
        );
    }
  }
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
      if (key === 'applications' || key === 'virtualDirectories') fail(`site setting '${key}' is not supported yet: serve one root per site`, source);
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
          `bad binding ${JSON.stringify(value ?? null)}: write protocol://host:port, such as "http://*:8080" or "https://shop.example.test:8443" (host: a name, * or *.domain)`,
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
    const tlsField = fields.get('tls');
    if (tlsField !== undefined) {
      if (!isMap(tlsField.value)) fail("site setting 'tls' must be a mapping with 'certificate' and 'key' (PEM files), or 'acme: true'", tlsField.source);
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
        if (typeof value !== 'string' || value === '') fail(`tls setting '${key}' must be a file path`, source);
        files[key] = resolve(dirname(file), value as string);
      }
      if (acme === true) {
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
      fail(`site '${name}' has an https binding but no 'tls' (certificate and key, or acme: true)`, bindingsField.source);
    let redirectToHttps: boolean | undefined;
    const redirectField = fields.get('redirectToHttps');
    if (redirectField !== undefined) {
      const value = isScalar(redirectField.value) ? redirectField.value.value : undefined;
      if (typeof value !== 'boolean') fail("site setting 'redirectToHttps' must be true or false", redirectField.source);
      if (value === true && !bindings.some((binding) => binding.protocol === 'https'))
        fail("site setting 'redirectToHttps' needs an https binding to redirect to", redirectField.source);
      redirectToHttps = value as boolean;
    }
    sites.push({ name, root: resolve(dirname(file), root), bindings, tls, acme, redirectToHttps, hsts: text('hsts'), source: siteAt });
  }
  return sites;
}

/** readAcme validates the `acme` mapping (see AcmeSettings). */
function readAcme(node: Node | null, keySource: { file: string; line: number }, at: At, file: string): AcmeSettings {
  const fail = (message: string, source: { file: string; line: number }): never => {
    throw new NodehostError('NH_ERR_CONFIG_HOST', message, { source });
  };
  if (node === null || !isMap(node)) fail(`setting 'acme' must be a mapping (${ACME_KEYS.join(', ')})`, keySource);
  const values: Record<string, string> = {};
  for (const pair of (node as { items: Pair[] }).items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const source = at(isScalar(pair.key) ? pair.key.range?.[0] : node!.range?.[0]);
    if (!(ACME_KEYS as readonly string[]).includes(key)) fail(`unknown acme setting '${key}' (known: ${ACME_KEYS.join(', ')})`, source);
    const value = isScalar(pair.value) ? pair.value.value : undefined;
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
  };
}

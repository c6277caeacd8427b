/**
 * FolderMerge is the mutable state of the IIS configuration merge at one configuration level:
 * it starts from the built-in base (or a copy of the parent level), applies the layers that
 * target the level one after another, and freezes into the FolderConfig request code reads.
 *
 *   base ─clone─▶ level '' ─clone─▶ level 'api' ─clone─▶ level 'api/v2' ...
 *                  │ layer: web.config top level      │ layers: <location path="api"> of /web.config,
 *                  │ layer: <location path=".">        │         then /api/web.config, ...
 *
 * Collections follow IIS (spec/rewrite.md 2.1): handlers and default documents PREPEND a
 * layer's adds before what it inherits (the inherited static catch-all must stay last);
 * mimeMap, hiddenSegments and appSettings APPEND. `<remove>` of a missing key is fine,
 * `<clear/>` drops everything before it, and adding a key that is already present is an
 * NH_ERR_CONFIG_DUPLICATE_KEY error (IIS 500.19), except where noted.
 */
import type { NodehostError, SourcePosition } from '../errors.js';
import { BASE_DEFAULT_DOCUMENTS, BASE_HIDDEN_SEGMENTS, BASE_MIME_MAP } from './base-config.js';
import { defaultIisnodeSettings } from './schema.js';
import type { ConfigWarning, FolderConfig, HandlerMapping, IisnodeSettingName, IisnodeSettings } from './types.js';
import { mergeCollection, type Entry, type RepeatPolicy } from './collection-merge.js';
import type { ConfigSections } from './web-config.js';
import { RewriteMerge } from './rewrite-compile.js';
import { RequestFilteringMerge } from './request-filtering-config.js';
import { CachingMerge } from './caching-config.js';
import { SecurityMerge } from './security-config.js';
import { CompressionMerge, type CompressionSection } from './compression-config.js';
import { ClientCacheMerge } from './client-cache-config.js';
import { HttpProtocolMerge } from './http-protocol-config.js';
import { HttpErrorsMerge } from './http-errors-config.js';

/**
 * HostDefaults are what the host configuration (nodehost.yml) sets for every level of a site,
 * under its web.config files: IIS's server level (applicationHost.config).
 */
export interface HostDefaults {
  /** Host-wide `<httpCompression>` / `<urlCompression>` (config/host-compression.ts). */
  readonly compression?: CompressionSection | undefined;
  /** A web.config read first at the site root, as if it were there (`nodehost serve app.js`); SiteConfig.load reads it. */
  readonly webConfig?: BaseWebConfig | undefined;
}

/**
 * BaseWebConfig is a web.config that is not a file of the site: what `nodehost serve app.js`
 * runs a folder without a web.config with (config/app-web-config.ts).
 */
export interface BaseWebConfig {
  /** What errors and handler sources name as the file, e.g. `web.config generated for app.js`. */
  readonly file: string;
  readonly text: string;
}

/**
 * The frozen lookups of the collections, by the entry list they were made from: a folder that
 * does not change its mimeMap (or hiddenSegments) shares its parent's list, and so its Map, which
 * for the 378 built-in MIME types is 14 KiB per folder when made anew.
 */
const mimeMaps = new WeakMap<readonly Entry<string>[], ReadonlyMap<string, string>>();
const hiddenSegmentSets = new WeakMap<readonly Entry<string>[], ReadonlySet<string>>();

function mimeMapOf(entries: readonly Entry<string>[]): ReadonlyMap<string, string> {
  let map = mimeMaps.get(entries);
  if (map === undefined) {
    map = new Map(entries.map((entry) => [entry.key, entry.value]));
    mimeMaps.set(entries, map);
  }
  return map;
}

function hiddenSegmentsOf(entries: readonly Entry<string>[]): ReadonlySet<string> {
  let set = hiddenSegmentSets.get(entries);
  if (set === undefined) {
    set = new Set(entries.map((entry) => entry.key));
    hiddenSegmentSets.set(entries, set);
  }
  return set;
}

/** FolderMerge holds one level's merge state; see the file comment. */
export class FolderMerge {
  private handlers: readonly Entry<HandlerMapping>[];
  private defaultDocumentEnabled: boolean;
  private defaultDocuments: readonly Entry<string>[];
  private mimeMap: readonly Entry<string>[];
  private hiddenSegments: readonly Entry<string>[];
  private appSettings: readonly Entry<readonly [string, string]>[];
  private readonly iisnode: IisnodeSettings;
  private readonly iisnodeSources: Partial<Record<IisnodeSettingName, SourcePosition>>;
  private readonly errors: NodehostError[];
  private readonly rewrite: RewriteMerge;
  private readonly requestFiltering: RequestFilteringMerge;
  private readonly caching: CachingMerge;
  private readonly security: SecurityMerge;
  private readonly compression: CompressionMerge;
  private readonly clientCache: ClientCacheMerge;
  private readonly httpProtocol: HttpProtocolMerge;
  private readonly httpErrors: HttpErrorsMerge;
  private frozen: FolderConfig | undefined;

  private constructor(from: FolderMerge | undefined) {
    if (from === undefined) {
      this.handlers = [];
      this.defaultDocumentEnabled = true;
      this.defaultDocuments = BASE_DEFAULT_DOCUMENTS.map((file) => ({ key: file.toLowerCase(), value: file, source: undefined }));
      this.mimeMap = [...BASE_MIME_MAP].map(([extension, type]) => ({ key: extension, value: type, source: undefined }));
      this.hiddenSegments = BASE_HIDDEN_SEGMENTS.map((segment) => ({ key: segment, value: segment, source: undefined }));
      this.appSettings = [];
      this.iisnode = defaultIisnodeSettings();
      this.iisnodeSources = {};
      this.errors = [];
      this.rewrite = new RewriteMerge();
      this.requestFiltering = new RequestFilteringMerge();
      this.caching = new CachingMerge();
      this.security = new SecurityMerge();
      this.compression = new CompressionMerge();
      this.clientCache = new ClientCacheMerge();
      this.httpProtocol = new HttpProtocolMerge();
      this.httpErrors = new HttpErrorsMerge();
    } else {
      // Collections are replaced, never mutated, so a child can share its parent's arrays.
      this.handlers = from.handlers;
      this.defaultDocumentEnabled = from.defaultDocumentEnabled;
      this.defaultDocuments = from.defaultDocuments;
      this.mimeMap = from.mimeMap;
      this.hiddenSegments = from.hiddenSegments;
      this.appSettings = from.appSettings;
      this.iisnode = { ...from.iisnode };
      this.iisnodeSources = { ...from.iisnodeSources };
      this.errors = [...from.errors];
      this.rewrite = new RewriteMerge(from.rewrite);
      this.requestFiltering = new RequestFilteringMerge(from.requestFiltering);
      this.caching = new CachingMerge(from.caching);
      this.security = new SecurityMerge(from.security);
      this.compression = new CompressionMerge(from.compression);
      this.clientCache = new ClientCacheMerge(from.clientCache);
      this.httpProtocol = new HttpProtocolMerge(from.httpProtocol);
      this.httpErrors = new HttpErrorsMerge(from.httpErrors);
    }
    this.frozen = undefined;
  }

  /**
   * base creates the state of the built-in base configuration, with the host's defaults
   * (nodehost.yml) applied; they were validated when nodehost.yml was read, so the errors a
   * merge could find were reported there.
   */
  static base(host: HostDefaults = {}): FolderMerge {
    const base = new FolderMerge(undefined);
    if (host.compression !== undefined) base.compression.apply(host.compression, base.errors, 'host');
    return base;
  }

  /** child creates a level below this one, inheriting everything it holds. */
  child(): FolderMerge {
    return new FolderMerge(this);
  }

  /** addErrors records errors that make every URL at and below this level fail. */
  addErrors(errors: readonly NodehostError[]): void {
    this.errors.push(...errors);
  }

  /**
   * apply merges one layer (a file's top level or one `<location>`) and returns the merge
   * errors it found (they are recorded on this level too). What it accepts but IIS would
   * refuse is pushed to `warnings`.
   */
  apply(sections: ConfigSections, warnings: ConfigWarning[] = []): NodehostError[] {
    const found: NodehostError[] = [];
    for (const assignment of sections.iisnode) {
      (this.iisnode as unknown as Record<string, unknown>)[assignment.name] = assignment.value;
      this.iisnodeSources[assignment.name] = assignment.source;
    }
    if (sections.defaultDocumentEnabled) this.defaultDocumentEnabled = sections.defaultDocumentEnabled.value;
    this.handlers = mergeCollection(this.handlers, sections.handlers, { order: 'prepend', section: 'system.webServer/handlers', keyName: 'name' }, found);
    this.defaultDocuments = mergeCollection(
      this.defaultDocuments,
      sections.defaultDocuments,
      { order: 'prepend', section: 'system.webServer/defaultDocument/files', keyName: 'value' },
      found,
    );
    this.mimeMap = mergeCollection(
      this.mimeMap,
      sections.mimeMap,
      { order: 'append', section: 'system.webServer/staticContent', keyName: 'fileExtension', onRepeat: overridesBuiltIn(warnings) },
      found,
    );
    this.hiddenSegments = mergeCollection(
      this.hiddenSegments,
      sections.hiddenSegments,
      { order: 'append', section: 'system.webServer/security/requestFiltering/hiddenSegments', keyName: 'segment' },
      found,
    );
    // appSettings allow repeated keys; the last one wins when the environment is built
    // (spec/rewrite.md 2.11 recommends last-wins, and .NET never rejected them).
    this.appSettings = mergeCollection(
      this.appSettings,
      sections.appSettings,
      { order: 'append', section: 'appSettings', keyName: 'key', onRepeat: allowsRepeat },
      found,
    );
    if (sections.rewrite) this.rewrite.apply(sections.rewrite, found);
    if (sections.requestFiltering) this.requestFiltering.apply(sections.requestFiltering, found);
    if (sections.caching) this.caching.apply(sections.caching, found);
    if (sections.security) this.security.apply(sections.security, found);
    if (sections.compression) this.compression.apply(sections.compression, found);
    for (const clientCache of sections.clientCache ?? []) this.clientCache.apply(clientCache);
    if (sections.httpProtocol) this.httpProtocol.apply(sections.httpProtocol, found);
    if (sections.httpErrors) this.httpErrors.apply(sections.httpErrors, found);
    this.errors.push(...sections.errors, ...found);
    return found;
  }

  /** freeze returns the FolderConfig of this level; call it once every layer is applied. */
  freeze(): FolderConfig {
    this.frozen ??= Object.freeze({
      handlers: Object.freeze(this.handlers.map((entry) => entry.value)),
      defaultDocument: Object.freeze({ enabled: this.defaultDocumentEnabled, files: Object.freeze(this.defaultDocuments.map((entry) => entry.value)) }),
      mimeMap: mimeMapOf(this.mimeMap),
      hiddenSegments: hiddenSegmentsOf(this.hiddenSegments),
      // Entries with an empty key are dropped: iisnode never passed them to node (test 108).
      appSettings: Object.freeze(this.appSettings.filter((entry) => entry.value[0] !== '').map((entry) => entry.value)),
      iisnode: Object.freeze({ ...this.iisnode }),
      iisnodeSources: Object.freeze({ ...this.iisnodeSources }),
      errors: Object.freeze([...this.errors]),
      rewrite: this.rewrite.freeze(),
      requestFiltering: this.requestFiltering.freeze(),
      caching: this.caching.freeze(),
      security: this.security.freeze(),
      compression: this.compression.freeze(),
      clientCache: this.clientCache.freeze(),
      httpProtocol: this.httpProtocol.freeze(),
      httpErrors: this.httpErrors.freeze(),
    });
    return this.frozen;
  }
}

/**
 * A mimeMap add that repeats a built-in base entry replaces it instead of failing: IIS versions
 * differ in their base lists, and sites written for older ones carry `.json`/`.woff2` adds
 * (often without the `<remove>` first), which must work whatever our base holds. IIS itself
 * answers 500.19 when its own list has the extension, so each such add is also a warning:
 * the site may fail when moved back to IIS.
 */
function overridesBuiltIn(warnings: ConfigWarning[]): RepeatPolicy {
  return (existing, added) => {
    if (existing.source !== undefined) return 'error';
    warnings.push({
      source: added.source,
      message:
        `mimeMap fileExtension '${added.key}' is already in the built-in list (IIS 10's); nodehost lets this entry replace it, ` +
        `but IIS answers 500.19 (Cannot add duplicate collection entry): add <remove fileExtension="${added.key}"/> before it`,
    });
    return 'replace';
  };
}

function allowsRepeat(): 'keep-both' {
  return 'keep-both';
}

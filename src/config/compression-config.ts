/**
 * The compression sections of web.config (spec/rewrite.md §2.7): `system.webServer/urlCompression`
 * (doStaticCompression, doDynamicCompression) and `system.webServer/httpCompression` (the size
 * and request limits, `<staticTypes>`, `<dynamicTypes>` and `<scheme>`). IIS reads
 * httpCompression from applicationHost.config only; nodehost has none, so both sections are
 * read in any web.config and in `<location>`, and merge per level like every other section.
 *
 * readUrlCompression / readHttpCompression read one element into a CompressionSection;
 * CompressionMerge merges them per configuration level and freezes a CompressionConfig.
 */
import type { NodehostError } from '../errors.js';
import { mergeCollection, type CollectionOp, type Entry, type RepeatPolicy } from './collection-merge.js';
import type { CompressionConfig, CompressionScheme, CompressionTypeList } from './types.js';
import { AttributeReader, configError, sourcePosition } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

export type { CompressionConfig, CompressionScheme };

/** CompressionSection is what one configuration place declares (undefined fields: not set). */
export interface CompressionSection {
  doStaticCompression: boolean | undefined;
  doDynamicCompression: boolean | undefined;
  minFileSizeForComp: number | undefined;
  noCompressionForRange: boolean | undefined;
  noCompressionForHttp10: boolean | undefined;
  noCompressionForProxies: boolean | undefined;
  /** `<staticTypes>`; the value is `enabled`. */
  readonly staticTypes: CollectionOp<boolean>[];
  /** `<dynamicTypes>`; the value is `enabled`. */
  readonly dynamicTypes: CollectionOp<boolean>[];
  /** `<scheme>` entries; the value is the scheme name. */
  readonly schemes: CollectionOp<CompressionScheme>[];
}

/** newCompressionSection returns a section that sets nothing. */
export function newCompressionSection(): CompressionSection {
  return {
    doStaticCompression: undefined,
    doDynamicCompression: undefined,
    minFileSizeForComp: undefined,
    noCompressionForRange: undefined,
    noCompressionForHttp10: undefined,
    noCompressionForProxies: undefined,
    staticTypes: [],
    dynamicTypes: [],
    schemes: [],
  };
}

/**
 * BASE_STATIC_TYPES are IIS 10's static types in its order, plus `application/json`
 * (nodehost's addition: IIS lacks it, and JSON is what node sites serve most), then the
 * disabled catch-all.
 */
export const BASE_STATIC_TYPES: readonly (readonly [string, boolean])[] = Object.freeze([
  ['text/*', true],
  ['message/*', true],
  ['application/javascript', true],
  ['application/atom+xml', true],
  ['application/xaml+xml', true],
  ['image/svg+xml', true],
  ['application/json', true],
  ['*/*', false],
] as const);

/**
 * BASE_DYNAMIC_TYPES are IIS 10's dynamic types, plus `application/json` (nodehost's addition),
 * with `text/event-stream` disabled as in IIS: an exact entry wins over `text/*`, so server-sent
 * events are not compressed unless a web.config enables them.
 */
export const BASE_DYNAMIC_TYPES: readonly (readonly [string, boolean])[] = Object.freeze([
  ['text/*', true],
  ['message/*', true],
  ['application/x-javascript', true],
  ['application/javascript', true],
  ['application/json', true],
  ['*/*', false],
  ['text/event-stream', false],
] as const);

/** BASE_SCHEMES are the schemes every site has unless a web.config removes them, in server preference order. */
export const BASE_SCHEMES: readonly CompressionScheme[] = Object.freeze(['br', 'gzip', 'deflate'] as const);

const SCHEME_NAMES: readonly CompressionScheme[] = ['br', 'gzip', 'deflate'];

/** minFileSizeForComp's IIS default (since IIS 7.5), in bytes. */
export const DEFAULT_MIN_FILE_SIZE_FOR_COMP = 2700;

const URL_WHERE = 'system.webServer/urlCompression';
const HTTP_WHERE = 'system.webServer/httpCompression';

const URL_COMPRESSION_ATTRIBUTES = ['doStaticCompression', 'doDynamicCompression', 'dynamicCompressionBeforeCache'];
/** The attributes nodehost applies, then those it accepts (IIS's, for portability) and ignores. */
const HTTP_COMPRESSION_ATTRIBUTES = [
  'minFileSizeForComp',
  'noCompressionForRange',
  'noCompressionForHttp10',
  'noCompressionForProxies',
  'directory',
  'doDiskSpaceLimiting',
  'maxDiskSpaceUsage',
  'sendCacheHeaders',
  'cacheControlHeader',
  'expiresHeader',
  'staticCompressionIgnoreHitFrequency',
  'staticCompressionDisableCpuUsage',
  'staticCompressionEnableCpuUsage',
  'dynamicCompressionDisableCpuUsage',
  'dynamicCompressionEnableCpuUsage',
  'dynamicCompressionBufferLimit',
];
const SCHEME_ATTRIBUTES = ['name', 'dll', 'staticCompressionLevel', 'dynamicCompressionLevel', 'doStaticCompression', 'doDynamicCompression'];

/** readUrlCompression reads a `<urlCompression>` element into `out`. */
export function readUrlCompression(element: XmlElement, file: string, out: CompressionSection, errors: NodehostError[]): void {
  const r = new AttributeReader(file, errors, URL_WHERE);
  r.checkAttributes(element, [...URL_COMPRESSION_ATTRIBUTES, 'configSource']);
  out.doStaticCompression = r.bool(element, 'doStaticCompression', out.doStaticCompression);
  out.doDynamicCompression = r.bool(element, 'doDynamicCompression', out.doDynamicCompression);
  // Validated only: nodehost's output cache stores what the filters produced.
  r.bool(element, 'dynamicCompressionBeforeCache', false);
  for (const child of element.children)
    errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${URL_WHERE}`));
}

/** readHttpCompression reads an `<httpCompression>` element into `out`; every bad value is reported with its file and line. */
export function readHttpCompression(element: XmlElement, file: string, out: CompressionSection, errors: NodehostError[]): void {
  const r = new AttributeReader(file, errors, HTTP_WHERE);
  r.checkAttributes(element, [...HTTP_COMPRESSION_ATTRIBUTES, 'configSource']);
  out.minFileSizeForComp = r.uint(element, 'minFileSizeForComp', out.minFileSizeForComp);
  out.noCompressionForRange = r.bool(element, 'noCompressionForRange', out.noCompressionForRange);
  out.noCompressionForHttp10 = r.bool(element, 'noCompressionForHttp10', out.noCompressionForHttp10);
  out.noCompressionForProxies = r.bool(element, 'noCompressionForProxies', out.noCompressionForProxies);
  for (const name of ['doDiskSpaceLimiting', 'sendCacheHeaders', 'staticCompressionIgnoreHitFrequency']) r.bool(element, name, false);
  for (const name of ['maxDiskSpaceUsage', 'dynamicCompressionBufferLimit']) r.uint(element, name, 0);
  for (const name of [
    'staticCompressionDisableCpuUsage',
    'staticCompressionEnableCpuUsage',
    'dynamicCompressionDisableCpuUsage',
    'dynamicCompressionEnableCpuUsage',
  ])
    r.uint(element, name, 0, 0, 100);
  for (const child of element.children) {
    if (child.name === 'staticTypes' || child.name === 'dynamicTypes') {
      readTypes(child, file, child.name === 'staticTypes' ? out.staticTypes : out.dynamicTypes, errors);
    } else if (child.name === 'scheme') {
      const s = new AttributeReader(file, errors, `${HTTP_WHERE}/scheme`);
      const before = s.count;
      s.checkAttributes(child, SCHEME_ATTRIBUTES);
      const name = s.require(child, 'name');
      for (const level of ['staticCompressionLevel', 'dynamicCompressionLevel']) s.uint(child, level, 0, 0, 11);
      const isStatic = s.bool(child, 'doStaticCompression', true);
      const isDynamic = s.bool(child, 'doDynamicCompression', true);
      if (name === undefined) continue;
      const scheme = SCHEME_NAMES.find((known) => known === name.trim().toLowerCase());
      if (scheme === undefined) {
        s.fail(child.attributes.get('name')!, `${HTTP_WHERE}/scheme: name must be one of gzip, deflate, br, not '${name}'`);
        continue;
      }
      if (s.count > before) continue;
      // A scheme switched off for both kinds is as good as removed.
      const op: CollectionOp<CompressionScheme> =
        isStatic || isDynamic
          ? { kind: 'add', key: scheme, value: scheme, source: sourcePosition(file, child) }
          : { kind: 'remove', key: scheme, source: sourcePosition(file, child) };
      out.schemes.push(op);
    } else {
      errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${HTTP_WHERE}`));
    }
  }
}

function readTypes(element: XmlElement, file: string, into: CollectionOp<boolean>[], errors: NodehostError[]): void {
  const where = `${HTTP_WHERE}/${element.name}`;
  const r = new AttributeReader(file, errors, where);
  r.checkAttributes(element, []);
  for (const child of element.children) {
    if (child.name === 'clear') {
      r.checkAttributes(child, []);
      into.push({ kind: 'clear', source: sourcePosition(file, child) });
    } else if (child.name === 'add' || child.name === 'remove') {
      const before = r.count;
      r.checkAttributes(child, child.name === 'add' ? ['mimeType', 'enabled'] : ['mimeType']);
      const mimeType = r.require(child, 'mimeType');
      if (mimeType === undefined) continue;
      const key = normaliseMimePattern(mimeType);
      if (key === undefined) {
        r.fail(child.attributes.get('mimeType')!, `${where}: mimeType must look like type/subtype (either part may be *), not '${mimeType}'`);
        continue;
      }
      if (child.name === 'remove') {
        into.push({ kind: 'remove', key, source: sourcePosition(file, child) });
        continue;
      }
      // IIS documents `enabled` as defaulting to true.
      const enabled = r.bool(child, 'enabled', true);
      if (r.count === before) into.push({ kind: 'add', key, value: enabled, source: sourcePosition(file, child) });
    } else {
      errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${where}`));
    }
  }
}

/** normaliseMimePattern lower-cases a pattern and tidies the blanks around its parameters; undefined when it is not type/subtype. */
function normaliseMimePattern(raw: string): string | undefined {
  const [essence, ...parameters] = raw.split(';').map((part) => part.trim().toLowerCase());
  if (essence === undefined || !/^[a-z0-9!#$&^_.+*-]+\/[a-z0-9!#$&^_.+*-]+$/.test(essence)) return undefined;
  return parameters.length === 0 ? essence : [essence, ...parameters.filter((p) => p !== '')].join(';');
}

/**
 * MimeTypeList answers "is this Content-Type enabled for compression?" for one merged list.
 * The most specific entry wins, as in IIS (whose default list ends with a disabled
 * `text/event-stream` after an enabled `text/*`): an entry with the exact parameters, then the
 * exact type/subtype, then `type/*`, then the any-type catch-all; the first of equal specificity. A type no entry
 * matches is not compressed. Answers are remembered per Content-Type value (a bounded map).
 */
export class MimeTypeList implements CompressionTypeList {
  /** The merged entries, in order: [pattern, enabled]. */
  readonly entries: readonly (readonly [string, boolean])[];
  readonly #exact = new Map<string, boolean>();
  readonly #wildSubtype = new Map<string, boolean>();
  readonly #any: boolean | undefined;
  readonly #answers = new Map<string, boolean>();
  /** True when no entry is enabled: the response filter then wants nothing. */
  readonly isEmpty: boolean;

  constructor(entries: readonly (readonly [string, boolean])[]) {
    this.entries = Object.freeze(entries.map((entry) => Object.freeze([entry[0], entry[1]] as const)));
    let any: boolean | undefined;
    for (const [pattern, enabled] of entries) {
      const slash = pattern.indexOf('/');
      const type = pattern.slice(0, slash);
      const subtype = pattern.slice(slash + 1);
      if (type === '*') any ??= enabled;
      else if (subtype === '*') {
        if (!this.#wildSubtype.has(type)) this.#wildSubtype.set(type, enabled);
      } else if (!this.#exact.has(pattern)) this.#exact.set(pattern, enabled);
    }
    this.#any = any;
    this.isEmpty = !entries.some((entry) => entry[1]);
  }

  /** isEnabled tells whether a response of this Content-Type value is to be compressed. */
  isEnabled(contentType: string): boolean {
    const known = this.#answers.get(contentType);
    if (known !== undefined) return known;
    const answer = this.#match(contentType);
    // Content-Type values are chosen by applications, not clients, but stay bounded anyway.
    if (this.#answers.size >= 256) this.#answers.clear();
    this.#answers.set(contentType, answer);
    return answer;
  }

  #match(contentType: string): boolean {
    const full = normaliseMimePattern(contentType);
    if (full === undefined) return false;
    const semi = full.indexOf(';');
    const essence = semi < 0 ? full : full.slice(0, semi);
    return this.#exact.get(full) ?? this.#exact.get(essence) ?? this.#wildSubtype.get(essence.slice(0, essence.indexOf('/'))) ?? this.#any ?? false;
  }
}

/** CompressionMerge is the compression part of one level's merge state. */
export class CompressionMerge {
  private doStaticCompression: boolean;
  private doDynamicCompression: boolean;
  private minFileSizeForComp: number;
  private noCompressionForRange: boolean;
  private noCompressionForHttp10: boolean;
  private noCompressionForProxies: boolean;
  private staticTypes: readonly Entry<boolean>[];
  private dynamicTypes: readonly Entry<boolean>[];
  private schemes: readonly Entry<CompressionScheme>[];
  private frozen: CompressionConfig | undefined;

  constructor(from?: CompressionMerge) {
    this.doStaticCompression = from?.doStaticCompression ?? true;
    this.doDynamicCompression = from?.doDynamicCompression ?? true;
    this.minFileSizeForComp = from?.minFileSizeForComp ?? DEFAULT_MIN_FILE_SIZE_FOR_COMP;
    this.noCompressionForRange = from?.noCompressionForRange ?? true;
    this.noCompressionForHttp10 = from?.noCompressionForHttp10 ?? true;
    this.noCompressionForProxies = from?.noCompressionForProxies ?? true;
    this.staticTypes = from?.staticTypes ?? BASE_STATIC_TYPES.map(([key, value]) => ({ key, value, source: undefined }));
    this.dynamicTypes = from?.dynamicTypes ?? BASE_DYNAMIC_TYPES.map(([key, value]) => ({ key, value, source: undefined }));
    this.schemes = from?.schemes ?? BASE_SCHEMES.map((key) => ({ key, value: key, source: undefined }));
    this.frozen = from?.frozen;
  }

  /**
   * apply merges one place's section; duplicate keys are pushed to `errors` as
   * NH_ERR_CONFIG_DUPLICATE_KEY. At the 'host' level (nodehost.yml, host-compression.ts) a type
   * that repeats a built-in one replaces it, as a scheme does at every level.
   */
  apply(section: CompressionSection, errors: NodehostError[], level: 'host' | 'site' = 'site'): void {
    const onTypeRepeat = level === 'host' ? replacesBuiltIn : undefined;
    this.frozen = undefined;
    this.doStaticCompression = section.doStaticCompression ?? this.doStaticCompression;
    this.doDynamicCompression = section.doDynamicCompression ?? this.doDynamicCompression;
    this.minFileSizeForComp = section.minFileSizeForComp ?? this.minFileSizeForComp;
    this.noCompressionForRange = section.noCompressionForRange ?? this.noCompressionForRange;
    this.noCompressionForHttp10 = section.noCompressionForHttp10 ?? this.noCompressionForHttp10;
    this.noCompressionForProxies = section.noCompressionForProxies ?? this.noCompressionForProxies;
    this.staticTypes = mergeCollection(
      this.staticTypes,
      section.staticTypes,
      { order: 'append', section: `${HTTP_WHERE}/staticTypes`, keyName: 'mimeType', onRepeat: onTypeRepeat },
      errors,
    );
    this.dynamicTypes = mergeCollection(
      this.dynamicTypes,
      section.dynamicTypes,
      { order: 'append', section: `${HTTP_WHERE}/dynamicTypes`, keyName: 'mimeType', onRepeat: onTypeRepeat },
      errors,
    );
    this.schemes = mergeCollection(
      this.schemes,
      section.schemes,
      { order: 'append', section: `${HTTP_WHERE}/scheme`, keyName: 'name', onRepeat: replacesBuiltIn },
      errors,
    );
  }

  /** freeze returns the compiled configuration of this level. */
  freeze(): CompressionConfig {
    const present = new Set(this.schemes.map((entry) => entry.value));
    this.frozen ??= Object.freeze({
      doStaticCompression: this.doStaticCompression,
      doDynamicCompression: this.doDynamicCompression,
      minFileSizeForComp: this.minFileSizeForComp,
      noCompressionForRange: this.noCompressionForRange,
      noCompressionForHttp10: this.noCompressionForHttp10,
      noCompressionForProxies: this.noCompressionForProxies,
      staticTypes: new MimeTypeList(this.staticTypes.map((entry) => [entry.key, entry.value] as const)),
      dynamicTypes: new MimeTypeList(this.dynamicTypes.map((entry) => [entry.key, entry.value] as const)),
      // Server preference is fixed (br, gzip, deflate), whatever order the entries were written in.
      schemes: Object.freeze(SCHEME_NAMES.filter((name) => present.has(name))),
    });
    return this.frozen;
  }
}

/**
 * A `<scheme>` that repeats a built-in one replaces it: IIS's own base list has gzip (and, with
 * the IIS brotli module, br), so web.configs written for IIS add them without a `<remove>`.
 */
const replacesBuiltIn: RepeatPolicy = (existing) => (existing.source === undefined ? 'replace' : 'error');

/**
 * `system.webServer/caching` (spec/rewrite.md §2.8): the output cache's attributes and its
 * `<profiles>` collection (keyed by `extension`, appended like mimeMap). readCachingSection
 * reads one place's element; CachingMerge merges them per configuration level and compiles
 * the profiles once, so request code only looks a profile up by extension.
 */
import type { NodehostError } from '../errors.js';
import { mergeCollection, type CollectionOp, type Entry } from './collection-merge.js';
import { parseTimeSpan } from './time-span.js';
import type { CacheLocation, CachePolicy, CacheProfile, CachingConfig } from './types.js';
import { AttributeReader, configError, sourcePosition } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

/** CachingSection is what one configuration place declares (undefined fields: not set). */
export interface CachingSection {
  enabled: boolean | undefined;
  enableKernelCache: boolean | undefined;
  maxCacheSizeMB: number | undefined;
  maxResponseSize: number | undefined;
  readonly profiles: CollectionOp<CacheProfile>[];
}

/** newCachingSection returns a section that sets nothing. */
export function newCachingSection(): CachingSection {
  return { enabled: undefined, enableKernelCache: undefined, maxCacheSizeMB: undefined, maxResponseSize: undefined, profiles: [] };
}

const WHERE = 'system.webServer/caching';
const POLICIES: readonly CachePolicy[] = ['DontCache', 'CacheUntilChange', 'CacheForTimePeriod', 'DisableCache'];
const LOCATIONS: readonly CacheLocation[] = ['Any', 'Client', 'Downstream', 'Server', 'None', 'ServerAndClient'];
const SECTION_ATTRIBUTES = ['enabled', 'enableKernelCache', 'maxCacheSize', 'maxResponseSize', 'configSource'];
/** `staleWhileRevalidate` is nodehost's own; the others are IIS's. */
const PROFILE_ATTRIBUTES = ['extension', 'policy', 'kernelCachePolicy', 'duration', 'location', 'varyByHeaders', 'varyByQueryString', 'staleWhileRevalidate'];
/** IIS's default `duration` of a profile. */
const DEFAULT_DURATION = '00:00:30';

/** readCachingSection reads one `<caching>` element into `out`, pushing every problem (with its file and line) to `errors`. */
export function readCachingSection(element: XmlElement, file: string, out: CachingSection, errors: NodehostError[]): void {
  const r = new AttributeReader(file, errors, WHERE);
  r.checkAttributes(element, SECTION_ATTRIBUTES);
  const configSource = element.attributes.get('configSource');
  if (configSource) r.fail(configSource, `${WHERE}: configSource="${configSource.value}" is not supported by nodehost; move the section into web.config`);
  out.enabled = r.bool(element, 'enabled', out.enabled);
  out.enableKernelCache = r.bool(element, 'enableKernelCache', out.enableKernelCache);
  out.maxCacheSizeMB = r.uint(element, 'maxCacheSize', out.maxCacheSizeMB);
  out.maxResponseSize = r.uint(element, 'maxResponseSize', out.maxResponseSize);
  for (const child of element.children) {
    if (child.name !== 'profiles') {
      errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${WHERE}`));
      continue;
    }
    new AttributeReader(file, errors, `${WHERE}/profiles`).checkAttributes(child, []);
    for (const op of child.children) readProfileOp(op, file, out, errors);
  }
}

function readProfileOp(op: XmlElement, file: string, out: CachingSection, errors: NodehostError[]): void {
  const where = `${WHERE}/profiles/${op.name}`;
  const r = new AttributeReader(file, errors, where);
  if (op.name === 'clear') {
    r.checkAttributes(op, []);
    out.profiles.push({ kind: 'clear', source: sourcePosition(file, op) });
  } else if (op.name === 'remove') {
    r.checkAttributes(op, ['extension']);
    const extension = r.require(op, 'extension');
    if (extension !== undefined) out.profiles.push({ kind: 'remove', key: extension.trim().toLowerCase(), source: sourcePosition(file, op) });
  } else if (op.name === 'add') {
    r.checkAttributes(op, PROFILE_ATTRIBUTES);
    const profile = buildProfile(op, file, r);
    if (profile !== undefined) out.profiles.push({ kind: 'add', key: profile.extension, value: profile, source: profile.source });
  } else {
    errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, op, `Unknown element <${op.name}> in ${WHERE}/profiles`));
  }
}

function buildProfile(element: XmlElement, file: string, r: AttributeReader): CacheProfile | undefined {
  const before = r.count;
  const written = r.require(element, 'extension');
  const extension = written?.trim().toLowerCase();
  if (written !== undefined && extension !== '*' && !/^\.[^./\\*?]*$/.test(extension!)) {
    r.fail(element.attributes.get('extension')!, `${r.where}: extension must be '*' or start with '.', not '${written}'`);
  }
  const policy = r.enumValue(element, 'policy', POLICIES, 'DontCache');
  r.enumValue(element, 'kernelCachePolicy', POLICIES, 'DontCache');
  const location = r.enumValue(element, 'location', LOCATIONS, 'Server');
  // A bad time span is reported once, and counts as absent here.
  const durationMs = timeSpan(element, 'duration', DEFAULT_DURATION, r) ?? 30_000;
  const staleMs = timeSpan(element, 'staleWhileRevalidate', '00:00:00', r) ?? 0;
  if (policy === 'CacheForTimePeriod' && durationMs === 0) {
    r.fail(element.attributes.get('duration') ?? element, `${r.where}: policy CacheForTimePeriod needs a duration longer than 00:00:00`);
  }
  const queryText = element.attributes.get('varyByQueryString')?.value.trim() ?? '';
  const varyByQueryString = queryText === '*' ? '*' : Object.freeze(splitList(queryText));
  const varyByHeaders = Object.freeze(splitList(element.attributes.get('varyByHeaders')?.value ?? '').map((name) => name.toLowerCase()));
  if (r.count > before || extension === undefined) return undefined;
  return Object.freeze({ extension, policy, durationMs, varyByQueryString, varyByHeaders, location, staleMs, source: sourcePosition(file, element) });
}

/** Reads a timeSpan attribute in milliseconds; a bad one is reported and gives undefined. */
function timeSpan(element: XmlElement, name: string, fallback: string, r: AttributeReader): number | undefined {
  const attribute = element.attributes.get(name);
  const ms = parseTimeSpan(attribute?.value ?? fallback);
  if (ms !== undefined) return ms;
  r.fail(attribute!, `${r.where}: ${name} must be a time span hh:mm:ss or d.hh:mm:ss, not '${attribute!.value}'`);
  return undefined;
}

/** IIS writes these lists with `;`; `,` is taken too, as people write header lists that way. */
function splitList(text: string): string[] {
  return text
    .split(/[;,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** CachingMerge is the caching part of one level's merge state: attributes inherit, profiles append. */
export class CachingMerge {
  private isConfigured: boolean;
  private enabled: boolean;
  private enableKernelCache: boolean;
  private maxCacheSizeMB: number;
  private maxResponseSize: number;
  private profiles: readonly Entry<CacheProfile>[];
  private frozen: CachingConfig | undefined;

  constructor(from?: CachingMerge) {
    this.isConfigured = from?.isConfigured ?? false;
    // IIS's defaults (spec §2.8).
    this.enabled = from?.enabled ?? true;
    this.enableKernelCache = from?.enableKernelCache ?? true;
    this.maxCacheSizeMB = from?.maxCacheSizeMB ?? 0;
    this.maxResponseSize = from?.maxResponseSize ?? 262144;
    this.profiles = from?.profiles ?? [];
    this.frozen = from?.frozen;
  }

  /** apply merges one place's section; a repeated extension is pushed to `errors` (NH_ERR_CONFIG_DUPLICATE_KEY). */
  apply(section: CachingSection, errors: NodehostError[]): void {
    this.frozen = undefined;
    this.isConfigured = true;
    this.enabled = section.enabled ?? this.enabled;
    this.enableKernelCache = section.enableKernelCache ?? this.enableKernelCache;
    this.maxCacheSizeMB = section.maxCacheSizeMB ?? this.maxCacheSizeMB;
    this.maxResponseSize = section.maxResponseSize ?? this.maxResponseSize;
    this.profiles = mergeCollection(this.profiles, section.profiles, { order: 'append', section: `${WHERE}/profiles`, keyName: 'extension' }, errors);
  }

  /** freeze returns the compiled configuration of this level; undefined when no level configured caching. */
  freeze(): CachingConfig | undefined {
    if (!this.isConfigured) return undefined;
    const profiles = new Map(this.profiles.map((entry) => [entry.key, entry.value])) as ReadonlyMap<string, CacheProfile>;
    this.frozen ??= Object.freeze({
      enabled: this.enabled,
      enableKernelCache: this.enableKernelCache,
      maxCacheSizeMB: this.maxCacheSizeMB,
      maxResponseSize: this.maxResponseSize,
      profiles,
      isActive: this.enabled && profiles.size > 0,
    });
    return this.frozen;
  }
}

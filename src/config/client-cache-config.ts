/**
 * `system.webServer/staticContent/clientCache` (spec/rewrite.md §2.4): the caching headers the
 * static file handler adds. Attributes inherit one by one, like every IIS attribute; the
 * headers are computed once per configuration level, when it is frozen.
 */
import type { NodehostError } from '../errors.js';
import type { ClientCacheConfig } from './types.js';
import { AttributeReader } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

/** ClientCacheSection is what one configuration place sets (undefined: inherited). */
export interface ClientCacheSection {
  cacheControlMode: ClientCacheConfig['cacheControlMode'] | undefined;
  maxAgeSeconds: number | undefined;
  httpExpires: string | undefined;
  cacheControlCustom: string | undefined;
}

const WHERE = 'system.webServer/staticContent/clientCache';
const ATTRIBUTES = ['cacheControlMode', 'cacheControlMaxAge', 'httpExpires', 'cacheControlCustom', 'setEtag'];
const MODES = ['NoControl', 'DisableCache', 'UseMaxAge', 'UseExpires'] as const;
/** IIS's timeSpan: `[d.]hh:mm:ss[.fraction]`. */
const TIME_SPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?$/;

/** readClientCache reads one `<clientCache>` element; problems are pushed to `errors` with file:line. */
export function readClientCache(element: XmlElement, file: string, errors: NodehostError[]): ClientCacheSection {
  const r = new AttributeReader(file, errors, WHERE);
  r.checkAttributes(element, ATTRIBUTES);
  // setEtag is validated only: the static handler always sends an ETag.
  r.bool(element, 'setEtag', true);
  const section: ClientCacheSection = {
    cacheControlMode: element.attributes.has('cacheControlMode') ? r.enumValue(element, 'cacheControlMode', MODES, 'NoControl') : undefined,
    maxAgeSeconds: undefined,
    httpExpires: undefined,
    cacheControlCustom: element.attributes.get('cacheControlCustom')?.value.trim(),
  };
  const maxAge = element.attributes.get('cacheControlMaxAge');
  if (maxAge !== undefined) {
    const seconds = parseTimeSpan(maxAge.value);
    if (seconds === undefined)
      r.fail(maxAge, `${WHERE}: cacheControlMaxAge must be a time span such as 7.00:00:00 (days.hours:minutes:seconds), not '${maxAge.value}'`);
    else section.maxAgeSeconds = seconds;
  }
  const expires = element.attributes.get('httpExpires');
  if (expires !== undefined && expires.value.trim() !== '') {
    const date = new Date(expires.value.trim());
    if (Number.isNaN(date.getTime()))
      r.fail(expires, `${WHERE}: httpExpires must be an RFC 1123 date such as 'Fri, 01 Jan 2038 00:00:00 GMT', not '${expires.value}'`);
    else section.httpExpires = date.toUTCString();
  }
  return section;
}

/** parseTimeSpan reads IIS's `[d.]hh:mm:ss` into seconds; undefined when malformed. */
export function parseTimeSpan(text: string): number | undefined {
  const match = TIME_SPAN.exec(text.trim());
  if (match === null) return undefined;
  const [, days, hours, minutes, seconds] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return undefined;
  return Number(days ?? 0) * 86400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
}

/** ClientCacheMerge is the clientCache part of one level's merge state. */
export class ClientCacheMerge {
  private mode: ClientCacheConfig['cacheControlMode'];
  private maxAgeSeconds: number;
  private httpExpires: string;
  private cacheControlCustom: string;
  private frozen: ClientCacheConfig | undefined | null;

  constructor(from?: ClientCacheMerge) {
    this.mode = from?.mode ?? 'NoControl';
    this.maxAgeSeconds = from?.maxAgeSeconds ?? 86400;
    this.httpExpires = from?.httpExpires ?? '';
    this.cacheControlCustom = from?.cacheControlCustom ?? '';
    this.frozen = from?.frozen ?? null;
  }

  apply(section: ClientCacheSection): void {
    this.frozen = null;
    this.mode = section.cacheControlMode ?? this.mode;
    this.maxAgeSeconds = section.maxAgeSeconds ?? this.maxAgeSeconds;
    this.httpExpires = section.httpExpires ?? this.httpExpires;
    this.cacheControlCustom = section.cacheControlCustom ?? this.cacheControlCustom;
  }

  /** freeze returns the compiled clientCache, or undefined when it adds no header (NoControl). */
  freeze(): ClientCacheConfig | undefined {
    if (this.frozen !== null) return this.frozen;
    const headers: (readonly [string, string])[] = [];
    const custom = this.cacheControlCustom;
    switch (this.mode) {
      case 'UseMaxAge':
        headers.push(['Cache-Control', custom === '' ? `max-age=${this.maxAgeSeconds}` : `max-age=${this.maxAgeSeconds}, ${custom}`]);
        break;
      case 'DisableCache':
        headers.push(['Cache-Control', custom === '' ? 'no-cache' : `no-cache, ${custom}`]);
        break;
      case 'UseExpires':
        if (custom !== '') headers.push(['Cache-Control', custom]);
        if (this.httpExpires !== '') headers.push(['Expires', this.httpExpires]);
        break;
      case 'NoControl':
        break;
    }
    this.frozen =
      headers.length === 0
        ? undefined
        : Object.freeze({
            cacheControlMode: this.mode,
            maxAgeSeconds: this.maxAgeSeconds,
            httpExpires: this.httpExpires,
            cacheControlCustom: custom,
            headers: Object.freeze(headers),
          });
    return this.frozen;
  }
}

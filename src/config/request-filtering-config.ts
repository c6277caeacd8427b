/**
 * The parts of `system.webServer/security/requestFiltering` beyond hiddenSegments (spec/rewrite.md
 * §2.6): the allowDoubleEscaping attribute, requestLimits (with headerLimits), fileExtensions,
 * verbs, denyUrlSequences and denyQueryStringSequences. readRequestFilteringPart reads one
 * element of the section; RequestFilteringMerge merges them per configuration level.
 */
import type { NodehostError } from '../errors.js';
import { mergeCollection, type Entry } from './collection-merge.js';
import type { CollectionOp } from './collection-merge.js';
import type { RequestFilteringConfig } from './types.js';
import { AttributeReader, configError, sourcePosition } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

// RequestFilteringConfig lives with the other compiled shapes in types.ts; it is re-exported
// here for the request-filtering module.
export type { RequestFilteringConfig };

/** RequestFilteringSection is what one configuration place declares (undefined fields: not set). */
export interface RequestFilteringSection {
  allowDoubleEscaping: boolean | undefined;
  maxAllowedContentLength: number | undefined;
  maxUrl: number | undefined;
  maxQueryString: number | undefined;
  readonly headerLimits: CollectionOp<number>[];
  fileExtensionsAllowUnlisted: boolean | undefined;
  readonly fileExtensions: CollectionOp<boolean>[];
  verbsAllowUnlisted: boolean | undefined;
  readonly verbs: CollectionOp<boolean>[];
  readonly denyUrlSequences: CollectionOp<string>[];
  readonly denyQueryStringSequences: CollectionOp<string>[];
}

/** newRequestFilteringSection returns a section that sets nothing. */
export function newRequestFilteringSection(): RequestFilteringSection {
  return {
    allowDoubleEscaping: undefined,
    maxAllowedContentLength: undefined,
    maxUrl: undefined,
    maxQueryString: undefined,
    headerLimits: [],
    fileExtensionsAllowUnlisted: undefined,
    fileExtensions: [],
    verbsAllowUnlisted: undefined,
    verbs: [],
    denyUrlSequences: [],
    denyQueryStringSequences: [],
  };
}

/**
 * DEFAULT_DENIED_EXTENSIONS are the extensions IIS (with ASP.NET) denies by default (404.7),
 * spec §2.6. A web.config may `<remove>` them.
 */
export const DEFAULT_DENIED_EXTENSIONS: readonly string[] = Object.freeze([
  '.asa',
  '.asax',
  '.ascx',
  '.master',
  '.skin',
  '.browser',
  '.sitemap',
  '.config',
  '.cs',
  '.csproj',
  '.vb',
  '.vbproj',
  '.webinfo',
  '.licx',
  '.resx',
  '.resources',
  '.mdb',
  '.vjsproj',
  '.java',
  '.jsl',
  '.ldb',
  '.dsdgm',
  '.ssdgm',
  '.lsad',
  '.ssmap',
  '.cd',
  '.dsprototype',
  '.lsaprototype',
  '.sdm',
  '.sdmdocument',
  '.mdf',
  '.ldf',
  '.ad',
  '.dd',
  '.ldd',
  '.sd',
  '.adprototype',
  '.lddprototype',
  '.exclude',
  '.refresh',
  '.compiled',
  '.msgx',
  '.vsdisco',
  '.rules',
]);

const WHERE = 'system.webServer/security/requestFiltering';

/**
 * readRequestFilteringAttribute reads `allowDoubleEscaping` of the `<requestFiltering>` element
 * itself into `out` (the other attributes are checked by web-config.ts).
 */
export function readRequestFilteringAttributes(element: XmlElement, file: string, out: RequestFilteringSection, errors: NodehostError[]): void {
  out.allowDoubleEscaping = new AttributeReader(file, errors, WHERE).bool(element, 'allowDoubleEscaping', out.allowDoubleEscaping);
}

/**
 * readRequestFilteringPart reads one child of `<requestFiltering>` other than hiddenSegments
 * into `out`; it returns false for an element it does not know (the caller reports or skips it).
 */
export function readRequestFilteringPart(part: XmlElement, file: string, out: RequestFilteringSection, errors: NodehostError[]): boolean {
  const where = `${WHERE}/${part.name}`;
  const r = new AttributeReader(file, errors, where);
  const collection = <T>(
    element: XmlElement,
    keyName: string,
    addAttributes: readonly string[],
    into: CollectionOp<T>[],
    build: (add: XmlElement, key: string) => T | undefined,
    keyOf = (key: string) => key.toLowerCase(),
  ) => {
    for (const child of element.children) {
      const key = child.attributes.get(keyName)?.value;
      if (child.name === 'clear') {
        into.push({ kind: 'clear', source: sourcePosition(file, child) });
      } else if (child.name === 'add' || child.name === 'remove') {
        r.checkAttributes(child, child.name === 'add' ? addAttributes : [keyName]);
        if (key === undefined) {
          r.missing(child, keyName);
        } else if (child.name === 'remove') {
          into.push({ kind: 'remove', key: keyOf(key), source: sourcePosition(file, child) });
        } else {
          const value = build(child, key);
          if (value !== undefined) into.push({ kind: 'add', key: keyOf(key), value, source: sourcePosition(file, child) });
        }
      } else if (!(element.name === 'requestLimits' && child.name === 'headerLimits')) {
        errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${where}`));
      }
    }
  };
  switch (part.name) {
    case 'requestLimits':
      r.checkAttributes(part, ['maxAllowedContentLength', 'maxUrl', 'maxQueryString']);
      out.maxAllowedContentLength = r.uint(part, 'maxAllowedContentLength', out.maxAllowedContentLength);
      out.maxUrl = r.uint(part, 'maxUrl', out.maxUrl);
      out.maxQueryString = r.uint(part, 'maxQueryString', out.maxQueryString);
      for (const child of part.children) {
        if (child.name === 'headerLimits') collection(child, 'header', ['header', 'sizeLimit'], out.headerLimits, (add) => r.uint(add, 'sizeLimit', 0));
        else errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${where}`));
      }
      return true;
    case 'fileExtensions':
      r.checkAttributes(part, ['allowUnlisted', 'applyToWebDAV']);
      out.fileExtensionsAllowUnlisted = r.bool(part, 'allowUnlisted', out.fileExtensionsAllowUnlisted);
      collection(part, 'fileExtension', ['fileExtension', 'allowed'], out.fileExtensions, (add) => r.bool(add, 'allowed', true));
      return true;
    case 'verbs':
      r.checkAttributes(part, ['allowUnlisted', 'applyToWebDAV']);
      out.verbsAllowUnlisted = r.bool(part, 'allowUnlisted', out.verbsAllowUnlisted);
      collection(
        part,
        'verb',
        ['verb', 'allowed'],
        out.verbs,
        (add) => r.bool(add, 'allowed', true),
        (key) => key.toUpperCase(),
      );
      return true;
    case 'denyUrlSequences':
      collection(part, 'sequence', ['sequence'], out.denyUrlSequences, (_add, key) => key.toLowerCase());
      return true;
    case 'denyQueryStringSequences':
      collection(part, 'sequence', ['sequence'], out.denyQueryStringSequences, (_add, key) => key.toLowerCase());
      return true;
    default:
      return false;
  }
}

/** RequestFilteringMerge is the request-filtering part of one level's merge state (append collections, inherited attributes). */
export class RequestFilteringMerge {
  private allowDoubleEscaping: boolean;
  private maxAllowedContentLength: number;
  private maxUrl: number;
  private maxQueryString: number;
  private headerLimits: readonly Entry<number>[];
  private fileExtensionsAllowUnlisted: boolean;
  private fileExtensions: readonly Entry<boolean>[];
  private verbsAllowUnlisted: boolean;
  private verbs: readonly Entry<boolean>[];
  private denyUrlSequences: readonly Entry<string>[];
  private denyQueryStringSequences: readonly Entry<string>[];
  private frozen: RequestFilteringConfig | undefined;

  constructor(from?: RequestFilteringMerge) {
    this.allowDoubleEscaping = from?.allowDoubleEscaping ?? false;
    this.maxAllowedContentLength = from?.maxAllowedContentLength ?? 30_000_000;
    this.maxUrl = from?.maxUrl ?? 4096;
    this.maxQueryString = from?.maxQueryString ?? 2048;
    this.headerLimits = from?.headerLimits ?? [];
    this.fileExtensionsAllowUnlisted = from?.fileExtensionsAllowUnlisted ?? true;
    this.fileExtensions = from?.fileExtensions ?? DEFAULT_DENIED_EXTENSIONS.map((key) => ({ key, value: false, source: undefined }));
    this.verbsAllowUnlisted = from?.verbsAllowUnlisted ?? true;
    this.verbs = from?.verbs ?? [];
    this.denyUrlSequences = from?.denyUrlSequences ?? [];
    this.denyQueryStringSequences = from?.denyQueryStringSequences ?? [];
    this.frozen = from?.frozen;
  }

  /** apply merges one place's section; duplicate keys are pushed to `errors` as NH_ERR_CONFIG_DUPLICATE_KEY. */
  apply(section: RequestFilteringSection, errors: NodehostError[]): void {
    this.frozen = undefined;
    this.allowDoubleEscaping = section.allowDoubleEscaping ?? this.allowDoubleEscaping;
    this.maxAllowedContentLength = section.maxAllowedContentLength ?? this.maxAllowedContentLength;
    this.maxUrl = section.maxUrl ?? this.maxUrl;
    this.maxQueryString = section.maxQueryString ?? this.maxQueryString;
    this.fileExtensionsAllowUnlisted = section.fileExtensionsAllowUnlisted ?? this.fileExtensionsAllowUnlisted;
    this.verbsAllowUnlisted = section.verbsAllowUnlisted ?? this.verbsAllowUnlisted;
    this.headerLimits = mergeCollection(
      this.headerLimits,
      section.headerLimits,
      { order: 'append', section: `${WHERE}/requestLimits/headerLimits`, keyName: 'header' },
      errors,
    );
    this.fileExtensions = mergeCollection(
      this.fileExtensions,
      section.fileExtensions,
      { order: 'append', section: `${WHERE}/fileExtensions`, keyName: 'fileExtension' },
      errors,
    );
    this.verbs = mergeCollection(this.verbs, section.verbs, { order: 'append', section: `${WHERE}/verbs`, keyName: 'verb' }, errors);
    this.denyUrlSequences = mergeCollection(
      this.denyUrlSequences,
      section.denyUrlSequences,
      { order: 'append', section: `${WHERE}/denyUrlSequences`, keyName: 'sequence' },
      errors,
    );
    this.denyQueryStringSequences = mergeCollection(
      this.denyQueryStringSequences,
      section.denyQueryStringSequences,
      { order: 'append', section: `${WHERE}/denyQueryStringSequences`, keyName: 'sequence' },
      errors,
    );
  }

  /** freeze returns the compiled configuration of this level. */
  freeze(): RequestFilteringConfig {
    this.frozen ??= Object.freeze({
      allowDoubleEscaping: this.allowDoubleEscaping,
      maxAllowedContentLength: this.maxAllowedContentLength,
      maxUrl: this.maxUrl,
      maxQueryString: this.maxQueryString,
      headerLimits: new Map(this.headerLimits.map((entry) => [entry.key, entry.value])) as ReadonlyMap<string, number>,
      fileExtensionsAllowUnlisted: this.fileExtensionsAllowUnlisted,
      fileExtensions: new Map(this.fileExtensions.map((entry) => [entry.key, entry.value])) as ReadonlyMap<string, boolean>,
      verbsAllowUnlisted: this.verbsAllowUnlisted,
      verbs: new Map(this.verbs.map((entry) => [entry.key, entry.value])) as ReadonlyMap<string, boolean>,
      denyUrlSequences: Object.freeze(this.denyUrlSequences.map((entry) => entry.value)),
      denyQueryStringSequences: Object.freeze(this.denyQueryStringSequences.map((entry) => entry.value)),
    });
    return this.frozen;
  }
}

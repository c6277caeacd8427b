/**
 * The web.config adapter: reads one file into the sections nodehost implements, as ordered
 * lists of operations (add, remove, clear, attribute assignments) that site-config.ts merges
 * per URL. It checks what one file can check on its own (XML, unknown and missing attributes,
 * value types); what needs the whole chain (duplicate keys) is checked by the merge.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { NodehostError, type SourcePosition } from '../errors.js';
import { parseSettingValue, SETTINGS_BY_NAME } from './schema.js';
import type { HandlerMapping, IisnodeSettingName } from './types.js';
import type { CollectionOp } from './collection-merge.js';
import { AttributeReader, configError, isGenericAttribute, sourcePosition as position } from './xml-attributes.js';
import { parseXml, type XmlAttribute, type XmlElement } from './xml.js';
import { newRewriteSection, readRewriteSection, type RewriteSection } from './rewrite-config.js';
import { newCachingSection, readCachingSection, type CachingSection } from './caching-config.js';
import {
  newRequestFilteringSection,
  readRequestFilteringAttributes,
  readRequestFilteringPart,
  type RequestFilteringSection,
} from './request-filtering-config.js';
import { newSecuritySection, readSecurityPart, SECURITY_PARTS, type SecuritySection } from './security-config.js';
import { newCompressionSection, readHttpCompression, readUrlCompression, type CompressionSection } from './compression-config.js';
import { readClientCache, type ClientCacheSection } from './client-cache-config.js';
import { newHttpProtocolSection, readHttpProtocol, type HttpProtocolSection } from './http-protocol-config.js';
import { newHttpErrorsSection, readHttpErrors, type HttpErrorsSection } from './http-errors-config.js';

/** SettingAssignment is one attribute of an `<iisnode>` element, already typed. */
export interface SettingAssignment {
  readonly name: IisnodeSettingName;
  readonly value: boolean | number | string;
  readonly source: SourcePosition;
}

/** ConfigSections holds what one place (a file's top level, or one `<location>`) declares. */
export interface ConfigSections {
  readonly iisnode: readonly SettingAssignment[];
  readonly handlers: readonly CollectionOp<HandlerMapping>[];
  readonly defaultDocumentEnabled: { readonly value: boolean; readonly source: SourcePosition } | undefined;
  /** defaultDocument files; the value is the file name as written. */
  readonly defaultDocuments: readonly CollectionOp<string>[];
  /** staticContent mimeMap; the value is the MIME type. */
  readonly mimeMap: readonly CollectionOp<string>[];
  /** requestFiltering hiddenSegments; the value is the segment in lower case. */
  readonly hiddenSegments: readonly CollectionOp<string>[];
  /** appSettings; the value is [key as written, value]. */
  readonly appSettings: readonly CollectionOp<readonly [string, string]>[];
  /** system.webServer/rewrite, when present. */
  readonly rewrite?: RewriteSection | undefined;
  /** requestFiltering beyond hiddenSegments, when present. */
  readonly requestFiltering?: RequestFilteringSection | undefined;
  /** system.webServer/caching (output cache), when present. */
  readonly caching?: CachingSection | undefined;
  /** authentication, authorization, ipSecurity and dynamicIpSecurity, when present. */
  readonly security?: SecuritySection | undefined;
  /** urlCompression and httpCompression, when present. */
  readonly compression?: CompressionSection | undefined;
  /** staticContent/clientCache, one entry per element, in document order. */
  readonly clientCache?: readonly ClientCacheSection[] | undefined;
  /** system.webServer/httpProtocol, when present. */
  readonly httpProtocol?: HttpProtocolSection | undefined;
  /** system.webServer/httpErrors, when present. */
  readonly httpErrors?: HttpErrorsSection | undefined;
  /** Errors found in these sections; they make every URL the sections apply to fail. */
  readonly errors: readonly NodehostError[];
}

/** LocationBlock is one `<location path="...">` element of a file. */
export interface LocationBlock {
  /** The target relative to the file's folder, `/`-separated, without leading or trailing `/`; '' for the folder itself. */
  readonly relativePath: string;
  readonly sections: ConfigSections;
  readonly source: SourcePosition;
}

/** WebConfigFile is one parsed web.config. */
export interface WebConfigFile {
  /** Absolute path of the file. */
  readonly file: string;
  /** URL folder of the file, ending in `/`. */
  readonly folderUrl: string;
  readonly top: ConfigSections;
  readonly locations: readonly LocationBlock[];
  /** Errors that void the whole file (unreadable, not XML, bad root, bad location path). */
  readonly errors: readonly NodehostError[];
}

/** WebConfigParseOptions tunes parseWebConfig. */
export interface WebConfigParseOptions {
  /**
   * Tells whether a location target (relative to the file's folder) is a file rather than a
   * folder, so that the handlers it declares get the file's folder as their scope.
   */
  readonly isFile?: (relativePath: string) => boolean;
}

/**
 * readWebConfig reads and parses one web.config file. It never throws: an unreadable file gives
 * NH_ERR_CONFIG_READ in `errors`. Location targets that are existing files get their folder as
 * handler scope.
 */
export function readWebConfig(file: string, folderUrl: string): WebConfigFile {
  let text: string;
  try {
    text = decodeConfigText(readFileSync(file));
  } catch (err) {
    const error = new NodehostError('NH_ERR_CONFIG_READ', `Cannot read ${file}: ${(err as Error).message}`, { cause: err, source: { file, line: 1 } });
    return { file, folderUrl, top: emptySections(), locations: [], errors: [error] };
  }
  const folder = path.dirname(file);
  return parseWebConfig(text, file, folderUrl, { isFile: (relative) => isRegularFile(path.join(folder, relative)) });
}

/**
 * parseWebConfig parses the text of one web.config whose folder has URL `folderUrl`. It never
 * throws; every error carries the file and line.
 */
export function parseWebConfig(text: string, file: string, folderUrl: string, options: WebConfigParseOptions = {}): WebConfigFile {
  let root: XmlElement;
  try {
    root = parseXml(text, file);
  } catch (err) {
    return { file, folderUrl, top: emptySections(), locations: [], errors: [err as NodehostError] };
  }
  const fileErrors: NodehostError[] = [];
  if (root.name !== 'configuration') {
    fileErrors.push(configError('NH_ERR_CONFIG_XML', file, root, `The root element of ${file} must be <configuration>, not <${root.name}>`));
    return { file, folderUrl, top: emptySections(), locations: [], errors: fileErrors };
  }
  new AttributeReader(file, fileErrors, 'configuration').checkAttributes(root, NO_ATTRIBUTES);
  const top = newSections();
  const locations: LocationBlock[] = [];
  for (const child of root.children) {
    if (child.name === 'location') {
      const block = readLocation(child, file, folderUrl, options, fileErrors);
      if (block) locations.push(block);
    } else {
      readConfigurationChild(child, { file, scope: folderUrl, out: top });
    }
  }
  return { file, folderUrl, top, locations, errors: fileErrors };
}

/**
 * decodeConfigText turns file bytes into text: UTF-16 when the file starts with its byte order
 * mark (Windows tools write web.config that way now and then), UTF-8 otherwise.
 */
export function decodeConfigText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  return bytes.toString('utf8');
}

function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

interface MutableSections {
  iisnode: SettingAssignment[];
  handlers: CollectionOp<HandlerMapping>[];
  defaultDocumentEnabled: { value: boolean; source: SourcePosition } | undefined;
  defaultDocuments: CollectionOp<string>[];
  mimeMap: CollectionOp<string>[];
  hiddenSegments: CollectionOp<string>[];
  appSettings: CollectionOp<readonly [string, string]>[];
  rewrite: RewriteSection | undefined;
  requestFiltering: RequestFilteringSection | undefined;
  caching: CachingSection | undefined;
  security: SecuritySection | undefined;
  compression?: CompressionSection | undefined;
  clientCache?: ClientCacheSection[] | undefined;
  httpProtocol?: HttpProtocolSection | undefined;
  httpErrors?: HttpErrorsSection | undefined;
  errors: NodehostError[];
}

function newSections(): MutableSections {
  return {
    iisnode: [],
    handlers: [],
    defaultDocumentEnabled: undefined,
    defaultDocuments: [],
    mimeMap: [],
    hiddenSegments: [],
    appSettings: [],
    rewrite: undefined,
    requestFiltering: undefined,
    caching: undefined,
    security: undefined,
    errors: [],
  };
}

function emptySections(): ConfigSections {
  return newSections();
}

/** The place a section is read for: the file, the URL folder handlers get as scope, the output. */
interface ReadContext {
  readonly file: string;
  readonly scope: string;
  readonly out: MutableSections;
}

// Sections nodehost does not implement yet (system.web, webSocket, ...) are skipped
// without a look, so that a web.config written for IIS loads as it is.
function readConfigurationChild(element: XmlElement, ctx: ReadContext): void {
  if (element.name === 'system.webServer') readSystemWebServer(element, ctx);
  else if (element.name === 'appSettings') readAppSettings(element, ctx);
}

function readSystemWebServer(element: XmlElement, ctx: ReadContext): void {
  reader(ctx, 'system.webServer').checkAttributes(element, NO_ATTRIBUTES);
  for (const child of element.children) {
    switch (child.name) {
      case 'iisnode':
        readIisnode(child, ctx);
        break;
      case 'handlers':
        readHandlers(child, ctx);
        break;
      case 'defaultDocument':
        readDefaultDocument(child, ctx);
        break;
      case 'staticContent':
        readStaticContent(child, ctx);
        break;
      case 'security':
        readSecurity(child, ctx);
        break;
      case 'rewrite':
        ctx.out.rewrite ??= newRewriteSection();
        readRewriteSection(child, ctx.file, ctx.scope, ctx.out.rewrite, ctx.out.errors);
        break;
      case 'caching':
        ctx.out.caching ??= newCachingSection();
        readCachingSection(child, ctx.file, ctx.out.caching, ctx.out.errors);
        break;
      case 'urlCompression':
        ctx.out.compression ??= newCompressionSection();
        readUrlCompression(child, ctx.file, ctx.out.compression, ctx.out.errors);
        break;
      case 'httpCompression':
        ctx.out.compression ??= newCompressionSection();
        readHttpCompression(child, ctx.file, ctx.out.compression, ctx.out.errors);
        break;
      case 'httpProtocol':
        ctx.out.httpProtocol ??= newHttpProtocolSection();
        readHttpProtocol(child, ctx.file, ctx.out.httpProtocol, ctx.out.errors);
        break;
      case 'httpErrors':
        ctx.out.httpErrors ??= newHttpErrorsSection();
        readHttpErrors(child, ctx.file, ctx.out.httpErrors, ctx.out.errors);
        break;
      default:
        break;
    }
  }
}

function readLocation(
  element: XmlElement,
  file: string,
  folderUrl: string,
  options: WebConfigParseOptions,
  fileErrors: NodehostError[],
): LocationBlock | undefined {
  new AttributeReader(file, fileErrors, 'location').checkAttributes(element, LOCATION_ATTRIBUTES);
  const raw = element.attributes.get('path')?.value ?? '';
  const relativePath = normaliseLocationPath(raw);
  if (relativePath === undefined) {
    fileErrors.push(
      configError(
        'NH_ERR_CONFIG_BAD_VALUE',
        file,
        element.attributes.get('path') ?? element,
        `<location path="${raw}"> must be a path inside the folder of its web.config, without '..' or wildcards`,
      ),
    );
    return undefined;
  }
  const scope = locationScope(folderUrl, relativePath, options);
  const sections = newSections();
  const ctx: ReadContext = { file, scope, out: sections };
  for (const child of element.children) readConfigurationChild(child, ctx);
  return { relativePath, sections, source: position(file, element) };
}

/** Normalises a location path; undefined when it would leave the folder or has wildcards. */
function normaliseLocationPath(raw: string): string | undefined {
  // IIS writes location paths with `/`; a backslash or a leading `/` is taken leniently.
  const segments = raw
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..' || segment.includes('*') || segment.includes('?'))) return undefined;
  return segments.join('/');
}

function locationScope(folderUrl: string, relativePath: string, options: WebConfigParseOptions): string {
  if (relativePath === '') return folderUrl;
  // A location naming one file scopes its handlers to that file's folder.
  if (options.isFile?.(relativePath)) {
    const slash = relativePath.lastIndexOf('/');
    return slash < 0 ? folderUrl : `${folderUrl}${relativePath.slice(0, slash)}/`;
  }
  return `${folderUrl}${relativePath}/`;
}

function readIisnode(element: XmlElement, ctx: ReadContext): void {
  for (const [name, attribute] of element.attributes) {
    if (isGenericAttribute(name)) continue;
    if (name === 'configSource') {
      ctx.out.errors.push(unsupportedConfigSource(ctx.file, attribute, 'iisnode'));
      continue;
    }
    const spec = SETTINGS_BY_NAME.get(name);
    if (!spec) {
      ctx.out.errors.push(
        configError('NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE', ctx.file, attribute, `Unknown attribute '${name}' on element <iisnode> (system.webServer/iisnode)`),
      );
      continue;
    }
    const parsed = parseSettingValue(spec, attribute.value, 'web.config');
    if (!parsed.ok) {
      ctx.out.errors.push(configError('NH_ERR_CONFIG_BAD_VALUE', ctx.file, attribute, `Bad value for iisnode setting ${name}: ${parsed.message}`));
      continue;
    }
    ctx.out.iisnode.push({ name: spec.name, value: parsed.value, source: position(ctx.file, attribute) });
  }
  rejectChildren(element, ctx, 'system.webServer/iisnode');
}

function readHandlers(element: XmlElement, ctx: ReadContext): void {
  checkSectionAttributes(element, HANDLERS_ATTRIBUTES, ctx, 'system.webServer/handlers');
  readCollection(element, ctx, 'system.webServer/handlers', {
    addName: 'add',
    addAttributes: HANDLER_ADD_ATTRIBUTES,
    keyAttribute: 'name',
    ignoredChildren: NO_NAMES,
    build: buildHandler,
    out: ctx.out.handlers,
  });
}

function buildHandler(element: XmlElement, ctx: ReadContext): { key: string; value: HandlerMapping } | undefined {
  const r = reader(ctx, 'system.webServer/handlers/add');
  const name = r.require(element, 'name');
  const handlerPath = r.require(element, 'path');
  const verb = r.require(element, 'verb');
  const resourceType = r.enumValue(element, 'resourceType', RESOURCE_TYPES, 'Unspecified');
  const requireAccess = r.enumValue(element, 'requireAccess', ACCESS_LEVELS, 'Script');
  const responseBufferLimit = r.uint(element, 'responseBufferLimit', 4194304);
  // allowPathInfo is validated only: nodehost does not use it.
  r.bool(element, 'allowPathInfo', false);
  if (r.count > 0 || name === undefined || handlerPath === undefined || verb === undefined) return undefined;
  const mapping: HandlerMapping = {
    name,
    path: handlerPath,
    verbs: parseVerbs(verb),
    modules: element.attributes.get('modules')?.value ?? 'ManagedPipelineHandler',
    resourceType,
    scope: ctx.scope,
    source: position(ctx.file, element),
    requireAccess,
    preCondition: element.attributes.get('preCondition')?.value ?? '',
    responseBufferLimit,
    scriptProcessor: element.attributes.get('scriptProcessor')?.value ?? '',
  };
  return { key: name.toLowerCase(), value: Object.freeze(mapping) };
}

function parseVerbs(verb: string): readonly string[] | '*' {
  const verbs = verb
    .split(',')
    .map((v) => v.trim().toUpperCase())
    .filter((v) => v !== '');
  if (verbs.length === 0 || verbs.includes('*')) return '*';
  return Object.freeze(verbs);
}

function readDefaultDocument(element: XmlElement, ctx: ReadContext): void {
  const where = 'system.webServer/defaultDocument';
  checkSectionAttributes(element, DEFAULT_DOCUMENT_ATTRIBUTES, ctx, where);
  const enabled = reader(ctx, where).bool(element, 'enabled', undefined);
  if (enabled !== undefined) ctx.out.defaultDocumentEnabled = { value: enabled, source: position(ctx.file, element.attributes.get('enabled')!) };
  for (const child of element.children) {
    if (child.name !== 'files') {
      ctx.out.errors.push(unknownElement(ctx.file, child, where));
      continue;
    }
    reader(ctx, `${where}/files`).checkAttributes(child, NO_ATTRIBUTES);
    readCollection(child, ctx, `${where}/files`, {
      addName: 'add',
      addAttributes: VALUE_ATTRIBUTES,
      keyAttribute: 'value',
      ignoredChildren: NO_NAMES,
      build: (add, c) => {
        const value = reader(c, `${where}/files/add`).require(add, 'value');
        return value === undefined ? undefined : { key: value.toLowerCase(), value };
      },
      out: ctx.out.defaultDocuments,
    });
  }
}

function readStaticContent(element: XmlElement, ctx: ReadContext): void {
  const where = 'system.webServer/staticContent';
  checkSectionAttributes(element, STATIC_CONTENT_ATTRIBUTES, ctx, where);
  for (const child of element.children) {
    if (child.name !== 'clientCache') continue;
    ctx.out.clientCache ??= [];
    ctx.out.clientCache.push(readClientCache(child, ctx.file, ctx.out.errors));
  }
  readCollection(element, ctx, where, {
    addName: 'mimeMap',
    addAttributes: MIME_MAP_ATTRIBUTES,
    keyAttribute: 'fileExtension',
    ignoredChildren: CLIENT_CACHE_NAMES,
    build: (add, c) => {
      const extension = reader(c, `${where}/mimeMap`).require(add, 'fileExtension');
      const mimeType = reader(c, `${where}/mimeMap`).require(add, 'mimeType');
      if (extension === undefined || mimeType === undefined) return undefined;
      return { key: extension.toLowerCase(), value: mimeType };
    },
    out: ctx.out.mimeMap,
  });
}

function readSecurity(element: XmlElement, ctx: ReadContext): void {
  // requestFiltering, and the parts of security-config.ts; other children are skipped.
  for (const child of element.children) {
    if (SECURITY_PARTS.has(child.name)) {
      ctx.out.security ??= newSecuritySection();
      readSecurityPart(child, ctx.file, ctx.out.security, ctx.out.errors);
      continue;
    }
    if (child.name !== 'requestFiltering') continue;
    const where = 'system.webServer/security/requestFiltering';
    checkSectionAttributes(child, REQUEST_FILTERING_ATTRIBUTES, ctx, where);
    ctx.out.requestFiltering ??= newRequestFilteringSection();
    readRequestFilteringAttributes(child, ctx.file, ctx.out.requestFiltering, ctx.out.errors);
    for (const part of child.children) {
      if (part.name !== 'hiddenSegments') {
        readRequestFilteringPart(part, ctx.file, ctx.out.requestFiltering, ctx.out.errors);
        continue;
      }
      reader(ctx, `${where}/hiddenSegments`).checkAttributes(part, HIDDEN_SEGMENTS_ATTRIBUTES);
      readCollection(part, ctx, `${where}/hiddenSegments`, {
        addName: 'add',
        addAttributes: SEGMENT_ATTRIBUTES,
        keyAttribute: 'segment',
        ignoredChildren: NO_NAMES,
        build: (add, c) => {
          const segment = reader(c, `${where}/hiddenSegments/add`).require(add, 'segment');
          return segment === undefined ? undefined : { key: segment.toLowerCase(), value: segment.toLowerCase() };
        },
        out: ctx.out.hiddenSegments,
      });
    }
  }
}

function readAppSettings(element: XmlElement, ctx: ReadContext): void {
  // `file` is accepted and ignored: iisnode never honoured it (tjanczuk/iisnode#341).
  checkSectionAttributes(element, APP_SETTINGS_ATTRIBUTES, ctx, 'appSettings');
  readCollection(element, ctx, 'appSettings', {
    addName: 'add',
    addAttributes: APP_SETTING_ADD_ATTRIBUTES,
    keyAttribute: 'key',
    ignoredChildren: NO_NAMES,
    build: (add, c) => {
      const key = reader(c, 'appSettings/add').require(add, 'key');
      if (key === undefined) return undefined;
      return { key: key.toLowerCase(), value: Object.freeze([key, add.attributes.get('value')?.value ?? ''] as const) };
    },
    out: ctx.out.appSettings,
  });
}

interface CollectionSpec<T> {
  /** Element name of an entry: `add`, or `mimeMap` in staticContent. */
  readonly addName: string;
  readonly addAttributes: ReadonlySet<string>;
  /** The attribute `<remove>` names the entry by. */
  readonly keyAttribute: string;
  /** Other children the section defines, read elsewhere. */
  readonly ignoredChildren: ReadonlySet<string>;
  readonly build: (element: XmlElement, ctx: ReadContext) => { key: string; value: T } | undefined;
  readonly out: CollectionOp<T>[];
}

function readCollection<T>(element: XmlElement, ctx: ReadContext, where: string, spec: CollectionSpec<T>): void {
  for (const child of element.children) {
    if (child.name === spec.addName) {
      reader(ctx, `${where}/${spec.addName}`).checkAttributes(child, spec.addAttributes);
      const entry = spec.build(child, ctx);
      if (entry) spec.out.push({ kind: 'add', key: entry.key, value: entry.value, source: position(ctx.file, child) });
    } else if (child.name === 'remove') {
      reader(ctx, `${where}/remove`).checkAttributes(child, new Set([spec.keyAttribute]));
      const key = reader(ctx, `${where}/remove`).require(child, spec.keyAttribute);
      if (key !== undefined) spec.out.push({ kind: 'remove', key: key.toLowerCase(), source: position(ctx.file, child) });
    } else if (child.name === 'clear') {
      reader(ctx, `${where}/clear`).checkAttributes(child, NO_ATTRIBUTES);
      spec.out.push({ kind: 'clear', source: position(ctx.file, child) });
    } else if (!spec.ignoredChildren.has(child.name)) {
      ctx.out.errors.push(unknownElement(ctx.file, child, where));
    }
  }
}

function rejectChildren(element: XmlElement, ctx: ReadContext, where: string): void {
  for (const child of element.children) ctx.out.errors.push(unknownElement(ctx.file, child, where));
}

/** Checks a section element: its own attributes, plus the configSource that nodehost cannot follow. */
function checkSectionAttributes(element: XmlElement, allowed: ReadonlySet<string>, ctx: ReadContext, where: string): void {
  const configSource = element.attributes.get('configSource');
  if (configSource) ctx.out.errors.push(unsupportedConfigSource(ctx.file, configSource, where));
  reader(ctx, where).checkAttributes(element, [...allowed, 'configSource']);
}

function reader(ctx: ReadContext, where: string): AttributeReader {
  return new AttributeReader(ctx.file, ctx.out.errors, where);
}

function unknownElement(file: string, element: XmlElement, where: string): NodehostError {
  return configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, element, `Unknown element <${element.name}> in ${where}`);
}

function unsupportedConfigSource(file: string, attribute: XmlAttribute, where: string): NodehostError {
  return configError(
    'NH_ERR_CONFIG_BAD_VALUE',
    file,
    attribute,
    `${where}: configSource="${attribute.value}" is not supported by nodehost; move the section into web.config`,
  );
}

const NO_ATTRIBUTES: ReadonlySet<string> = new Set();
const NO_NAMES: ReadonlySet<string> = new Set();
const LOCATION_ATTRIBUTES: ReadonlySet<string> = new Set(['path', 'overrideMode', 'allowOverride', 'inheritInChildApplications']);
const HANDLERS_ATTRIBUTES: ReadonlySet<string> = new Set(['accessPolicy']);
const HANDLER_ADD_ATTRIBUTES: ReadonlySet<string> = new Set([
  'name',
  'path',
  'verb',
  'modules',
  'scriptProcessor',
  'type',
  'resourceType',
  'requireAccess',
  'preCondition',
  'responseBufferLimit',
  'allowPathInfo',
]);
const RESOURCE_TYPES = ['File', 'Directory', 'Either', 'Unspecified'] as const;
const ACCESS_LEVELS = ['None', 'Read', 'Write', 'Script', 'Execute'] as const;
const DEFAULT_DOCUMENT_ATTRIBUTES: ReadonlySet<string> = new Set(['enabled']);
const VALUE_ATTRIBUTES: ReadonlySet<string> = new Set(['value']);
const STATIC_CONTENT_ATTRIBUTES: ReadonlySet<string> = new Set(['enableDocFooter', 'defaultDocFooter', 'isDocFooterFileName']);
const CLIENT_CACHE_NAMES: ReadonlySet<string> = new Set(['clientCache']);
const MIME_MAP_ATTRIBUTES: ReadonlySet<string> = new Set(['fileExtension', 'mimeType']);
const REQUEST_FILTERING_ATTRIBUTES: ReadonlySet<string> = new Set([
  'allowDoubleEscaping',
  'allowHighBitCharacters',
  'unescapeQueryString',
  'removeServerHeader',
]);
const HIDDEN_SEGMENTS_ATTRIBUTES: ReadonlySet<string> = new Set(['applyToWebDAV']);
const SEGMENT_ATTRIBUTES: ReadonlySet<string> = new Set(['segment']);
const APP_SETTINGS_ATTRIBUTES: ReadonlySet<string> = new Set(['file']);
const APP_SETTING_ADD_ATTRIBUTES: ReadonlySet<string> = new Set(['key', 'value']);

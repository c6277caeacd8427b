/**
 * `system.webServer/httpErrors` (spec/rewrite.md §2.5): which page answers an error, for whom.
 * The attributes inherit one by one; the `<error>` entries are a collection keyed by
 * statusCode and subStatusCode (collection-merge.ts: appended, `<remove>`, `<clear/>`, a repeated
 * key is 500.19). File paths are resolved against the folder of the web.config that declares
 * them; absolute paths are refused, as IIS refuses them in a site's web.config
 * (allowAbsolutePathsWhenDelegated is false there).
 */
import path from 'node:path';
import type { NodehostError } from '../errors.js';
import { mergeCollection, type CollectionOp, type Entry } from './collection-merge.js';
import type { HttpErrorPage, HttpErrorResponseMode, HttpErrorsConfig } from './types.js';
import { AttributeReader, configError, sourcePosition } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

/** HttpErrorsSection is what one configuration place declares (undefined attributes: inherited). */
export interface HttpErrorsSection {
  errorMode: HttpErrorsConfig['errorMode'] | undefined;
  existingResponse: HttpErrorsConfig['existingResponse'] | undefined;
  defaultResponseMode: HttpErrorResponseMode | undefined;
  /** defaultPath as written, with the folder it is relative to. */
  defaultPath: { readonly path: string; readonly folder: string } | undefined;
  readonly errors: CollectionOp<HttpErrorPage>[];
}

const WHERE = 'system.webServer/httpErrors';
const ERROR_MODES = ['DetailedLocalOnly', 'Custom', 'Detailed'] as const;
const EXISTING_RESPONSES = ['Auto', 'Replace', 'PassThrough'] as const;
const RESPONSE_MODES = ['File', 'ExecuteURL', 'Redirect'] as const;
const SECTION_ATTRIBUTES = [
  'errorMode',
  'existingResponse',
  'defaultResponseMode',
  'defaultPath',
  'detailedMoreInformationLink',
  'allowAbsolutePathsWhenDelegated',
  'configSource',
];
const ERROR_ATTRIBUTES = ['statusCode', 'subStatusCode', 'path', 'prefixLanguageFilePath', 'responseMode'];

/** newHttpErrorsSection returns a section that sets nothing. */
export function newHttpErrorsSection(): HttpErrorsSection {
  return { errorMode: undefined, existingResponse: undefined, defaultResponseMode: undefined, defaultPath: undefined, errors: [] };
}

/** readHttpErrors reads one `<httpErrors>` element of `file` into `out`; problems go to `errors` with file:line. */
export function readHttpErrors(element: XmlElement, file: string, out: HttpErrorsSection, errors: NodehostError[]): void {
  const r = new AttributeReader(file, errors, WHERE);
  r.checkAttributes(element, SECTION_ATTRIBUTES);
  if (element.attributes.has('configSource'))
    r.fail(element.attributes.get('configSource')!, `${WHERE}: configSource is not supported by nodehost; move the section into web.config`);
  const folder = path.dirname(file);
  if (element.attributes.has('errorMode')) out.errorMode = r.enumValue(element, 'errorMode', ERROR_MODES, 'DetailedLocalOnly');
  if (element.attributes.has('existingResponse')) out.existingResponse = r.enumValue(element, 'existingResponse', EXISTING_RESPONSES, 'Auto');
  if (element.attributes.has('defaultResponseMode')) out.defaultResponseMode = r.enumValue(element, 'defaultResponseMode', RESPONSE_MODES, 'File');
  // Validated only: nodehost's detailed page links nowhere, and absolute paths stay refused.
  r.bool(element, 'allowAbsolutePathsWhenDelegated', false);
  const defaultPath = element.attributes.get('defaultPath');
  if (defaultPath !== undefined && defaultPath.value.trim() !== '') out.defaultPath = { path: defaultPath.value.trim(), folder };
  for (const child of element.children) {
    if (child.name === 'clear') {
      r.checkAttributes(child, []);
      out.errors.push({ kind: 'clear', source: sourcePosition(file, child) });
    } else if (child.name === 'remove') {
      r.checkAttributes(child, ['statusCode', 'subStatusCode']);
      const status = r.uint(child, 'statusCode', undefined, 400, 999);
      if (status === undefined) {
        if (!child.attributes.has('statusCode')) r.missing(child, 'statusCode');
        continue;
      }
      out.errors.push({ kind: 'remove', key: errorKey(status, readSubStatus(r, child)), source: sourcePosition(file, child) });
    } else if (child.name === 'error') {
      r.checkAttributes(child, ERROR_ATTRIBUTES);
      const before = r.count;
      const status = r.uint(child, 'statusCode', undefined, 400, 999);
      if (status === undefined && !child.attributes.has('statusCode')) r.missing(child, 'statusCode');
      const subStatus = readSubStatus(r, child);
      const written = r.require(child, 'path');
      const mode = r.enumValue(child, 'responseMode', RESPONSE_MODES, 'File');
      const prefix = child.attributes.get('prefixLanguageFilePath')?.value.trim() ?? '';
      if (r.count > before || status === undefined || written === undefined) continue;
      const page = buildPage(status, subStatus, mode, written, prefix, folder, (message) => r.fail(child, `${WHERE}/error: ${message}`));
      if (page !== undefined)
        out.errors.push({
          kind: 'add',
          key: errorKey(status, subStatus),
          value: page,
          source: sourcePosition(file, child),
          written: subStatus === -1 ? String(status) : `${status}.${subStatus}`,
        });
    } else {
      errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${WHERE}`));
    }
  }
}

function readSubStatus(r: AttributeReader, element: XmlElement): number {
  const attribute = element.attributes.get('subStatusCode');
  if (attribute === undefined || attribute.value.trim() === '-1') return -1;
  return r.uint(element, 'subStatusCode', -1, 0, 999);
}

function errorKey(status: number, subStatus: number): string {
  return `${status}.${subStatus}`;
}

/** buildPage checks one page's path for its mode and resolves a file; undefined after reporting a problem. */
function buildPage(
  statusCode: number,
  subStatusCode: number,
  responseMode: HttpErrorResponseMode,
  written: string,
  prefix: string,
  folder: string,
  report: (message: string) => void,
): HttpErrorPage | undefined {
  if (responseMode === 'ExecuteURL' && !written.startsWith('/')) {
    report(`an ExecuteURL path must be a URL of the site starting with '/', not '${written}'`);
    return undefined;
  }
  if (responseMode !== 'File') return Object.freeze({ statusCode, subStatusCode, responseMode, path: written, file: '', languageRoot: '' });
  const relative = written.replace(/\\/g, '/');
  const relativePrefix = prefix.replace(/\\/g, '/');
  if (isAbsolute(relative) || (relativePrefix !== '' && isAbsolute(relativePrefix))) {
    report(
      `the File path '${prefix === '' ? written : prefix}' is absolute; a web.config may only name files relative to its own folder (IIS: allowAbsolutePathsWhenDelegated)`,
    );
    return undefined;
  }
  const languageRoot = relativePrefix === '' ? '' : path.resolve(folder, relativePrefix);
  return Object.freeze({
    statusCode,
    subStatusCode,
    responseMode,
    path: written,
    file: path.resolve(languageRoot === '' ? folder : languageRoot, relative),
    languageRoot,
  });
}

function isAbsolute(file: string): boolean {
  return file.startsWith('/') || /^[A-Za-z]:/.test(file) || file.includes('%');
}

/** HttpErrorsMerge is the httpErrors part of one level's merge state. */
export class HttpErrorsMerge {
  private errorMode: HttpErrorsConfig['errorMode'];
  private existingResponse: HttpErrorsConfig['existingResponse'];
  private defaultResponseMode: HttpErrorResponseMode;
  private defaultPath: { readonly path: string; readonly folder: string } | undefined;
  private pages: readonly Entry<HttpErrorPage>[];
  private frozen: HttpErrorsConfig | undefined;

  constructor(from?: HttpErrorsMerge) {
    this.errorMode = from?.errorMode ?? 'DetailedLocalOnly';
    this.existingResponse = from?.existingResponse ?? 'Auto';
    this.defaultResponseMode = from?.defaultResponseMode ?? 'File';
    this.defaultPath = from?.defaultPath;
    this.pages = from?.pages ?? [];
    this.frozen = from?.frozen;
  }

  apply(section: HttpErrorsSection, errors: NodehostError[]): void {
    this.frozen = undefined;
    this.errorMode = section.errorMode ?? this.errorMode;
    this.existingResponse = section.existingResponse ?? this.existingResponse;
    this.defaultResponseMode = section.defaultResponseMode ?? this.defaultResponseMode;
    this.defaultPath = section.defaultPath ?? this.defaultPath;
    this.pages = mergeCollection(this.pages, section.errors, { order: 'append', section: WHERE, keyName: 'statusCode' }, errors);
  }

  freeze(): HttpErrorsConfig {
    if (this.frozen !== undefined) return this.frozen;
    let defaultPage: HttpErrorPage | undefined;
    if (this.defaultPath !== undefined) {
      // A bad defaultPath (absolute, or a relative ExecuteURL) is left out rather than failing the site.
      defaultPage = buildPage(0, -1, this.defaultResponseMode, this.defaultPath.path, '', this.defaultPath.folder, () => undefined);
    }
    this.frozen = Object.freeze({
      errorMode: this.errorMode,
      existingResponse: this.existingResponse,
      defaultResponseMode: this.defaultResponseMode,
      defaultPage,
      errors: Object.freeze(this.pages.map((entry) => entry.value)),
    });
    return this.frozen;
  }
}

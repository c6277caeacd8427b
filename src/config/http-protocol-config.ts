/**
 * `system.webServer/httpProtocol` (spec/rewrite.md §2.9): `customHeaders`, added to every
 * response, and `redirectHeaders`, added to redirects only. Both are keyed by `name` and merge
 * like every IIS collection (collection-merge.ts): appended, `<remove>`, `<clear/>`, and an
 * inherited name added again is NH_ERR_CONFIG_DUPLICATE_KEY (500.19). The built-in base holds
 * `X-Powered-By: nodehost`, nodehost's stand-in for IIS's `X-Powered-By: ASP.NET`.
 */
import type { NodehostError } from '../errors.js';
import { mergeCollection, type CollectionOp, type Entry } from './collection-merge.js';
import type { CustomHeader, HttpProtocolConfig } from './types.js';
import { AttributeReader, configError, sourcePosition } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

/** HttpProtocolSection is what one configuration place declares. */
export interface HttpProtocolSection {
  readonly customHeaders: CollectionOp<CustomHeader>[];
  readonly redirectHeaders: CollectionOp<CustomHeader>[];
}

/** BASE_CUSTOM_HEADERS is the built-in customHeaders list, inherited by every site. */
export const BASE_CUSTOM_HEADERS: readonly CustomHeader[] = Object.freeze([Object.freeze({ name: 'X-Powered-By', value: 'nodehost' })]);

const WHERE = 'system.webServer/httpProtocol';
/** Characters a header value cannot carry (node refuses them; IIS strips CR/LF). */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/**
 * An RFC 9110 token (a header name). The hot path's check is http/http-token.ts; config/ sits
 * below http/ (imports flow down), so this load-time check keeps its own RegExp of the same set.
 */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** newHttpProtocolSection returns a section that declares nothing. */
export function newHttpProtocolSection(): HttpProtocolSection {
  return { customHeaders: [], redirectHeaders: [] };
}

/** readHttpProtocol reads one `<httpProtocol>` element into `out`; problems go to `errors` with file:line. */
export function readHttpProtocol(element: XmlElement, file: string, out: HttpProtocolSection, errors: NodehostError[]): void {
  const r = new AttributeReader(file, errors, WHERE);
  r.checkAttributes(element, ['allowKeepAlive', 'configSource']);
  // allowKeepAlive is validated only: nodehost keeps connections alive as node's rules allow.
  r.bool(element, 'allowKeepAlive', true);
  if (element.attributes.has('configSource'))
    r.fail(element.attributes.get('configSource')!, `${WHERE}: configSource is not supported by nodehost; move the section into web.config`);
  for (const child of element.children) {
    if (child.name === 'customHeaders') readHeaders(child, file, `${WHERE}/customHeaders`, out.customHeaders, errors);
    else if (child.name === 'redirectHeaders') readHeaders(child, file, `${WHERE}/redirectHeaders`, out.redirectHeaders, errors);
    else errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${WHERE}`));
  }
}

function readHeaders(element: XmlElement, file: string, where: string, into: CollectionOp<CustomHeader>[], errors: NodehostError[]): void {
  const r = new AttributeReader(file, errors, where);
  r.checkAttributes(element, []);
  for (const child of element.children) {
    if (child.name === 'clear') {
      r.checkAttributes(child, []);
      into.push({ kind: 'clear', source: sourcePosition(file, child) });
    } else if (child.name === 'remove') {
      r.checkAttributes(child, ['name']);
      const name = r.require(child, 'name');
      if (name !== undefined) into.push({ kind: 'remove', key: name.toLowerCase(), source: sourcePosition(file, child) });
    } else if (child.name === 'add') {
      r.checkAttributes(child, ['name', 'value']);
      const name = r.require(child, 'name');
      if (name === undefined) continue;
      const value = child.attributes.get('value')?.value ?? '';
      if (!TOKEN.test(name)) {
        r.fail(child.attributes.get('name')!, `${where}: '${name}' is not a valid header name`);
        continue;
      }
      if (INVALID_VALUE.test(value)) {
        r.fail(child.attributes.get('value')!, `${where}: the value of header '${name}' contains a line break or a control character`);
        continue;
      }
      into.push({ kind: 'add', key: name.toLowerCase(), value: Object.freeze({ name, value }), source: sourcePosition(file, child), written: name });
    } else {
      errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${where}`));
    }
  }
}

/** HttpProtocolMerge is the httpProtocol part of one level's merge state. */
export class HttpProtocolMerge {
  private customHeaders: readonly Entry<CustomHeader>[];
  private redirectHeaders: readonly Entry<CustomHeader>[];
  private frozen: HttpProtocolConfig | undefined;

  constructor(from?: HttpProtocolMerge) {
    this.customHeaders = from?.customHeaders ?? BASE_CUSTOM_HEADERS.map((header) => ({ key: header.name.toLowerCase(), value: header, source: undefined }));
    this.redirectHeaders = from?.redirectHeaders ?? [];
    this.frozen = from?.frozen;
  }

  apply(section: HttpProtocolSection, errors: NodehostError[]): void {
    if (section.customHeaders.length === 0 && section.redirectHeaders.length === 0) return;
    this.frozen = undefined;
    this.customHeaders = mergeCollection(
      this.customHeaders,
      section.customHeaders,
      { order: 'append', section: `${WHERE}/customHeaders`, keyName: 'name' },
      errors,
    );
    this.redirectHeaders = mergeCollection(
      this.redirectHeaders,
      section.redirectHeaders,
      { order: 'append', section: `${WHERE}/redirectHeaders`, keyName: 'name' },
      errors,
    );
  }

  freeze(): HttpProtocolConfig {
    this.frozen ??= Object.freeze({
      customHeaders: Object.freeze(this.customHeaders.map((entry) => entry.value)),
      customHeaderList: Object.freeze(this.customHeaders.flatMap((entry) => [entry.value.name, entry.value.value])),
      redirectHeaders: Object.freeze(this.redirectHeaders.map((entry) => entry.value)),
    });
    return this.frozen;
  }
}

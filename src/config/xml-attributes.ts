/**
 * The one reader of configuration XML attributes, used by every section reader (web-config.ts,
 * rewrite-config.ts, rewrite-compile.ts, request-filtering-config.ts, global-rules.ts): which
 * attributes every element may carry, how booleans, enumerations and integers are read, and
 * how a problem is reported with its file, line and column.
 *
 * Two wordings exist, one rule: the `config` wording (`Unknown attribute 'x' on element <e>
 * (system.webServer/...)`) names the section path, as IIS's 500.19 page does; the `rewrite`
 * wording prefixes the rule (`Rule 'R': The stopProcessing parameter 'yes' was not recognized`)
 * and follows the messages of ASP.NET Core's IISUrlRewrite parser (spec/rewrite.md §1.16),
 * which users of URL Rewrite search for.
 */
import { NodehostError, type ErrorCode, type SourcePosition } from '../errors.js';
import { UINT_MAX } from './schema.js';
import type { XmlAttribute, XmlElement } from './xml.js';

/**
 * GENERIC_ATTRIBUTES are the locking attributes the IIS configuration system allows on every
 * element. Only these five: an unknown `lockFoo` is a typo like any other.
 */
const GENERIC_ATTRIBUTES: ReadonlySet<string> = new Set(['lockAttributes', 'lockAllAttributesExcept', 'lockElements', 'lockAllElementsExcept', 'lockItem']);

/**
 * isGenericAttribute tells whether every configuration element may carry the attribute: the
 * locking attributes of the configuration system, namespace declarations, and
 * XML-Document-Transform (`xdt:`) markers left in files that were meant to be transformed.
 */
export function isGenericAttribute(name: string): boolean {
  return GENERIC_ATTRIBUTES.has(name) || name.startsWith('xdt:') || name === 'xmlns' || name.startsWith('xmlns:');
}

/** sourcePosition gives the position of an element or attribute in `file`. */
export function sourcePosition(file: string, at: XmlElement | XmlAttribute): SourcePosition {
  return { file, line: at.line, column: at.column };
}

/** configError builds a configuration error positioned at an element or attribute. */
export function configError(code: ErrorCode, file: string, at: XmlElement | XmlAttribute, message: string): NodehostError {
  return new NodehostError(code, message, { source: sourcePosition(file, at) });
}

/** AttributeWording picks the message style; see the file comment. */
export type AttributeWording = 'config' | 'rewrite';

/**
 * AttributeReader reads the attributes of the elements of one place (a section path, or one
 * rewrite rule) and pushes every problem to `errors`. Each typed read returns `fallback` when
 * the attribute is absent or its value is bad (the problem is then reported); it never throws.
 * `count` is the number of problems reported so far: a caller that must not build an entry
 * from a bad element compares it before and after.
 */
export class AttributeReader {
  readonly file: string;
  readonly errors: NodehostError[];
  /** The section path (`config` wording) or the message prefix such as `Rule 'R'` (`rewrite`). */
  readonly where: string;
  readonly wording: AttributeWording;
  /** The code of fail() when none is given. */
  readonly code: ErrorCode;
  count = 0;

  constructor(file: string, errors: NodehostError[], where: string, wording: AttributeWording = 'config', code: ErrorCode = 'NH_ERR_CONFIG_BAD_VALUE') {
    this.file = file;
    this.errors = errors;
    this.where = where;
    this.wording = wording;
    this.code = code;
  }

  /** fail reports a problem at an element or attribute; the `rewrite` wording prefixes `where`. */
  fail(at: XmlElement | XmlAttribute, message: string, code: ErrorCode = this.code): void {
    this.count++;
    this.errors.push(configError(code, this.file, at, this.wording === 'rewrite' ? `${this.where}: ${message}` : message));
  }

  /** checkAttributes reports every attribute of `element` that is neither allowed nor generic. */
  checkAttributes(element: XmlElement, allowed: ReadonlySet<string> | readonly string[]): void {
    const isAllowed = Array.isArray(allowed) ? (name: string) => allowed.includes(name) : (name: string) => (allowed as ReadonlySet<string>).has(name);
    for (const [name, attribute] of element.attributes) {
      if (isAllowed(name) || isGenericAttribute(name)) continue;
      if (this.wording === 'rewrite') this.fail(attribute, `unknown attribute '${name}' on <${element.name}>`, 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE');
      else this.fail(attribute, `Unknown attribute '${name}' on element <${element.name}> (${this.where})`, 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE');
    }
  }

  /** missing reports that `element` lacks the required attribute `name`. */
  missing(element: XmlElement, name: string): void {
    if (this.wording === 'rewrite') this.fail(element, `missing attribute '${name}' on <${element.name}>`, 'NH_ERR_CONFIG_MISSING_ATTRIBUTE');
    else this.fail(element, `Missing required attribute '${name}' on element <${element.name}> (${this.where})`, 'NH_ERR_CONFIG_MISSING_ATTRIBUTE');
  }

  /** require returns the value of a required attribute, or reports it missing and returns undefined. */
  require(element: XmlElement, name: string): string | undefined {
    const attribute = element.attributes.get(name);
    if (attribute) return attribute.value;
    this.missing(element, name);
    return undefined;
  }

  /** bool reads `true` or `false`, case-insensitively, surrounding blanks ignored. */
  bool<F extends boolean | undefined>(element: XmlElement, name: string, fallback: F): boolean | F {
    const attribute = element.attributes.get(name);
    if (!attribute) return fallback;
    const lower = attribute.value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    this.badValue(attribute, name, 'true or false');
    return fallback;
  }

  /** enumValue reads one of `values` case-insensitively and returns its canonical spelling. */
  enumValue<T extends string>(element: XmlElement, name: string, values: readonly T[], fallback: T): T {
    const attribute = element.attributes.get(name);
    if (!attribute) return fallback;
    const found = values.find((value) => value.toLowerCase() === attribute.value.trim().toLowerCase());
    if (found !== undefined) return found;
    this.badValue(attribute, name, this.wording === 'rewrite' ? values.join(', ') : `one of ${values.join(', ')}`);
    return fallback;
  }

  /** uint reads a decimal integer from `min` to `max` (by default any IIS uint), surrounding blanks ignored. */
  uint<F extends number | undefined>(element: XmlElement, name: string, fallback: F, min = 0, max = UINT_MAX): number | F {
    const attribute = element.attributes.get(name);
    if (!attribute) return fallback;
    const text = attribute.value.trim();
    const value = Number(text);
    if (/^[0-9]+$/.test(text) && value >= min && value <= max) return value;
    const range = min === 0 && max === UINT_MAX ? 'a non-negative integer' : `an integer from ${min} to ${max}`;
    this.fail(attribute, `${this.wording === 'rewrite' ? '' : `${this.where}: `}${name} must be ${range}, not '${attribute.value}'`, 'NH_ERR_CONFIG_BAD_VALUE');
    return fallback;
  }

  private badValue(attribute: XmlAttribute, name: string, expected: string): void {
    if (this.wording === 'rewrite')
      this.fail(attribute, `The ${name} parameter '${attribute.value}' was not recognized (${expected})`, 'NH_ERR_CONFIG_BAD_VALUE');
    else this.fail(attribute, `${this.where}: ${name} must be ${expected}, not '${attribute.value}'`, 'NH_ERR_CONFIG_BAD_VALUE');
  }
}

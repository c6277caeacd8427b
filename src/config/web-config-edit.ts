/**
 * Editing one attribute of a web.config in place, the way IIS's appcmd does, but keeping the
 * file as its author wrote it: comments, attribute order, quotes, indentation and line ends
 * stay; only the attribute's value changes, or one attribute or element is added.
 *
 * ```
 *   <configuration>                       target: system.webServer / iisnode @ nodeProcessCountPerApplication
 *     <system.webServer>                   ├─ the element exists, the attribute too:   its value is replaced
 *       <!-- two workers -->               ├─ the element exists, not the attribute:   ` name="value"` is added
 *       <iisnode loggingEnabled="false"/>  │    after the last attribute (on a line of its own when they are)
 *     </system.webServer>                  └─ the element is missing: it is added (with the missing parents)
 *   </configuration>                            as the first child of the deepest one found, indented like the file
 * ```
 *
 * Elements are found at the top level of `<configuration>` only (not inside `<location>`).
 */
import { NodehostError } from '../errors.js';
import { parseXml, type XmlElement } from './xml.js';

/** ConfigTarget names one attribute: the element path under `<configuration>` and the attribute. */
export interface ConfigTarget {
  readonly elements: readonly string[];
  readonly attribute: string;
}

/** FoundValue is an attribute's value as written (entities decoded) and its line. */
export interface FoundValue {
  readonly value: string;
  readonly line: number;
}

/** NEW_WEB_CONFIG is the text a folder without a web.config starts from. */
export const NEW_WEB_CONFIG = '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n</configuration>\n';

/** getConfigValue returns the attribute's value in `text`, or undefined when the file does not set it. Throws NH_ERR_CONFIG_XML when the file is not well-formed. */
export function getConfigValue(text: string, file: string, target: ConfigTarget): FoundValue | undefined {
  const chain = findChain(parseRoot(text, file), target.elements);
  if (chain.length <= target.elements.length) return undefined;
  const attribute = chain[chain.length - 1]!.attributes.get(target.attribute);
  return attribute === undefined ? undefined : { value: attribute.value, line: attribute.line };
}

/** setConfigValue returns `text` with the attribute set to `value` (see the diagram). Throws NH_ERR_CONFIG_XML or NH_ERR_CONFIG_EDIT. */
export function setConfigValue(text: string, file: string, target: ConfigTarget, value: string): string {
  const hasBom = text.charCodeAt(0) === 0xfeff;
  const source = hasBom ? text.slice(1) : text;
  const chain = findChain(parseRoot(source, file), target.elements);
  const eol = source.includes('\r\n') ? '\r\n' : '\n';
  const starts = lineStarts(source);
  const deepest = chain[chain.length - 1]!;
  const tag = scanStartTag(source, starts[deepest.line - 1]! + deepest.column - 1, file);
  let edited: string;
  if (chain.length > target.elements.length) {
    const existing = tag.attributes.find((a) => a.name === target.attribute);
    if (existing !== undefined) {
      edited = splice(source, existing.valueStart, existing.valueEnd, escapeAttribute(value, existing.quote));
    } else {
      const last = tag.attributes[tag.attributes.length - 1];
      const pair = `${target.attribute}="${escapeAttribute(value, '"')}"`;
      // Attributes one per line stay one per line.
      const isOnePerLine = last !== undefined && lineOf(starts, last.nameStart) !== lineOf(starts, tag.start);
      const at = last === undefined ? tag.nameEnd : last.valueEnd + 1;
      edited = splice(source, at, at, isOnePerLine ? `${eol}${indentAt(source, starts, last.nameStart)}${pair}` : ` ${pair}`);
    }
  } else {
    const unit = indentUnit(source);
    const parentIndent = indentAt(source, starts, tag.start);
    const missing = target.elements.slice(chain.length - 1);
    const lines: string[] = [];
    missing.forEach((name, depth) => {
      const indent = parentIndent + unit.repeat(depth + 1);
      const isLast = depth === missing.length - 1;
      lines.push(isLast ? `${indent}<${name} ${target.attribute}="${escapeAttribute(value, '"')}" />` : `${indent}<${name}>`);
    });
    for (let depth = missing.length - 2; depth >= 0; depth--) lines.push(`${parentIndent}${unit.repeat(depth + 1)}</${missing[depth]}>`);
    const block = lines.join(eol);
    edited = tag.isEmpty
      ? splice(source, tag.slashStart, tag.end + 1, `>${eol}${block}${eol}${parentIndent}</${deepest.name}>`)
      : splice(source, tag.end + 1, tag.end + 1, `${eol}${block}`);
  }
  return hasBom ? `\ufeff${edited}` : edited;
}

function parseRoot(text: string, file: string): XmlElement {
  const root = parseXml(text, file);
  if (root.name !== 'configuration') throw new NodehostError('NH_ERR_CONFIG_EDIT', `${file}: the root element is <${root.name}>, not <configuration>`);
  return root;
}

/** findChain returns the root and then each element of the path that exists, stopping at the first missing one. */
function findChain(root: XmlElement, path: readonly string[]): XmlElement[] {
  const chain = [root];
  for (const name of path) {
    const next = chain[chain.length - 1]!.children.find((child) => child.name === name);
    if (next === undefined) break;
    chain.push(next);
  }
  return chain;
}

interface ScannedAttribute {
  readonly name: string;
  readonly nameStart: number;
  readonly valueStart: number;
  /** Offset of the closing quote. */
  readonly valueEnd: number;
  readonly quote: '"' | "'";
}

interface StartTag {
  readonly start: number;
  readonly nameEnd: number;
  readonly attributes: readonly ScannedAttribute[];
  /** Offset of the `>` that ends the tag; for `/>`, `slashStart` is the white space before the `/`. */
  readonly end: number;
  readonly isEmpty: boolean;
  readonly slashStart: number;
}

/** scanStartTag reads the start tag whose `<` is at `start` (the document is well-formed: saxes said so). */
function scanStartTag(text: string, start: number, file: string): StartTag {
  let at = start + 1;
  while (at < text.length && !/[\s/>]/.test(text[at]!)) at++;
  const nameEnd = at;
  const attributes: ScannedAttribute[] = [];
  for (;;) {
    const beforeSpace = at;
    while (at < text.length && /\s/.test(text[at]!)) at++;
    if (text[at] === '/' && text[at + 1] === '>') return { start, nameEnd, attributes, end: at + 1, isEmpty: true, slashStart: beforeSpace };
    if (text[at] === '>') return { start, nameEnd, attributes, end: at, isEmpty: false, slashStart: at };
    const nameStart = at;
    while (at < text.length && !/[\s=]/.test(text[at]!)) at++;
    const name = text.slice(nameStart, at);
    while (at < text.length && text[at] !== '"' && text[at] !== "'") at++;
    const quote = text[at] as '"' | "'";
    const valueEnd = text.indexOf(quote, at + 1);
    if (valueEnd < 0) throw new NodehostError('NH_ERR_CONFIG_EDIT', `${file}: cannot read the attributes of the element at offset ${start}`);
    attributes.push({ name, nameStart, valueStart: at + 1, valueEnd, quote });
    at = valueEnd + 1;
  }
}

function escapeAttribute(value: string, quote: '"' | "'"): string {
  const text = value.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
  return quote === '"' ? text.replaceAll('"', '&quot;') : text.replaceAll("'", '&apos;');
}

function splice(text: string, from: number, to: number, insert: string): string {
  return text.slice(0, from) + insert + text.slice(to);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let line = 0;
  while (line + 1 < starts.length && starts[line + 1]! <= offset) line++;
  return line;
}

/** indentAt is the white space that starts the line holding `offset`. */
function indentAt(text: string, starts: readonly number[], offset: number): string {
  const from = starts[lineOf(starts, offset)]!;
  return /^[ \t]*/.exec(text.slice(from))![0];
}

/** indentUnit guesses one level of the file's indentation: a tab, or the smallest run of spaces that starts a line (2 when none). */
function indentUnit(text: string): string {
  let smallest = 0;
  for (const match of text.matchAll(/\n([ \t]+)</g)) {
    const indent = match[1]!;
    if (indent.startsWith('\t')) return '\t';
    if (smallest === 0 || indent.length < smallest) smallest = indent.length;
  }
  return ' '.repeat(smallest || 2);
}

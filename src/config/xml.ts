/**
 * A small XML element tree for web.config files, built with saxes, where every element and
 * attribute knows its line and column so that configuration errors can name them.
 */
import { SaxesParser } from 'saxes';
import { NodehostError } from '../errors.js';

/** XmlAttribute is one attribute value (entities already decoded) and where its name starts. */
export interface XmlAttribute {
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

/** XmlElement is one element: its name as written, attributes in document order, child elements. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, XmlAttribute>;
  readonly children: readonly XmlElement[];
  /** Line (1-based) and column (1-based) of the element's `<`. */
  readonly line: number;
  readonly column: number;
}

interface MutableElement {
  name: string;
  attributes: Map<string, XmlAttribute>;
  children: MutableElement[];
  line: number;
  column: number;
}

/**
 * parseXml parses a whole document and returns its root element. Text, comments, processing
 * instructions and the XML declaration are dropped. A document that is not well-formed throws
 * NodehostError NH_ERR_CONFIG_XML whose source is the file and the line of the first error.
 */
export function parseXml(text: string, file: string): XmlElement {
  // A UTF-8 byte order mark survives decoding as U+FEFF; editors on Windows write it often.
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = lineStarts(source);
  const parser = new SaxesParser({ position: true });
  const stack: MutableElement[] = [];
  let root: MutableElement | undefined;
  let pendingAttributes = new Map<string, XmlAttribute>();
  let firstError: NodehostError | undefined;

  parser.on('opentagstart', (tag) => {
    // The parser has just read the name (and the character that ended it): find its `<`.
    const at = locate(lines, Math.max(0, source.lastIndexOf(`<${tag.name}`, parser.position)));
    pendingAttributes = new Map();
    const element: MutableElement = { name: tag.name, attributes: pendingAttributes, children: [], line: at.line, column: at.column };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else if (root === undefined) root = element;
    stack.push(element);
  });
  parser.on('attribute', (attribute) => {
    const at = locate(lines, attributeNameOffset(source, attribute.name, parser.position));
    pendingAttributes.set(attribute.name, { value: attribute.value, line: at.line, column: at.column });
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('error', (err) => {
    if (firstError === undefined) {
      firstError = new NodehostError('NH_ERR_CONFIG_XML', `Not well-formed XML: ${stripPosition(err.message)}`, {
        cause: err,
        source: { file, line: parser.line, column: parser.column + 1 },
      });
    }
  });

  try {
    parser.write(source).close();
  } catch (err) {
    // saxes reports through the error handler; this only catches a failure inside saxes itself.
    firstError ??= new NodehostError('NH_ERR_CONFIG_XML', `The XML parser failed: ${String(err)}`, {
      cause: err,
      source: { file, line: parser.line },
    });
  }
  if (firstError) throw firstError;
  if (root === undefined) {
    throw new NodehostError('NH_ERR_CONFIG_XML', 'The file has no root element', { source: { file, line: 1 } });
  }
  return root;
}

/**
 * The `attribute` event fires after the closing quote, so the name is found by looking back
 * for the last `name =` before that point (the value itself may contain the name).
 */
function attributeNameOffset(text: string, name: string, end: number): number {
  let from = end;
  while (from >= 0) {
    const at = text.lastIndexOf(name, from);
    if (at < 0) break;
    if (/^[ \t\r\n]*=/.test(text.slice(at + name.length, at + name.length + 64)) && /[ \t\r\n]/.test(text.charAt(at - 1))) return at;
    from = at - 1;
  }
  return end;
}

// saxes prefixes its messages with `line:column: `; the NodehostError carries the position itself.
function stripPosition(message: string): string {
  return message.replace(/^\d+:\d+: /, '');
}

/** Offsets at which each line starts; `\r\n`, `\r` and `\n` each end a line, as in XML. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (c === 10) {
      starts.push(i + 1);
    }
  }
  return starts;
}

function locate(starts: number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - (starts[low] ?? 0) + 1 };
}

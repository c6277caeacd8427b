/**
 * The URL Rewrite expression ("substitution string") parser, spec/rewrite.md §1.8:
 *
 *   expr := ( literal | "{" ref "}" )*
 *   ref  := "R:" DIGIT | "C:" DIGIT | VARNAME | FUNC ":" expr | MAPNAME ":" expr
 *
 * There is no escape character: a literal `{` is written `{UrlDecode:%7B}`; a `}` that closes
 * nothing at the top level is a literal. Names are case-insensitive; a name before `:` is a
 * function first, then a rewrite map; anything else is an error.
 */
import type { Expr, ExprNode, FunctionName, RewriteMap } from './rewrite-types.js';

/** ExpressionError is a syntax error in an expression; `index` is where it was found. */
export class ExpressionError extends Error {
  readonly index: number;
  constructor(message: string, index: number) {
    super(message);
    this.name = 'ExpressionError';
    this.index = index;
  }
}

/** MapResolver finds a rewrite map visible to the expression by name (case-insensitive). */
export type MapResolver = (name: string) => RewriteMap | undefined;

const FUNCTIONS: ReadonlyMap<string, FunctionName> = new Map([
  ['tolower', 'ToLower'],
  ['urlencode', 'UrlEncode'],
  ['urldecode', 'UrlDecode'],
  ['escapedatastring', 'EscapeDataString'],
  ['htmlencode', 'HtmlEncode'],
]);

const VARIABLE_NAME = /^[A-Za-z0-9_\-.]+$/;

/**
 * parseExpression parses `text` into an Expr. It throws ExpressionError for an unterminated
 * `{`, an empty or malformed reference, a back-reference index that is not one digit, or a
 * `name:` that is neither a function nor a map `resolveMap` knows.
 */
export function parseExpression(text: string, resolveMap: MapResolver): Expr {
  const parser = new Parser(text, resolveMap);
  const nodes = parser.parseSequence(false);
  return makeExpr(text, nodes);
}

/** constantExpr is an Expr for a fixed string (no parsing). */
export function constantExpr(text: string): Expr {
  return makeExpr(text, text === '' ? [] : [{ kind: 'text', text }]);
}

function makeExpr(source: string, nodes: ExprNode[]): Expr {
  const isConstant = nodes.every((node) => node.kind === 'text');
  return Object.freeze({
    source,
    nodes: Object.freeze(nodes),
    constant: isConstant ? nodes.map((node) => (node as { text: string }).text).join('') : undefined,
  });
}

class Parser {
  readonly #text: string;
  readonly #resolveMap: MapResolver;
  #at = 0;

  constructor(text: string, resolveMap: MapResolver) {
    this.#text = text;
    this.#resolveMap = resolveMap;
  }

  /** Parses until the end (top level) or the `}` that closes a nested expression (consumed). */
  parseSequence(isNested: boolean): ExprNode[] {
    const text = this.#text;
    const nodes: ExprNode[] = [];
    let literal = '';
    while (this.#at < text.length) {
      const ch = text[this.#at]!;
      if (ch === '{') {
        if (literal !== '') nodes.push({ kind: 'text', text: literal });
        literal = '';
        nodes.push(this.#parseReference());
        continue;
      }
      if (ch === '}' && isNested) {
        this.#at++;
        if (literal !== '') nodes.push({ kind: 'text', text: literal });
        return nodes;
      }
      literal += ch;
      this.#at++;
    }
    if (isNested) throw new ExpressionError(`Missing close brace at string index ${text.length}`, text.length);
    if (literal !== '') nodes.push({ kind: 'text', text: literal });
    return nodes;
  }

  #parseReference(): ExprNode {
    const text = this.#text;
    const open = this.#at;
    this.#at++;
    let end = this.#at;
    while (end < text.length && text[end] !== ':' && text[end] !== '}' && text[end] !== '{') end++;
    if (end >= text.length || text[end] === '{') throw new ExpressionError(`Missing close brace for the reference at string index ${open}`, open);
    const name = text.slice(this.#at, end);
    if (text[end] === '}') {
      if (!VARIABLE_NAME.test(name)) throw new ExpressionError(`'{${name}}' at string index ${open} is not a server variable name`, open);
      this.#at = end + 1;
      return { kind: 'var', name: name.toUpperCase() };
    }
    // `name:` followed by an argument.
    this.#at = end + 1;
    const lower = name.toLowerCase();
    if (lower === 'r' || lower === 'c') {
      const digit = text[this.#at];
      if (digit === undefined || digit < '0' || digit > '9' || text[this.#at + 1] !== '}') {
        throw new ExpressionError(`Back-reference {${name}:...} at string index ${open} must be one digit 0-9`, open);
      }
      this.#at += 2;
      return { kind: lower === 'r' ? 'rule' : 'cond', index: digit.charCodeAt(0) - 48 };
    }
    if (name === '') throw new ExpressionError(`Empty function or map name at string index ${open}`, open);
    const fn = FUNCTIONS.get(lower);
    const map = fn === undefined ? this.#resolveMap(name) : undefined;
    if (fn === undefined && map === undefined) {
      throw new ExpressionError(
        `'${name}' at string index ${open} is neither a function (ToLower, UrlEncode, UrlDecode, EscapeDataString, HtmlEncode) nor a rewrite map in scope`,
        open,
      );
    }
    const argNodes = this.parseSequence(true);
    const arg = makeExpr(text.slice(end + 1, this.#at - 1), argNodes);
    return fn !== undefined ? { kind: 'func', fn, arg } : { kind: 'map', map: map!, arg };
  }
}

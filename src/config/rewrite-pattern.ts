/**
 * compilePattern turns a rule or condition pattern into a CompiledPattern (spec/rewrite.md §1.5):
 * - ECMAScript: a JS RegExp (no `u` flag; `i` when ignoreCase), searched, not anchored; one
 *   that is plain text with optional `^`/`$` anchors also gets a LiteralPattern, which the
 *   rules check with string compares instead (same matches, same captures), and `.*` or `(.*)`
 *   is matched by a scan for a line terminator;
 * - Wildcard: `*` captures any run (slashes included), `?` matches one character without
 *   capturing, everything else is literal, the whole input must match;
 * - ExactMatch: whole-string equality for inbound input (substring search in outbound bodies).
 */
import type { CompiledPattern, LiteralPattern, PatternSyntax } from './rewrite-types.js';
import { wildcardToRegex } from './wildcard-to-regex.js';

/** The patterns that match any text up to a line terminator, and whether they capture it (CompiledPattern.anyText). */
const ANY_TEXT: ReadonlyMap<string, 'whole' | 'group'> = new Map([
  ['.*', 'whole'],
  ['^.*', 'whole'],
  ['(.*)', 'group'],
  ['^(.*)', 'group'],
]);

/** compilePattern compiles a pattern; it throws a SyntaxError for an invalid regular expression. */
export function compilePattern(source: string, syntax: PatternSyntax, ignoreCase: boolean, negate: boolean): CompiledPattern {
  let regex: RegExp | undefined;
  if (syntax === 'ECMAScript') {
    // .NET inline options such as (?i) are not ECMAScript: the RegExp constructor rejects them,
    // which is the configuration error spec §1.5 asks for.
    regex = new RegExp(source, ignoreCase ? 'i' : '');
  } else if (syntax === 'Wildcard') {
    regex = new RegExp(wildcardToRegex(source), ignoreCase ? 'is' : 's');
  }
  return Object.freeze({
    source,
    syntax,
    regex,
    exact: syntax === 'ExactMatch' && ignoreCase ? source.toLowerCase() : source,
    literal: syntax === 'ECMAScript' ? literalOf(source, ignoreCase) : undefined,
    anyText: syntax === 'ECMAScript' ? ANY_TEXT.get(source) : undefined,
    prefix: syntax === 'ECMAScript' ? requiredPrefixOf(source, ignoreCase) : undefined,
    ignoreCase,
    negate,
  });
}

/** Characters with a meaning in a RegExp; any other character, or one escaped by `\`, is itself. */
const SPECIAL = new Set('\\^$.|?*+()[]{}'.split(''));

/**
 * literalOf returns the plain-text form of an ECMAScript pattern, or undefined when it is not
 * plain text: an optional leading `^`, characters that are not special or are escaped
 * punctuation (`\.`, `\/`; `\d` and the like are classes, not text), an optional trailing `$`.
 * With ignoreCase, text with non-ASCII characters stays a RegExp (its case folding differs
 * from toLowerCase there).
 */
export function literalOf(source: string, ignoreCase: boolean): LiteralPattern | undefined {
  let at = 0;
  const end = source.length;
  const isStart = source.startsWith('^');
  if (isStart) at = 1;
  let isEnd = false;
  let text = '';
  while (at < end) {
    const ch = source[at]!;
    if (ch === '$' && at === end - 1) {
      isEnd = true;
      break;
    }
    if (ch === '\\') {
      const next = source[at + 1];
      if (next === undefined || /[0-9A-Za-z]/.test(next)) return undefined;
      text += next;
      at += 2;
      continue;
    }
    if (SPECIAL.has(ch)) return undefined;
    text += ch;
    at++;
  }
  if (ignoreCase) {
    if (/[^\x00-\x7f]/.test(text)) return undefined;
    text = text.toLowerCase();
  }
  return Object.freeze({ kind: isStart ? (isEnd ? 'exact' : 'prefix') : isEnd ? 'suffix' : 'contains', text });
}

/** Characters that make the one before them optional or repeated. */
const QUANTIFIERS = new Set(['?', '*', '+', '{']);

/**
 * requiredPrefixOf returns the plain text an ECMAScript pattern's matches must start with
 * (CompiledPattern.prefix), or undefined: the pattern starts with `^`, has no `|` anywhere
 * (an alternative could need no prefix), and the text runs to the first special character or
 * class escape; a character followed by a quantifier is not required, so it is left out.
 */
export function requiredPrefixOf(source: string, ignoreCase: boolean): string | undefined {
  if (!source.startsWith('^') || source.includes('|')) return undefined;
  let text = '';
  let at = 1;
  while (at < source.length) {
    const ch = source[at]!;
    if (ch === '\\') {
      const next = source[at + 1];
      if (next === undefined || /[0-9A-Za-z]/.test(next)) break;
      if (QUANTIFIERS.has(source[at + 2] ?? '')) break;
      text += next;
      at += 2;
      continue;
    }
    // A character made optional or repeated by a quantifier after it is not required.
    if (SPECIAL.has(ch) || QUANTIFIERS.has(source[at + 1] ?? '')) break;
    text += ch;
    at++;
  }
  if (text === '') return undefined;
  if (ignoreCase) {
    if (/[^\x00-\x7f]/.test(text)) return undefined;
    text = text.toLowerCase();
  }
  return text;
}

/**
 * compilePattern turns a rule or condition pattern into a CompiledPattern (spec/rewrite.md §1.5):
 * - ECMAScript: a JS RegExp (no `u` flag; `i` when ignoreCase), searched, not anchored;
 * - Wildcard: `*` captures any run (slashes included), `?` matches one character without
 *   capturing, everything else is literal, the whole input must match;
 * - ExactMatch: whole-string equality for inbound input (substring search in outbound bodies).
 */
import type { CompiledPattern, PatternSyntax } from './rewrite-types.js';
import { wildcardToRegex } from './wildcard-to-regex.js';

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
    ignoreCase,
    negate,
  });
}

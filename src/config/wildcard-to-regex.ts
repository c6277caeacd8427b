/**
 * wildcardToRegex converts an IIS wildcard pattern into the source of an anchored regular
 * expression: each `*` becomes a capturing `(.*)`, each `?` a non-capturing `.`, every other
 * character is escaped, so the whole input must match. Compile it with the `s` flag (a `*`
 * spans line breaks, as in {@link wildcardMatch}) and `i` when case is ignored. Used where a
 * pattern is compiled once: URL Rewrite's Wildcard syntax (whose `*` captures are `{R:n}`)
 * and watchedFiles names (case-sensitive, as Linux file names are). Never throws.
 */
export function wildcardToRegex(pattern: string): string {
  let out = '^';
  for (const ch of pattern) {
    if (ch === '*') out += '(.*)';
    else if (ch === '?') out += '.';
    else out += ch.replace(/[\\^$.|+()[\]{}/-]/g, '\\$&');
  }
  return out + '$';
}

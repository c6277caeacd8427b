/**
 * wildcardMatch tells whether `text` matches the IIS wildcard `pattern` as a whole (anchored at
 * both ends), ignoring case: `*` matches any run of characters (`/` included, possibly empty),
 * `?` exactly one, every other character itself. It is the handler-mapping `path` syntax,
 * used per request by the handler-mapping module and by `nodehost check`, which must agree
 * with it. It compiles nothing and captures nothing; where captures are needed (URL Rewrite's
 * Wildcard syntax, whose `*` runs become `{R:n}`) or a pattern is compiled once and tested
 * many times (watchedFiles), {@link wildcardToRegex} gives the same syntax as a regular
 * expression. Linear in practice (one backtracking point), never throws.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.length === text.length && pattern.toLowerCase() === text.toLowerCase();
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star !== -1) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

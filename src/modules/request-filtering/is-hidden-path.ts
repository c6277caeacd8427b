/**
 * The hidden-segment check of request filtering (spec/rewrite.md 2.6), as a pure function so
 * the engine can run it again on a rewritten URL.
 */

/**
 * ALWAYS_HIDDEN_SEGMENTS are lower-case names nodehost refuses in any segment of a URL, whatever
 * the configuration says: a `<remove segment>` cannot un-hide them, because they hold
 * configuration, secrets or server-side code of the site (web.config, the iisnode.yml
 * overrides, installed packages). Dot-segments are hidden too; see isHiddenPath.
 */
export const ALWAYS_HIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['web.config', 'iisnode.yml', 'node_modules']);

/**
 * isHiddenPath tells whether any segment of `path` (a decoded URL path such as ctx.path)
 * equals, case-insensitively, a name of `hiddenSegments` (lower-case, as FolderConfig keeps
 * them) or of ALWAYS_HIDDEN_SEGMENTS, or starts with '.'. Segments are compared whole:
 * `bin` hides `/a/bin/x` but not `/binaries/x`. It does no I/O and builds no arrays.
 */
export function isHiddenPath(path: string, hiddenSegments: ReadonlySet<string>): boolean {
  let start = 0;
  const length = path.length;
  while (start <= length) {
    let end = path.indexOf('/', start);
    if (end === -1) end = length;
    if (end > start && isHiddenSegment(path.slice(start, end), hiddenSegments)) return true;
    start = end + 1;
  }
  return false;
}

function isHiddenSegment(segment: string, hiddenSegments: ReadonlySet<string>): boolean {
  // Dot-segments hold what Unix tools keep out of sight: .git, .env, .npmrc, .ssh, and
  // '.'/'..' should a path ever arrive unnormalised. One exception: `.well-known` (RFC 8615)
  // is where ACME challenges, security.txt and similar files must be reachable. It is matched
  // in its registered lower-case spelling only, since on Linux `.Well-Known` names another
  // folder and nothing requires it to be public.
  if (segment.charCodeAt(0) === 0x2e /* . */ && segment !== '.well-known') return true;
  const lower = segment.toLowerCase();
  return ALWAYS_HIDDEN_SEGMENTS.has(lower) || hiddenSegments.has(lower);
}

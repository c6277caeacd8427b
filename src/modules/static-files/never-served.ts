/**
 * The static handler's own never-serve list: names whose content is configuration, secrets
 * or server-side code of the site, which the static file handler refuses whatever the
 * configuration and the rewrite rules say. It is not request filtering: request filtering
 * (hiddenSegments) runs before URL Rewrite with IIS's defaults, so on a Kudu site
 * `/node_modules/...` still reaches the rules and node, as on IIS (docs/security.md).
 */

/**
 * NEVER_SERVED_SEGMENTS are the lower-case segment names the static handler never serves a
 * file from or below: web.config, the iisnode.yml overrides and installed packages.
 * Dot-segments are never served either; see isNeverServed.
 */
export const NEVER_SERVED_SEGMENTS: ReadonlySet<string> = new Set(['web.config', 'iisnode.yml', 'node_modules']);

/**
 * isNeverServed tells whether any segment of `path` (a decoded URL path such as ctx.path, or
 * a bare file name) equals, case-insensitively, a name of NEVER_SERVED_SEGMENTS, or starts
 * with '.' (other than `.well-known`). Segments are compared whole: `/node_modules_old/x`
 * passes. It does no I/O and builds no arrays.
 */
export function isNeverServed(path: string): boolean {
  let start = 0;
  const length = path.length;
  while (start <= length) {
    let end = path.indexOf('/', start);
    if (end === -1) end = length;
    if (end > start && isNeverServedSegment(path.slice(start, end))) return true;
    start = end + 1;
  }
  return false;
}

function isNeverServedSegment(segment: string): boolean {
  // Dot-segments hold what Unix tools keep out of sight: .git, .env, .npmrc, .ssh, and
  // '.'/'..' should a path ever arrive unnormalised. One exception: `.well-known` (RFC 8615)
  // is where ACME challenges, security.txt and similar files must be reachable. It is matched
  // in its registered lower-case spelling only, since on Linux `.Well-Known` names another
  // folder and nothing requires it to be public.
  if (segment.charCodeAt(0) === 0x2e /* . */) return segment !== '.well-known';
  // Compared case-insensitively although Linux names are case-sensitive: `Node_Modules` is
  // as private as `node_modules`, and sites copied from Windows mix spellings.
  return NEVER_SERVED_SEGMENTS.has(segment.toLowerCase());
}

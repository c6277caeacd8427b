/**
 * The hidden-segment check of request filtering (spec/rewrite.md 2.6), as a pure function so
 * the engine can run it again on a rewritten URL. It applies the configured list only (IIS's
 * defaults, then each level's `<add>`, `<remove>` and `<clear/>`), as IIS does: names nodehost
 * refuses whatever the configuration says (node_modules, iisnode.yml, dot-files) are the
 * static handler's own never-serve list (static-files/never-served.ts), so that rewrite rules
 * can still hand such URLs to node, as Kudu's web.config does.
 */

/**
 * isHiddenPath tells whether any segment of `path` (a decoded URL path such as ctx.path)
 * equals, case-insensitively, a name of `hiddenSegments` (lower-case, as FolderConfig keeps
 * them). Segments are compared whole: `bin` hides `/a/bin/x` but not `/binaries/x`. It does
 * no I/O and builds no arrays.
 */
export function isHiddenPath(path: string, hiddenSegments: ReadonlySet<string>): boolean {
  if (hiddenSegments.size === 0) return false;
  let start = 0;
  const length = path.length;
  while (start <= length) {
    let end = path.indexOf('/', start);
    if (end === -1) end = length;
    if (end > start && hiddenSegments.has(path.slice(start, end).toLowerCase())) return true;
    start = end + 1;
  }
  return false;
}

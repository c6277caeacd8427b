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
  const lengths = lengthsOf(hiddenSegments);
  let start = 0;
  const length = path.length;
  while (start <= length) {
    let end = path.indexOf('/', start);
    if (end === -1) end = length;
    if (end > start && mayBeHidden(path, start, end, lengths) && hiddenSegments.has(path.slice(start, end).toLowerCase())) return true;
    start = end + 1;
  }
  return false;
}

/**
 * mayBeHidden tells whether the segment path[start, end) needs the set lookup: some hidden name
 * has its length, or it is not ASCII (lower-casing U+0130 makes a segment longer). A segment of
 * another length cannot equal a hidden name once lower-cased, so the slice, the lower-casing and
 * the hashing are spared.
 */
function mayBeHidden(path: string, start: number, end: number, lengths: number): boolean {
  if ((lengths & lengthBit(end - start)) !== 0) return true;
  for (let i = start; i < end; i++) if (path.charCodeAt(i) > 127) return true;
  return false;
}

/** lengthBit is the bit of a name length in a length mask: one bit per length below 30, bit 30 for all longer ones. */
function lengthBit(length: number): number {
  return 1 << Math.min(length, 30);
}

/** The set whose length mask was computed last, and that mask: a site's list is one frozen set, asked about on every request. */
let maskedSet: ReadonlySet<string> | undefined;
let maskedLengths = 0;

function lengthsOf(hiddenSegments: ReadonlySet<string>): number {
  if (hiddenSegments !== maskedSet) {
    let lengths = 0;
    for (const name of hiddenSegments) lengths |= lengthBit(name.length);
    maskedSet = hiddenSegments;
    maskedLengths = lengths;
  }
  return maskedLengths;
}

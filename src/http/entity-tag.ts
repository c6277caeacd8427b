/**
 * Entity-tag comparison (RFC 9110 8.8.3.2), for the conditional requests of every handler that
 * knows a response's ETag: the static file handler and the output cache.
 */

/**
 * matchesEntityTag tells whether a header listing entity tags (or `*`) names `etag`, a tag's
 * opaque part with its quotes (a strong tag; without its `W/` for a weak one). Strong comparison rejects weak tags; weak comparison ignores `W/`. It
 * scans the list in place: opaque tags may contain commas, so splitting on ',' would be wrong.
 * A malformed list stops the scan with no match.
 */
export function matchesEntityTag(header: string, etag: string, isStrong: boolean): boolean {
  const length = header.length;
  let i = 0;
  while (i < length) {
    const ch = header.charCodeAt(i);
    if (ch === 0x20 || ch === 0x09 || ch === 0x2c) {
      // space, tab, comma
      i++;
      continue;
    }
    if (ch === 0x2a) return true; // '*': any current representation, and the file exists
    let isWeak = false;
    if (ch === 0x57 && header.charCodeAt(i + 1) === 0x2f) {
      // 'W/'
      isWeak = true;
      i += 2;
    }
    if (header.charCodeAt(i) !== 0x22) return false; // not a quoted tag
    const close = header.indexOf('"', i + 1);
    if (close === -1) return false;
    if (!(isWeak && isStrong) && close + 1 - i === etag.length && header.startsWith(etag, i)) return true;
    i = close + 1;
  }
  return false;
}

/**
 * httpDate gives the current time as an HTTP date (IMF-fixdate, RFC 9110 5.6.7, e.g.
 * `Sun, 06 Nov 1994 08:49:37 GMT`) for a `Date` header. The text is formatted at most once per
 * second and shared by every response within it, as node's own server does; it is never more
 * than a second old. For a given time (a file's Last-Modified) use `new Date(ms).toUTCString()`.
 */
export function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedText = new Date(second * 1000).toUTCString();
  }
  return cachedText;
}

/** The second (since the epoch) whose text is cached, and that text. */
let cachedSecond = -1;
let cachedText = '';

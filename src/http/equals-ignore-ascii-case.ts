/**
 * equalsIgnoreAsciiCase tells whether `text` equals `lower` (which must be in lower case)
 * ignoring ASCII case, as header names compare (RFC 9110 §5.1). A loop that stops at the first
 * difference instead of `text.toLowerCase() === lower`: V8's toLowerCase makes a new string for
 * every name with a capital letter (`Content-Length`), and the hot path compares several names
 * per request.
 */
export function equalsIgnoreAsciiCase(text: string, lower: string): boolean {
  const length = lower.length;
  if (text.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    const l = lower.charCodeAt(i);
    // Only a letter may differ by case: `c | 0x20` would also fold other bytes together.
    if (c !== l && ((c | 0x20) !== l || l < 0x61 || l > 0x7a)) return false;
  }
  return true;
}

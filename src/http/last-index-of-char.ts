/**
 * lastIndexOfChar is `text.lastIndexOf(character)` for one UTF-16 code unit (`code`), written as
 * a loop: String.prototype.lastIndexOf is a runtime builtin in V8, and its call costs more than
 * scanning the short paths the hot path asks about. -1 when `text` has none.
 */
export function lastIndexOfChar(text: string, code: number): number {
  for (let i = text.length - 1; i >= 0; i--) if (text.charCodeAt(i) === code) return i;
  return -1;
}

/**
 * Editing one key of an iisnode.yml in place (spec/iisnode.md 1.3): the last line that sets the
 * key (the one that wins) gets the new value, keeping its indentation, the spacing around the
 * colon and a trailing `# comment`; a key the file does not set is appended as `key: value`.
 * Every other line stays as it was.
 */

/** YML_LINE splits a line into the part up to the value, the value, and the rest (trailing spaces and a comment). */
const YML_LINE = /^( *([^ :#]+) *: *)([^#]*?)( *(?:#.*)?)$/;

/** findYmlValue returns the value and line of the last line that sets `key` (case-insensitive), or undefined. */
export function findYmlValue(text: string, key: string): { value: string; line: number } | undefined {
  const rows = text.split(/\r\n|\r|\n/);
  for (let index = rows.length - 1; index >= 0; index--) {
    const match = YML_LINE.exec(rows[index]!);
    if (match !== null && match[2]!.toLowerCase() === key.toLowerCase() && match[3] !== '') return { value: match[3]!, line: index + 1 };
  }
  return undefined;
}

/** setYmlValue returns `text` with `key` set to `value` (one line; a value cannot hold `#`, which starts a comment). */
export function setYmlValue(text: string, key: string, value: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const rows = text.split(/\r\n|\n/);
  const found = findYmlValue(text, key);
  if (found !== undefined) {
    const index = found.line - 1;
    rows[index] = rows[index]!.replace(YML_LINE, (_all, head: string, _key: string, _value: string, rest: string) => `${head}${value}${rest}`);
    return rows.join(eol);
  }
  const body = text === '' || text.endsWith('\n') ? text : `${text}${eol}`;
  return `${body}${key}: ${value}${eol}`;
}
